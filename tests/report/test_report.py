"""Reports without a browser: CSV and JSON content, HTML structure and escaping."""

from __future__ import annotations

import csv
import html.parser
import io
import json
import math
import re

import pytest
from support import report_cases as cases

from sparkexp.report import embed_json, html_payload, to_csv, to_html, to_json
from sparkexp.result import Result
from sparkexp.trial import Trial


def _embedded(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m, "no report-data block"
    return json.loads(m.group(1))


class _Parts(html.parser.HTMLParser):
    """What an HTML parser sees: tags, script elements and their text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._text = dict(attrs), ""

    def handle_data(self, data):
        if self._in_script is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, self._text))
            self._in_script = None


# -- CSV -------------------------------------------------------------------------------------
def test_csv_has_one_row_per_trial_with_param_columns():
    res = cases.mixed()
    rows = list(csv.DictReader(io.StringIO(to_csv(res))))
    assert len(rows) == 40
    assert list(rows[0])[:4] == ["id", "index", "status", "metric"]
    assert {"param.lr", "param.batch_size", "param.optimizer", "param.dropout", "param.use_bn", "error"} <= set(rows[0])
    by_id = {r["id"]: r for r in rows}
    assert by_id["trial_00003"]["status"] == "error"
    assert by_id["trial_00003"]["metric"] == ""  # None is an empty cell
    assert by_id["trial_00003"]["error"] == cases.TRACEBACK  # multi-line text survives quoting
    assert by_id["trial_00002"]["param.optimizer"] == cases.INJECTION
    assert float(by_id["trial_00000"]["param.lr"]) == res.trials[0].params["lr"]  # full precision


def test_csv_of_no_trials_is_empty_and_writes_to_a_path(tmp_path):
    out = tmp_path / "trials.csv"
    text = to_csv(cases.empty(), out)
    assert out.read_text() == text
    assert text.splitlines()[0].startswith("id,index,status,metric")
    assert len(text.splitlines()) == 1


def test_csv_writes_lists_as_json():
    res = Result("/x/e_1", [Trial("trial_00000", 0, {"layers": [64, 32]}, status="complete", metric=1.0)])
    row = next(csv.DictReader(io.StringIO(to_csv(res))))
    assert json.loads(row["param.layers"]) == [64, 32]


# -- JSON ------------------------------------------------------------------------------------
def test_json_has_settings_summary_best_and_every_trial(tmp_path):
    res = cases.mixed()
    out = tmp_path / "r.json"
    doc = json.loads(to_json(res, str(out)))
    assert json.loads(out.read_text()) == doc
    assert doc["experiment"] == {"name": "mnist_3", "path": "/proj/Experiments/mnist_3", "state": "finished",
                                 "direction": "max", "metric": "accuracy"}
    assert doc["settings"]["strategy"] == "random"
    assert doc["summary"]["by_status"] == {"complete": 30, "error": 4, "timeout": 1, "stopped": 3, "running": 2}
    assert doc["summary"]["trials"] == 40
    assert doc["best"]["id"] == res.best.id == doc["summary"]["best_id"]
    assert doc["best"]["metric"] == max(t.metric for t in res.completed)
    assert [t["id"] for t in doc["trials"]] == [t.id for t in res.trials]
    assert doc["trials"][3]["error"] == cases.TRACEBACK
    assert Trial.from_dict(doc["trials"][5]) == res.trials[5]


def test_json_is_strict_even_with_non_finite_numbers():
    res = Result("/x/e_1", [Trial("trial_00000", 0, {"x": math.inf}, status="complete", metric=math.nan)])
    text = to_json(res)
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["trials"][0]["params"]["x"] == "inf"
    assert doc["best"] is not None or doc["summary"]["best_id"] is None


def test_json_without_trials_has_no_best():
    doc = json.loads(to_json(cases.empty()))
    assert doc["best"] is None and doc["trials"] == [] and doc["summary"]["by_status"] == {}


# -- what the HTML report draws --------------------------------------------------------------
def test_payload_classifies_params():
    params = {p["name"]: p for p in html_payload(cases.mixed())["params"]}
    assert (params["lr"]["kind"], params["lr"]["log"]) == ("numeric", True)
    assert (params["batch_size"]["kind"], params["batch_size"]["log"]) == ("numeric", False)
    assert (params["dropout"]["kind"], params["dropout"]["log"]) == ("numeric", False)
    assert params["optimizer"]["categories"] == sorted(["adam", "sgd", cases.INJECTION])
    assert params["use_bn"] == {"name": "use_bn", "kind": "categorical", "log": False, "categories": ["False", "True"]}


def test_payload_rows_and_best():
    res = cases.mixed()
    data = html_payload(res)
    assert len(data["trials"]) == 40
    assert data["trials"][data["best"]]["id"] == res.best.id
    assert data["outputs"] == ["loss"]  # "accuracy" is the metric itself
    dropout = [p["name"] for p in data["params"]].index("dropout")
    assert data["trials"][5]["params"][dropout] is None  # a missing numeric value
    assert data["trials"][3]["metric"] is None


def test_payload_drops_non_finite_metrics():
    res = Result("/x/e_1", [Trial("trial_00000", 0, {"x": 1}, status="complete", metric=math.inf)])
    assert html_payload(res)["trials"][0]["metric"] is None


# -- HTML structure and escaping -------------------------------------------------------------
def test_html_is_one_self_contained_file(tmp_path):
    out = tmp_path / "report.html"
    page = to_html(cases.mixed(), out)
    assert out.read_text(encoding="utf-8") == page
    parts = _Parts()
    parts.feed(page)
    tags = [t for t, _ in parts.tags]
    assert tags.count("script") == 5  # error recorder, data, uPlot, shared charts, renderer
    assert not [a for t, a in parts.tags if t in ("script", "link", "img", "iframe") and (a.get("src") or a.get("href"))]
    # no URL to fetch anywhere, except the SVG namespace name and uPlot's banner comment
    assert sorted(set(re.findall(r"https?://[^\s\"'<>]+", page))) == [
        "http://www.w3.org/2000/svg", "https://github.com/leeoniya/uPlot"]
    assert "/*! https://github.com/leeoniya/uPlot (v1.6.32) */" in page
    sections = [a.get("id") for t, a in parts.tags if t == "section"]
    # "pareto" stays hidden unless the experiment has several objectives
    assert sections == ["summary", "pareto", "progress", "parallel", "effects", "curves", "timeline",
                        "trials", "lineage", "failures", "settings"]


def test_html_csp_allows_only_its_own_scripts():
    import base64
    import hashlib

    page = to_html(cases.mixed())
    parts = _Parts()
    parts.feed(page)
    csp = next(a["content"] for t, a in parts.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    for attrs, text in parts.scripts:
        if attrs.get("type") == "application/json":
            continue
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_html_embeds_data_that_cannot_break_out_of_its_script():
    res = cases.mixed()
    page = to_html(res)
    parts = _Parts()
    parts.feed(page)
    # an HTML parser sees exactly five scripts, so "</script>" in the data did not end one early
    assert len(parts.scripts) == 5
    data = json.loads(parts.scripts[1][1])
    assert data == _embedded(page) == json.loads(json.dumps(html_payload(res)))
    assert cases.INJECTION in data["params"][2]["categories"]
    assert data["trials"][3]["error"] == cases.TRACEBACK
    # no user string appears raw anywhere in the page
    assert "<script>window.__pwned" not in page
    assert "</script><script>" not in page


def test_html_escapes_the_name_in_the_title():
    res = Result("/x/<i onmouseover=x>&_1", [])
    page = to_html(res)
    assert "<title>Experiment &lt;i onmouseover=x&gt;&amp;_1</title>" in page
    assert '<h1 id="title">Experiment &lt;i onmouseover=x&gt;&amp;_1</h1>' in page
    assert "<i onmouseover" not in page


def test_embed_json_escapes_what_html_cares_about():
    text = embed_json({"a": "</script><!-- & \u2028"})
    assert not set("<>&") & set(text) and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_markers_in_data_are_not_substituted():
    res = Result("/x/e_1", [Trial("trial_00000", 0, {"x": "@@SCRIPT@@ @@DATA@@"}, status="complete", metric=1.0)])
    page = to_html(res)
    assert _embedded(page)["params"][0]["categories"] == ["@@SCRIPT@@ @@DATA@@"]


@pytest.mark.parametrize("make", [cases.empty, cases.all_failed, cases.single])
def test_html_for_edge_cases(make):
    res = make()
    data = _embedded(to_html(res))
    assert len(data["trials"]) == len(res.trials)
    assert (data["best"] is None) == (res.best is None)


def test_html_for_10000_trials_stays_compact():
    page = to_html(cases.big())
    assert len(_embedded(page)["trials"]) == 10_000
    assert len(page) < 4_000_000
