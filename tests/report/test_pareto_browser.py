"""The report of a several-objective experiment, rendered in real headless Chromium."""

from __future__ import annotations

import pytest

from sparkexp.report import to_html
from sparkexp.result import Result
from sparkexp.trial import Trial

pytestmark = pytest.mark.browser

READY = "document.documentElement.getAttribute('data-report-ready') !== null"


def _result() -> Result:
    points = [(0.9, 30.0, None), (0.8, 10.0, None), (0.7, 20.0, None), (0.95, 5.0, [2.0]),
              (0.6, 8.0, None)]
    trials = []
    for i, (acc, ms, violation) in enumerate(points):
        params = {"model": "tree", "depth": i + 2} if i % 2 == 0 else {"model": "svm"}
        trials.append(Trial(f"trial_{i:05d}", i, params, status="complete", metric=acc,
                            outputs={"accuracy": acc, "latency": ms}, constraints=violation or [-1.0]))
    manifest = {"objectives": [{"metric": "accuracy", "direction": "max"},
                               {"metric": "latency", "direction": "min"}], "strategy": "random"}
    return Result("/tmp/pareto_1", trials, direction="max", metric="accuracy", manifest=manifest)


def test_pareto_section_shows_the_feasible_front(browser, tmp_path):
    res = _result()
    assert [t.index for t in res.pareto_front] == [0, 1, 4]  # trial 3 dominates but is infeasible
    path = tmp_path / "report.html"
    to_html(res, path)
    page = browser.new_page()
    page.goto(path.as_uri(), READY)
    assert page.evaluate("document.documentElement.getAttribute('data-report-ready')") == "1"
    assert page.evaluate("document.getElementById('pareto').hidden") is False
    assert page.evaluate("document.querySelector('svg.pareto').getAttribute('data-front')") == "3"
    ids = page.evaluate("Array.from(document.querySelectorAll('#pareto-table tbody tr'))"
                        ".map(function (r) { return r.getAttribute('data-id'); })")
    assert ids == ["trial_00000", "trial_00001", "trial_00004"]
    # an absent parameter is an empty cell, never "None"
    cells = page.evaluate("Array.from(document.querySelectorAll('#pareto-table tbody tr')[1]"
                          ".querySelectorAll('td')).map(function (c) { return c.textContent; })")
    assert cells[-1] == "" and "None" not in cells
    assert "Several objectives" in page.evaluate("document.getElementById('summary').textContent")
    assert page.problems() == []
    browser.close_page(page)
