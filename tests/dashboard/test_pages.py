"""The dashboard's pages in a real headless Chromium, over a real ``sparkexp serve`` process.

Every page is checked for console errors, uncaught exceptions and requests that leave the
server. Screenshots go to ``$SPARKEXP_SCREENSHOTS`` when set (docs/ keeps the ones
docs/dashboard.md shows), else the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import pytest
from support.chromium_cdp import Page
from support.dashboard_jobs import slow_learner
from support.dashboard_server import DashboardProcess, http

from sparkexp import experiment
from sparkexp.store import ExperimentStore

pytestmark = pytest.mark.browser

READY = "document.documentElement.dataset.ready === '1'"


def _shot(page: Page, tmp_path, name: str) -> None:
    directory = os.environ.get("SPARKEXP_SCREENSHOTS") or str(tmp_path)
    os.makedirs(directory, exist_ok=True)
    page.screenshot(os.path.join(directory, f"{name}.png"))
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)


@pytest.fixture
def open_page(browser) -> Iterator:
    pages: list[tuple[Page, str]] = []

    def _open(url: str, base: str, ready: str = READY) -> Page:
        page = browser.new_page()
        pages.append((page, base))
        page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        page.load_seconds = page.goto(url, ready)  # type: ignore[attr-defined]
        return page

    yield _open
    for page, base in pages:
        try:
            assert page.problems() == [], "console errors, exceptions or failed requests"
            assert [u for u in page.requests() if not u.startswith(base) and not u.startswith("data:")] == [], \
                "the dashboard must not fetch anything from elsewhere"
        finally:
            browser.close_page(page)


def test_experiments_page_lists_filters_and_links(server, project, open_page, tmp_path):
    page = open_page(server.url, server.base)
    assert page.evaluate("location.search") == ""  # the token left the address bar
    rows = page.wait_for("document.querySelectorAll('#experiment-table tbody tr[data-id]').length === 2 && "
                         "[...document.querySelectorAll('#experiment-table tbody tr')].map(r => r.innerText)")
    grid = next(r for r in rows if r.startswith("\tgrid_1") or "grid_1" in r.split("\t")[1])
    assert "finished" in grid and "6/6" in grid
    _shot(page, tmp_path, "dashboard-experiments")
    page.evaluate("(function(){var s=document.getElementById('exp-filter'); s.value='other'; s.dispatchEvent(new Event('input'));})()")
    page.wait_for("document.querySelector('#experiment-table').dataset.shown === '1'")
    assert page.evaluate("document.querySelector('#experiment-table tbody tr').dataset.id") == "other_1"
    page.evaluate("(function(){var s=document.getElementById('exp-filter'); s.value=''; s.dispatchEvent(new Event('input'));})()")
    page.wait_for("document.querySelector('#experiment-table').dataset.shown === '2'")
    # pick both and compare
    page.click('#experiment-table input[data-id="grid_1"]')
    page.click('#experiment-table input[data-id="other_1"]')
    assert page.evaluate("document.getElementById('compare-selected').disabled") is False
    page.click("#compare-selected")
    page.wait_for("location.pathname === '/compare' && !!document.querySelector('#compare-table')")
    seen = page.evaluate("""({heads: [...document.querySelectorAll('#compare-table thead th')].map(t => t.textContent),
      series: +document.querySelector('#compare-chart .curves').dataset.series,
      canvas: document.querySelectorAll('#compare-chart canvas').length,
      best: [...document.querySelectorAll('#compare-table tr[data-key="best"] td')].map(t => t.textContent)})""")
    assert seen["heads"] == ["", "grid_1", "other_1"] and seen["series"] == 2 and seen["canvas"] == 1
    best_grid = max(t.metric for t in project[1].completed)
    assert seen["best"][1].startswith(f"{best_grid:g}") or float(seen["best"][1].split()[0]) == pytest.approx(best_grid, rel=1e-4)
    _shot(page, tmp_path, "dashboard-compare")


def test_experiment_page_draws_every_chart_and_shows_failures_and_logs(server, project, open_page, tmp_path):
    _, res = project
    page = open_page(server.url.replace("/?token", "/experiments/grid_1?token"), server.base,
                     READY + " && !!document.querySelector('#trial-table') && !!document.documentElement.dataset.charts")
    # the learning curves follow their own fetch of the trials' reports; a pass of the charts
    # started by a later poll redraws sections one task at a time: wait until both are there
    page.wait_for("!!document.querySelector('#curves .curves') && !!document.querySelector('#progress svg')")
    seen = page.evaluate("""(function(){var q = s => document.querySelectorAll(s);
      return {rows: q('#trial-table tbody tr').length, pc: q('#parallel svg.pc polyline').length,
        effects: q('#effects svg.effect').length, progress: +document.querySelector('#progress svg').dataset.points,
        bars: q('#timeline svg.timeline rect.bar').length, curves: +document.querySelector('#curves .curves').dataset.series,
        canvas: q('#curves canvas').length, failures: q('#failure-list details.failure').length,
        tiles: [...q('#summary .tile')].map(t => t.innerText.replace(/\\s+/g, ' ').trim()),
        retry: document.getElementById('action-retry').disabled, kill: document.getElementById('action-kill').disabled};})()""")
    assert seen["rows"] == 6 and seen["pc"] == 2 and seen["progress"] == 2 and seen["effects"] == 3
    assert seen["bars"] == 6 and seen["failures"] == 4
    assert seen["curves"] == 2 and seen["canvas"] == 1  # the best trials' reports (uPlot)
    assert seen["tiles"][:3] == ["TRIALS 6", "ERROR 4", "COMPLETE 2"] or seen["tiles"][:3] == ["TRIALS 6", "COMPLETE 2", "ERROR 4"]
    assert seen["retry"] is False and seen["kill"] is True  # finished, with failures: retry, not kill
    # filter by status in the table
    page.evaluate("(function(){var s=document.getElementById('status-filter'); s.value='error'; s.dispatchEvent(new Event('change'));})()")
    assert page.evaluate("document.querySelector('#trial-table').dataset.shown") == "4"
    # open a failed trial: its traceback and its logs
    failed = next(t for t in res.trials if t.status == "error")
    page.click(f'#trial-table tr[data-id="{failed.id}"]')
    page.wait_for(f"document.querySelector('#trial-panel').dataset.id === '{failed.id}' && "
                  "document.querySelector('#log-stdout').dataset.bytes")
    page.wait_for(f"[...document.querySelectorAll('#curve-trials button')].some(b => b.dataset.id === '{failed.id}')")
    panel = page.evaluate("""({error: document.getElementById('trial-error').textContent,
      stdout: document.getElementById('log-stdout').textContent,
      chips: [...document.querySelectorAll('#curve-trials button')].map(b => b.dataset.id)})""")
    assert "ValueError: diverged" in panel["error"] and "Traceback" in panel["error"]
    assert f"training lr={failed.params['lr']} layers={failed.params['layers']}" in panel["stdout"]
    assert failed.id in panel["chips"]  # picked for the learning curves
    page.wait_for("+document.querySelector('#curves .curves').dataset.series === 3")
    _shot(page, tmp_path, "dashboard-experiment")
    # the trial's TensorBoard: started on demand, a link to a real TensorBoard over the experiment
    page.click("#open-tensorboard")
    url = page.wait_for("(document.getElementById('tensorboard-link') || {}).href", 120)
    assert url.startswith("http://127.0.0.1:") and page.evaluate("document.getElementById('trial-tensorboard').textContent").endswith(f"(run {failed.id})")
    code, _, body = http(url + "data/runs")
    assert code == 200 and failed.id in json.loads(body)


def _journal_results(path: str) -> int:
    return sum(1 for t in ExperimentStore(path).load_trials() if t.done)


def test_a_running_experiment_updates_live_and_is_killed_from_the_page(spark, tmp_path, open_page, browser):
    root = str(tmp_path / "live-project")
    os.makedirs(root)
    done: dict = {}
    with DashboardProcess.start(root) as proc:
        page = open_page(proc.url, proc.base)
        assert page.evaluate("document.querySelectorAll('#experiment-table tbody tr[data-id]').length") == 0

        def run() -> None:
            done["result"] = experiment.grid_search(
                spark, slow_learner, {"lr": [0.1 * k for k in range(1, 13)], "pause": [0.5]}, root=root,
                name="live", metric="accuracy", max_parallel=2, progress=False)

        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        # the experiments page shows the new experiment running, without a reload
        page.wait_for("!!document.querySelector('#experiment-table tr[data-id=\"live_1\"][data-state=\"running\"]')", 120)
        page.goto(proc.base + "/experiments/live_1", READY + " && !!document.querySelector('#trial-table')")
        path = os.path.join(root, "Experiments", "live_1")
        # each finished trial reaches the page within 2 s of reaching the journal
        lags: list[float] = []
        seen_journal: dict[int, float] = {}
        shown = 0
        deadline = time.monotonic() + 120
        while len(lags) < 3 and time.monotonic() < deadline:
            n = _journal_results(path)
            now = time.monotonic()
            for k in range(1, n + 1):
                seen_journal.setdefault(k, now)
            on_page = page.evaluate("+((document.querySelector('#summary .tile[data-status=\"complete\"] .v') || {}).textContent || 0)")
            for k in range(shown + 1, on_page + 1):
                if k in seen_journal:
                    lags.append(now - seen_journal[k])
            shown = max(shown, on_page)
            time.sleep(0.1)
        print("page lag behind the journal (s):", [round(x, 2) for x in lags])
        assert len(lags) >= 3 and max(lags) < 2.5, lags
        assert int(page.evaluate("document.documentElement.dataset.updates")) >= 3
        # a running trial: its logs follow while it runs, its learning curve grows (the one
        # started last, so that under load it has not printed every line before the pane opens)
        running = page.wait_for("[...document.querySelectorAll('#trial-table tbody tr .badge.running')]"
                                ".map(b => b.closest('tr').dataset.id).sort().pop()", 30)
        page.click(f'#trial-table tr[data-id="{running}"]')
        first = page.wait_for("(document.getElementById('log-stdout') || {}).textContent", 30)
        page.wait_for(f"document.getElementById('log-stdout').textContent.length > {len(first)}", 30)
        assert page.evaluate("document.getElementById('log-stdout').textContent").startswith("step 0 lr=")
        page.wait_for(f"[...document.querySelectorAll('#curve-trials button')].some(b => b.dataset.id === '{running}')")
        _shot(page, tmp_path, "dashboard-live")
        # kill it from the page (the confirmation dialog is answered yes)
        assert page.evaluate("document.getElementById('action-kill').disabled") is False
        page.evaluate("window.confirm = function () { return true; }")
        page.click("#action-kill")
        page.wait_for("document.documentElement.dataset.state === 'killed'", 60)
        runner.join(60)
        assert not runner.is_alive()
        res = done["result"]
        assert res.state == "killed" and json.load(open(os.path.join(path, "experiment.json")))["state"] == "killed"
        assert len(res.completed) < 12
        page.wait_for("document.getElementById('action-kill').disabled === true", 10)
