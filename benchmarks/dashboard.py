"""Dashboard at scale: a synthetic 10,000-trial experiment, a real ``sparkexp serve`` process,
real HTTP and a real headless Chromium.

The experiment is written through sparkexp's own store (manifest, journal events in the
driver's order: trial, start, 5 reports, result) by ``tests/support/synthetic.py``; no Spark.
Reported:

- API answer times (median and max over ``--repeat`` requests, after the server folded the
  journal once): the experiments list, the experiment, the trial list filtered by status, the
  charts' full view and its delta, one trial's metadata stream and logs;
- the first answer (the server folding the whole journal) and the time until 500 trials
  appended to the journal while it serves show up in the API and its event stream says so;
- the experiment page in headless Chromium: seconds until it is interactive (summary and
  trial table drawn, ``data-ready``) and until every chart is drawn (``data-charts``), and a
  click on the table's sort header answered; and the time until 100 trials appended to the
  journal show on the open page (pushed: the page reads the API when the stream says so).

    python benchmarks/dashboard.py                 # 10,000 trials, 20 requests per endpoint
    python benchmarks/dashboard.py --quick         # 10,000 trials, 5 requests per endpoint
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
from _common import machine  # noqa: E402
from support.chromium_cdp import Chromium  # noqa: E402
from support.dashboard_server import DashboardProcess  # noqa: E402
from support.sse import EventStream  # noqa: E402
from support.synthetic import write_experiment  # noqa: E402


def timed(server: DashboardProcess, path: str) -> float:
    start = time.perf_counter()
    status, _, _ = server.request(path)
    elapsed = time.perf_counter() - start
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 requests per endpoint")
    args = parser.parse_args()
    repeat = 5 if args.quick else args.repeat
    print(machine())
    root = tempfile.mkdtemp(prefix="sparkexp-bench-dashboard-")
    try:
        run(root, args.trials, repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # 14 MiB per run otherwise
    print(machine())


def new_trials(first: int, n: int) -> list[dict[str, Any]]:
    return [{"e": "trial", "id": f"trial_{first + i:05d}", "index": first + i,
             "params": {"lr": 0.01, "layers": 2, "optimizer": "adam", "dropout": 0.1}} for i in range(n)]


def run(root: str, trials: int, repeat: int) -> None:
    start = time.perf_counter()
    path = write_experiment(root, "synthetic", trials=trials)
    size = os.path.getsize(os.path.join(path, "journal.jsonl"))
    print(f"wrote {trials} trials through ExperimentStore in {time.perf_counter() - start:.1f} s "
          f"(journal {size / 2**20:.1f} MiB)")
    exp = "/api/experiments/synthetic_1"
    with DashboardProcess.start(root) as server:
        first = timed(server, "/api/experiments")
        print(f"first answer (the server folds the whole journal): {first * 1000:.0f} ms")
        view = server.get(exp + "/view")
        endpoints = {
            "experiments list": "/api/experiments",
            "one experiment": exp,
            "trials ?status=error": exp + "/trials?status=error",
            "trials (all 10,000)": exp + "/trials",
            "view (full payload)": exp + "/view",
            "view delta (?since)": f"{exp}/view?since={view['cursor']}&spec={view['spec']}",
            "trial metadata": exp + "/trials/trial_04242/metadata",
            "trial logs": exp + "/trials/trial_04242/logs?stream=stdout",
        }
        print(f"{'endpoint':24} {'median ms':>10} {'max ms':>8}")
        for name, url in endpoints.items():
            times = [timed(server, url) for _ in range(repeat)]
            print(f"{name:24} {statistics.median(times) * 1000:10.1f} {max(times) * 1000:8.1f}")
        # the journal grows while the server runs: only the new lines are read
        from sparkexp.store import ExperimentStore

        store = ExperimentStore(path)
        n0 = trials
        with EventStream(server.base, exp + "/events", server.token) as stream:
            stream.next(timeout=60)  # the version the stream starts from
            appended = time.monotonic()
            store.append_events(new_trials(n0, 500))
            pushed = stream.next(timeout=60).arrived - appended
            while server.get(exp)["trials"] < n0 + 500:
                time.sleep(0.02)
            seen = time.monotonic() - appended
        print(f"500 trials appended to the journal: event on the stream after {pushed:.2f} s, visible in the "
              f"API after {seen:.2f} s (the server re-reads an experiment at most every 0.4 s)")
        delta = [timed(server, f"{exp}/view?since={view['cursor']}&spec={view['spec']}") for _ in range(repeat)]
        print(f"view delta with 500 new trials: median {statistics.median(delta) * 1000:.1f} ms")
        with Chromium.launch() as browser:
            page = browser.new_page()
            page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
            page.goto(server.url, "document.documentElement.dataset.ready === '1'")  # sets the cookie
            loads, charts, sorts = [], [], []
            for _ in range(min(repeat, 5)):
                started = time.perf_counter()
                loads.append(page.goto(server.base + "/experiments/synthetic_1",
                                       "document.documentElement.dataset.ready === '1' && !!document.querySelector('#trial-table tbody tr')"))
                page.wait_for("!!document.documentElement.dataset.charts", 120)
                charts.append(time.perf_counter() - started)
                clicked = time.perf_counter()
                page.click('#trial-table th[data-key="metric"] button')
                page.wait_for("document.querySelector('#trial-table th[data-key=\"metric\"]').getAttribute('aria-sort') !== 'none'")
                sorts.append(time.perf_counter() - clicked)
            rows = page.evaluate("+document.documentElement.dataset.trials")
            live = page.evaluate("document.documentElement.dataset.live")
            appended = time.monotonic()
            store.append_events(new_trials(n0 + 500, 100))
            page.wait_for(f"+document.documentElement.dataset.trials >= {rows + 100}", 60)
            shown = time.monotonic() - appended
            problems = page.problems()
        print(f"experiment page, {rows} trials: interactive in {statistics.median(loads):.2f} s (median of {len(loads)}, "
              f"max {max(loads):.2f}); every chart drawn {statistics.median(charts):.2f} s; "
              f"sort click answered {statistics.median(sorts) * 1000:.0f} ms")
        print(f"100 trials appended to the journal shown on the open page after {shown:.2f} s (page kept live by {live})")
        print(f"console problems: {problems or 'none'}")


if __name__ == "__main__":
    main()
