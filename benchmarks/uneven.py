"""Slot utilisation with uneven (long-tailed) trial lengths.

Each trial sleeps a time drawn from a log-normal distribution (median ``--median`` s, shape
``--sigma``), seeded by the trial's point, so a point always takes the same time whichever
runner evaluates it, then returns minus the sphere function. Compared on one local Spark
session with P slots:

* sparkexp ``evolutionary_search(mode="async")``: a new candidate the moment a slot frees,
* sparkexp ``random_search`` with the same number of trials,
* sparkexp ``evolutionary_search(mode="generational")`` (same runner, DE waits per generation),
* **generation-synchronous** execution, the hops-util-py model, in plain Spark: the same
  ``DifferentialEvolution(mode="generational")`` asked for a whole generation, the
  generation run as one ``sc.parallelize(gen, len(gen)).map(trial).collect()`` job, results
  told, repeat. The slowest trial of each generation holds every other slot.

Utilisation = busy slot-seconds (sum of each trial's own run time, measured around the
function call in the same way for every runner) / (P x wall). ``wall`` is the whole call
(start-up included); ``span`` runs from the first trial's start to the last trial's end.
Goal (issue 10): >= 90 % for the asynchronous runs.

``--cluster --late-worker`` (issue 16) measures elastic slots instead: the test suite's
standalone cluster starts with one worker (2 cores), a random search with no ``max_parallel``
starts, and the second worker joins ``--late`` seconds later. The driver samples the executors
every 0.2 s; utilisation = busy trial-seconds / task-slot-seconds the registered executors
offered, from the first trial's start to the last trial's start (after that, fewer trials are
left than slots) and to the last trial's end. Goal: >= 90 %.

    python benchmarks/uneven.py                    # population 10, 6 generations, 3 repeats
    python benchmarks/uneven.py --quick            # population 8, 3 generations, 1 repeat
    python benchmarks/uneven.py --cluster --late-worker --quick
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import REPO, machine, session, standalone_cluster  # noqa: E402

BOUNDS = {"x": [-5.0, 5.0], "y": [-5.0, 5.0]}
SHAPE = {"median": 0.1, "sigma": 1.0, "seed": 0}  # set from the command line before any run


def duration(x: float, y: float, median: float, sigma: float, seed: int) -> float:
    """The seeded log-normal run time of the point (x, y)."""
    import math

    rng = random.Random(f"{seed}:{x:.12g}:{y:.12g}")
    return min(rng.lognormvariate(math.log(median), sigma), 50 * median)


def make_trial(median: float, sigma: float, seed: int) -> Any:
    def trial(x: float, y: float) -> float:
        time.sleep(duration(x, y, median, sigma, seed))
        return -(x * x + y * y)

    return trial


def make_task(median: float, sigma: float, seed: int) -> Any:
    def task(cand: tuple[int, dict[str, float]]) -> tuple[int, float, float, float]:
        key, params = cand
        t0 = time.time()
        time.sleep(duration(params["x"], params["y"], median, sigma, seed))
        loss = params["x"] ** 2 + params["y"] ** 2
        return key, loss, t0, time.time()

    return task


def run_sparkexp(spark: Any, kind: str, args: argparse.Namespace, root: str) -> dict[str, float]:
    from sparkexp import experiment

    fn = make_trial(args.median, args.sigma, args.seed)
    common = dict(max_parallel=args.parallel, root=root, echo_output=False, progress=False,
                  seed=args.seed, name=f"uneven_{kind}")
    t0 = time.perf_counter()
    if kind == "random":
        res = experiment.random_search(spark, fn, BOUNDS, samples=args.budget, **common)
    else:
        res = experiment.evolutionary_search(spark, fn, BOUNDS, generations=args.generations,
                                             population=args.population, mode=kind, **common)
    wall = time.perf_counter() - t0
    done = [t for t in res.trials if t.started is not None and t.finished is not None]
    assert len(done) == len(res.trials), "a trial did not run"
    busy = sum(t.finished - t.started for t in done)  # type: ignore[operator]
    span = max(t.finished for t in done) - min(t.started for t in done)  # type: ignore[type-var]
    best = -max(t.metric for t in done if t.metric is not None)  # type: ignore[type-var]
    return {"trials": len(done), "wall": wall, "busy": busy, "span": span, "best": best}


def run_generational_jobs(spark: Any, args: argparse.Namespace) -> dict[str, float]:
    from sparkexp.search import DifferentialEvolution

    sc = spark.sparkContext
    task = make_task(args.median, args.sigma, args.seed)
    de = DifferentialEvolution(BOUNDS, generations=args.generations, population=args.population,
                               mode="generational", seed=args.seed)
    t0 = time.perf_counter()
    rows: list[tuple[int, float, float, float]] = []
    jobs = 0
    while not de.is_finished():
        gen = [(c.key, c.params) for c in de.ask(10**9)]
        if not gen:  # every slot of the generation was a memoised repeat
            continue
        out = sc.parallelize(gen, len(gen)).map(task).collect()
        jobs += 1
        for key, loss, _s, _e in out:
            de.tell(key, loss)
        rows.extend(out)
    wall = time.perf_counter() - t0
    busy = sum(e - s for _k, _l, s, e in rows)
    span = max(e for *_x, e in rows) - min(s for _k, _l, s, _e in rows)
    return {"trials": len(rows), "wall": wall, "busy": busy, "span": span,
            "best": min(loss for _k, loss, _s, _e in rows), "jobs": jobs}


def offered(samples: list[tuple[float, int]], start: float, end: float) -> float:
    """Task-slot-seconds the executors offered between ``start`` and ``end`` (step function)."""
    total = 0.0
    for (t0, slots), (t1, _next) in zip(samples, samples[1:]):
        lo, hi = max(t0, start), min(t1, end)
        if hi > lo:
            total += slots * (hi - lo)
    return total


def busy(trials: list[Any], start: float, end: float) -> float:
    """Trial-seconds run between ``start`` and ``end``."""
    return sum(max(0.0, min(t.finished, end) - max(t.started, start)) for t in trials)


def run_late_worker(args: argparse.Namespace) -> None:
    import threading

    from sparkexp import experiment
    from sparkexp.runner.resources import registered_executors

    with standalone_cluster(start_workers=1) as cluster:
        os.environ["PYTHONPATH"] = str(REPO)
        spark = session(cluster.master_url, "sparkexp-bench-late-worker",
                        **{"spark.executor.memory": "512m", "spark.executor.cores": "2"})
        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                samples.append((time.time(), sum(e["cores"] for e in registered_executors(spark.sparkContext))))

        joined: dict[str, float] = {}

        def join_later() -> None:
            if not done.wait(args.late):
                cluster.start_worker(1)
                joined["t"] = time.time()

        root = tempfile.mkdtemp(prefix="sparkexp-bench-")
        fn = make_trial(args.median, args.sigma, args.seed)
        # warm up the first executor's Python workers, as any session that ran a job has
        experiment.random_search(spark, fn, BOUNDS, samples=4, root=root, progress=False,
                                 echo_output=False, name="warmup")
        threads = [threading.Thread(target=sample, daemon=True),
                   threading.Thread(target=join_later, daemon=True)]
        for thread in threads:
            thread.start()
        t0 = time.time()
        res = experiment.random_search(spark, fn, BOUNDS, samples=args.budget, root=root,
                                       progress=False, echo_output=False, seed=args.seed,
                                       name="late_worker")
        wall = time.time() - t0
        done.set()
        for thread in threads:
            thread.join(60)
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
    trials = [t for t in res.trials if t.started is not None and t.finished is not None]
    first = min(t.started for t in trials)
    last_start = max(t.started for t in trials)
    end = max(t.finished for t in trials)
    print(f"\n## elastic slots, uneven trials on a standalone cluster; the 2nd worker joins "
          f"after {args.late:g} s")
    print(f"# {len(trials)} random-search trials, log-normal length median {args.median:g} s, "
          f"sigma {args.sigma:g}; wall {wall:.1f} s")
    print(f"# {machine()}")
    steps = [(t, c) for i, (t, c) in enumerate(samples) if i == 0 or c != samples[i - 1][1]]
    print("# task slots offered: " + ", ".join(f"{c} from +{t - first:.1f} s" for t, c in steps))
    if "t" in joined:
        print(f"# worker 2 registered with the master at +{joined['t'] - first:.1f} s")
    rows = [("until the last trial started", first, last_start),
            ("until the last trial ended", first, end)]
    registered = next((t for t, c in samples if c > 2), None)
    if registered is not None:
        rows.insert(0, ("after the 2nd executor registered", registered, last_start))
        rows.insert(0, ("before the 2nd executor registered", first, registered))
        started_there = min((t.started for t in trials if t.started >= registered
                             and t.executor not in {x.executor for x in trials if x.started < registered}),
                            default=None)
        if started_there is not None:
            print(f"# first trial on the new executor {started_there - registered:.1f} s after it "
                  "registered")
    print(f"{'window':<36} {'seconds':>8} {'offered':>9} {'busy':>8} {'util':>7} {'goal':>9}")
    for label, lo, hi in rows:
        cap = offered(samples, lo, hi)
        used = busy(trials, lo, hi)
        util = used / cap if cap else float("nan")
        goal = (">=90% " + ("ok" if util >= 0.9 else "MISS")) if label.startswith("until the last trial started") else "-"
        print(f"{label:<36} {hi - lo:>8.1f} {cap:>9.1f} {used:>8.1f} {util:>7.1%} {goal:>9}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--population", type=int, default=10)
    ap.add_argument("--generations", type=int, default=6)
    ap.add_argument("--median", type=float, default=0.1, help="median trial length, s (default 0.1)")
    ap.add_argument("--sigma", type=float, default=1.0, help="log-normal shape (default 1.0)")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--quick", action="store_true", help="population 8, 3 generations, 1 repeat")
    ap.add_argument("--cluster", action="store_true", help="on the test suite's standalone cluster")
    ap.add_argument("--late-worker", action="store_true",
                    help="with --cluster: elastic slots, the 2nd worker joins --late s after the start")
    ap.add_argument("--late", type=float, default=15.0, help="seconds before the 2nd worker joins")
    ap.add_argument("--trials", type=int, default=0,
                    help="--late-worker: trials (default: about 2 x --late s of work on 4 slots)")
    args = ap.parse_args()
    if args.quick:
        args.population, args.generations, args.repeat = 8, 3, 1
    args.budget = (args.generations + 1) * args.population
    if args.cluster:
        if not args.late_worker:
            ap.error("--cluster runs the --late-worker measurement only; add --late-worker")
        if args.median == 0.1:
            args.median = 0.5  # cluster trials: long enough that a trial's dispatch is small
        args.budget = args.trials or int(2 * args.late * 4 / (args.median * 1.2))
        run_late_worker(args)
        return

    spark = session(args.master, "sparkexp-bench-uneven")
    root = tempfile.mkdtemp(prefix="sparkexp-bench-")
    p = args.parallel
    sample = [duration(random.uniform(-5, 5), random.uniform(-5, 5), args.median, args.sigma, 1)
              for _ in range(10000)]
    sample.sort()
    # warm up the Python workers and imports
    run_sparkexp(spark, "random", argparse.Namespace(**{**vars(args), "budget": 4}), root)
    spark.sparkContext.parallelize(range(4), 4).count()

    print(f"\n## slot utilisation, uneven trials: P={p}, DE population {args.population} x "
          f"{args.generations + 1} rounds (budget {args.budget}), median of {args.repeat}")
    print(f"# trial length log-normal: median {args.median:g} s, sigma {args.sigma:g}; "
          f"mean {statistics.fmean(sample):.3f} s, p90 {sample[9000]:.3f} s, p99 {sample[9900]:.3f} s")
    print(f"# {machine()}")
    print(f"{'runner':<42} {'trials':>6} {'wall(s)':>8} {'busy(s)':>8} {'util/wall':>9} "
          f"{'util/span':>9} {'best loss':>10} {'goal':>9}")
    runners = [("sparkexp DE async", lambda: run_sparkexp(spark, "async", args, root), True),
               ("sparkexp random search", lambda: run_sparkexp(spark, "random", args, root), True),
               ("sparkexp DE generational", lambda: run_sparkexp(spark, "generational", args, root), False),
               ("plain Spark, one job per generation (hops)", lambda: run_generational_jobs(spark, args), False)]
    for label, run, is_async in runners:
        runs = [run() for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in ("trials", "wall", "busy", "span", "best")}
        uw = statistics.median(r["busy"] / (p * r["wall"]) for r in runs)
        us = statistics.median(r["busy"] / (p * r["span"]) for r in runs)
        goal = (">=90% " + ("ok" if uw >= 0.9 else "MISS")) if is_async else "-"
        print(f"{label:<42} {med['trials']:>6.0f} {med['wall']:>8.2f} {med['busy']:>8.2f} {uw:>9.1%} "
              f"{us:>9.1%} {med['best']:>10.4f} {goal:>9}", flush=True)
    spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
