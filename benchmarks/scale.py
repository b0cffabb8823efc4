"""Driver cost at scale: planning and recording a 100,000-point grid, and a 10,000-trial
experiment on local Spark.

Part 1, no Spark: the driver's own bookkeeping for a grid of ``--grid`` points, on the real
code path: ``GridSearch.ask(1)`` per trial (as the runner asks), a ``Trial`` with its
``trial``/``start``/``result`` journal events handed to the background ``Recorder`` one trial
at a time (group commit; it writes ``journal.jsonl`` and every ``trial_NNNNN/trial.json``),
then ``results.parquet``, then reading the experiment back with ``sparkexp.load``. Timed in
one pass (RSS growth measured), then run again under ``tracemalloc`` for the Python heap peak.

Part 2, local[2]: ``grid_search`` of zero-length trials at 1k, 2k, 5k and 10k trials (one
experiment each): wall per trial, marginal cost per extra trial, driver RSS growth, and,
inside the largest run, the time per trial in each successive tenth (flat = no slow-down as
the experiment grows).

    python benchmarks/scale.py                     # 100k grid; 1k..10k trials on Spark
    python benchmarks/scale.py --quick             # 20k grid; 500..2k trials
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, peak_rss_mib, reset_peak_rss, rss_mib, session  # noqa: E402


def zero(a: int, b: int) -> int:
    return a + b


def record_grid(n: int, root: str) -> dict[str, float]:
    """Plan and record an n-point grid the way the runner does; seconds per phase."""
    from sparkexp.journal import JournalEvent, TrialFinished, TrialProposed, TrialStarted, record_of
    from sparkexp.result import load
    from sparkexp.runner.recorder import Recorder
    from sparkexp.search import GridSearch
    from sparkexp.store import ExperimentStore, now
    from sparkexp.trial import Trial, trial_id

    side = 1000
    grid = {"a": list(range(max(1, n // side))), "b": list(range(side if n >= side else n))}
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    search = GridSearch(grid, max_grid=n)
    cands = []
    while not search.is_finished():
        cands.extend(search.ask(1))
    out["plan"] = time.perf_counter() - t0
    assert len(cands) == n, len(cands)

    store = ExperimentStore.create(root, "scale")
    store.write_manifest({"name": "scale", "direction": "min", "metric": "metric", "state": "running"})
    trials: dict[str, Trial] = {}
    t0 = time.perf_counter()
    recorder = Recorder(store)
    for cand in cands:
        tid = trial_id(cand.key)
        trial = Trial(id=tid, index=cand.key, params=dict(cand.params), status="running",
                      logdir=store.trial_dir(tid), host="localhost", executor="0")
        trials[tid] = trial
        t = now()
        events: list[JournalEvent] = [
            TrialProposed(tid, cand.key, trial.params, trial.logdir, t),
            TrialStarted(tid, t, host="localhost", executor="0")]
        trial.status, trial.metric, trial.started, trial.finished = "complete", float(cand.key), t, t
        trial.outputs = {"metric": float(cand.key)}
        search.tell(cand.key, float(cand.key))
        events.append(TrialFinished(tid, record_of(trial), False))
        recorder.submit(events, [trial])
    out["submit"] = time.perf_counter() - t0
    recorder.close(timeout=None)
    out["record"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.write_parquet(sorted(trials.values(), key=lambda tr: tr.index))
    out["parquet"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = load(store.path)
    out["load"] = time.perf_counter() - t0
    assert len(res.trials) == n
    return out


def part1(n: int) -> None:
    print(f"\n## driver bookkeeping without Spark: a {n:,}-point grid (GridSearch + Recorder + store)")
    print(f"# {machine()}")
    gc.collect()
    reset_peak_rss()
    rss0 = rss_mib()
    with tempfile.TemporaryDirectory(prefix="sparkexp-bench-scale-") as root:
        times = record_grid(n, root)
        rss1, peak_rss = rss_mib(), peak_rss_mib()
    gc.collect()
    tracemalloc.start()
    with tempfile.TemporaryDirectory(prefix="sparkexp-bench-scale-") as root:
        record_grid(n, root)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'phase':<44} {'total(s)':>9} {'us/trial':>9}")
    labels = {"plan": "plan: GridSearch.ask(1) x N",
              "submit": "driver side: Trial + 3 events -> Recorder",
              "record": "recorded: journal + N trial.json on disk",
              "parquet": "results.parquet",
              "load": "sparkexp.load (journal replay)"}
    for key, label in labels.items():
        print(f"{label:<44} {times[key]:>9.2f} {times[key] / n * 1e6:>9.1f}")
    print(f"RSS {rss0:.0f} MiB before, {rss1:.0f} after, peak {peak_rss:.0f} (untraced pass); "
          f"tracemalloc peak {peak / 2**20:.0f} MiB = {peak / n:.0f} B/trial")


def part2(spark: Any, sizes: list[int], root: str) -> None:
    from sparkexp import experiment

    print("\n## zero-length trials on local[2] (P=2): per-trial driver cost as the experiment grows")
    print(f"# {machine()}")
    experiment.grid_search(spark, zero, {"a": [0], "b": list(range(20))}, root=root, max_parallel=2,
                           echo_output=False, progress=False)  # warm-up
    print(f"{'trials':>7} {'wall(s)':>8} {'ms/trial':>9} {'marginal ms':>11} {'RSS +MiB':>9} "
          f"{'ms/trial per tenth of the run (by trial end time)':<50}")
    first: tuple[int, float] | None = None
    reset_peak_rss()
    for n in sizes:
        gc.collect()
        rss0 = rss_mib()
        t0 = time.perf_counter()
        res = experiment.grid_search(spark, zero, {"a": list(range(n // 100)), "b": list(range(100))},
                                     root=root, max_parallel=2, echo_output=False, progress=False,
                                     name=f"scale{n}")
        wall = time.perf_counter() - t0
        assert len(res.completed) == n
        rss1 = rss_mib()
        ends = sorted(t.finished for t in res.trials)  # type: ignore[type-var]
        tenth = n // 10
        per = [(ends[min(n - 1, (k + 1) * tenth - 1)] - ends[k * tenth]) / max(1, tenth - 1) * 1000
               for k in range(10)]
        marginal = "-" if first is None else f"{(wall - first[1]) / (n - first[0]) * 1000:11.2f}"
        if first is None:
            first = (n, wall)
        print(f"{n:>7} {wall:>8.2f} {wall / n * 1000:>9.2f} {marginal:>11} {rss1 - rss0:>9.0f} "
              f"{' '.join(f'{x:.2f}' for x in per)}", flush=True)
        del res
    print(f"driver RSS {rss_mib():.0f} MiB, peak {peak_rss_mib():.0f} MiB during these runs; per-tenth: median "
          f"{statistics.median(per):.2f} ms in the largest run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=100_000, help="points of the no-Spark grid (default 100000)")
    ap.add_argument("--sizes", default="1000,2000,5000,10000", help="trial counts on Spark")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--quick", action="store_true", help="--grid 20000 --sizes 500,1000,2000")
    args = ap.parse_args()
    if args.quick:
        args.grid, args.sizes = 20_000, "500,1000,2000"
    part1(args.grid)
    if not args.skip_spark:
        spark = session(args.master, "sparkexp-bench-scale")
        with tempfile.TemporaryDirectory(prefix="sparkexp-bench-scale-") as root:
            part2(spark, [int(s) for s in args.sizes.split(",")], root)
        spark.stop()


if __name__ == "__main__":
    main()
