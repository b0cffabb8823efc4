"""What live MLflow tracking costs an experiment: N trials of d seconds on P slots, on and off.

Each repeat runs the same ``grid_search`` without MLflow and with ``mlflow=<sqlite URI>``
(alternating, after one unmeasured warm-up), on one local Spark session. Reported per mode:
the median wall time until ``grid_search`` returned, and with MLflow the median time until
MLflow held every run (``res.tracking.wait()``), which the experiment does not wait for.
``--in-driver`` adds a third mode for comparison: the same :class:`MlflowSync` fed from a
thread inside the driver (the design the sync process replaces), waited for at the end.
Goal (issue 20): 200 x 10 ms on P=2 with MLflow on <= 1.10x off.

    python benchmarks/mlflow_overhead.py                  # 200x0.01, P=2, 3 repeats
    python benchmarks/mlflow_overhead.py --quick          # 2 repeats
    python benchmarks/mlflow_overhead.py --in-driver      # also the in-driver-thread design
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, session  # noqa: E402

#: (call -> first trial start, first start -> last finish, last finish -> return) per run, seconds
LAGS: list[tuple[float, float, float]] = []


def sleeper(x: float) -> float:
    if x:
        time.sleep(x)
    return x


class InDriverTracking:
    """The rejected design, for comparison: MlflowSync in a thread of the driver process."""

    def __init__(self, path: str, uri: str) -> None:
        from sparkexp.store import ExperimentStore
        from sparkexp.tracking import MlflowSync

        self._sync = MlflowSync(ExperimentStore(path), uri)
        self._queue: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def submit(self, events: list[dict[str, Any]]) -> None:
        self._queue.put(events)

    def _run(self) -> None:
        ending = False
        while not ending:
            items = [self._queue.get()]
            while not self._queue.empty():
                items.append(self._queue.get())
            for item in items:
                if item is None:
                    ending = True
                else:
                    self._sync.add_events(item)
            self._sync.sync()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def run_once(spark: Any, mode: str, n: int, d: float, p: int, root: str,
             uri: str) -> tuple[float, float, float]:
    """(seconds until grid_search returned, seconds until MLflow held everything, CPU seconds
    the driver process used until grid_search returned: all its threads, not the sync process)."""
    from sparkexp import experiment

    grid = {"x": [d] * n}
    options = dict(max_parallel=p, root=root, name=f"bench_{mode}", echo_output=False, progress=False)
    c0 = time.process_time()
    e0 = time.time()
    t0 = time.perf_counter()
    if mode == "in-driver":
        import sparkexp.experiment as exp_module

        def in_driver(start: Any, path: str, tracking_uri: str, *, replay: int = 0) -> Any:
            tracking = InDriverTracking(path, tracking_uri)
            result = start(tracking.submit)
            result.tracking = tracking
            return result

        original = exp_module.run_tracked
        exp_module.run_tracked = in_driver  # type: ignore[assignment]  # run_search's seam
        try:
            res = experiment.grid_search(spark, sleeper, grid, mlflow=uri, **options)
        finally:
            exp_module.run_tracked = original  # type: ignore[assignment]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        res.tracking.close()
        synced = time.perf_counter() - t0
    elif mode == "on":
        res = experiment.grid_search(spark, sleeper, grid, mlflow=uri, **options)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert res.tracking.wait(600), "MLflow sync did not finish"
        synced = time.perf_counter() - t0
    else:
        res = experiment.grid_search(spark, sleeper, grid, **options)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        synced = wall
    assert len(res.trials) == n and all(t.status == "complete" for t in res.trials)
    first = min(t.started for t in res.trials)  # type: ignore[type-var]
    last = max(t.finished for t in res.trials)  # type: ignore[type-var]
    LAGS.append((first - e0, last - first, e0 + wall - last))  # type: ignore[operator]
    return wall, synced, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--duration", type=float, default=0.01)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2 repeats")
    ap.add_argument("--in-driver", action="store_true", help="also measure MLflow in a driver thread")
    ap.add_argument("--tracking-uri", help="default: a fresh sqlite database in a temp directory")
    args = ap.parse_args()
    repeat = 2 if args.quick else args.repeat
    n, d, p = args.trials, args.duration, args.parallel
    workdir = tempfile.mkdtemp(prefix="sparkexp-mlflow-bench-")
    os.chdir(workdir)  # a sqlite store keeps artifacts in ./mlruns
    uri = args.tracking_uri or f"sqlite:///{workdir}/mlflow.db"
    root = os.path.join(workdir, "project")
    os.makedirs(root)
    print(f"# {machine()}")
    print(f"# {n} trials x {d * 1000:g} ms on P={p}, {repeat} repeats, MLflow at {uri}")
    spark = session("local[2]", "sparkexp-bench-mlflow")
    modes = ["off", "on"] + (["in-driver"] if args.in_driver else [])
    try:
        run_once(spark, "off", n, d, p, root, uri)  # warm-up: JVM, Python workers
        run_once(spark, "on", min(n, 10), d, p, root, uri)  # warm-up: the MLflow database
        walls: dict[str, list[float]] = {m: [] for m in modes}
        synced: dict[str, list[float]] = {m: [] for m in modes}
        cpus: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(repeat):
            for mode in modes:
                wall, done, cpu = run_once(spark, mode, n, d, p, root, uri)
                walls[mode].append(wall)
                synced[mode].append(done)
                cpus[mode].append(cpu)
                start, span, end = LAGS[-1]
                print(f"  {mode:9s} wall {wall:6.2f} s (start {start:.2f} + trials {span:.2f} + "
                      f"end {end:.2f})  driver CPU {cpu:5.2f} s  MLflow complete after {done:6.2f} s",
                      flush=True)
    finally:
        spark.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    off = statistics.median(walls["off"])
    off_cpu = statistics.median(cpus["off"])
    ideal = n * d / p
    print(f"off        median wall {off:.2f} s ({off / ideal:.2f}x ideal {ideal:.2f} s), "
          f"driver CPU {off_cpu:.2f} s")
    for mode in modes[1:]:
        wall = statistics.median(walls[mode])
        cpu = statistics.median(cpus[mode])
        print(f"{mode:10s} median wall {wall:.2f} s = {wall / off:.3f}x off (goal <= 1.10x); "
              f"driver CPU {cpu:.2f} s = {cpu / off_cpu:.2f}x off; "
              f"MLflow complete after {statistics.median(synced[mode]):.2f} s")
    print(f"# load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
