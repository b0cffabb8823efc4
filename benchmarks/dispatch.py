"""Dispatch overhead: N trials of d seconds on P slots, against the ideal and against peers.

Measured in one process on one local Spark session:

* sparkexp ``grid_search`` (long-lived tasks pulling trials over the channel),
* one plain Spark job of N tasks, each sleeping d (``sc.parallelize(range(N), N)``),
* hyperopt's ``SparkTrials`` with the same parallelism (one Spark job per trial),

and reports wall time over the ideal ``N * d / P``.

    python benchmarks/dispatch.py                     # the issue's case: 200 x 10 ms, P=2
    python benchmarks/dispatch.py --cases 200x0.01,40x1,2000x0 --sparktrials 40
    python benchmarks/dispatch.py --master spark://127.0.0.1:7077
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def sleeper(x: float) -> float:
    if x:
        time.sleep(x)
    return x


def run_sparkexp(spark, n: int, d: float, p: int, root: str) -> float:
    from sparkexp import experiment

    t0 = time.perf_counter()
    res = experiment.grid_search(spark, sleeper, {"x": [d] * n}, max_parallel=p, root=root,
                                 name="dispatch", echo_output=False)
    wall = time.perf_counter() - t0
    bad = [t for t in res.trials if t.status != "complete"]
    assert len(res.trials) == n and not bad, bad[:1]
    return wall


def run_plain(spark, n: int, d: float) -> float:
    sc = spark.sparkContext
    t0 = time.perf_counter()
    sc.parallelize([d] * n, n).map(sleeper).count()
    return time.perf_counter() - t0


def run_sparktrials(spark, n: int, d: float, p: int) -> float:
    import logging

    from hyperopt import SparkTrials, fmin, hp, tpe

    logging.getLogger("hyperopt-spark").setLevel(logging.ERROR)
    trials = SparkTrials(parallelism=p, spark_session=spark)
    t0 = time.perf_counter()
    fmin(lambda _x: sleeper(d), hp.uniform("x", 0, 1), algo=tpe.suggest, max_evals=n,
         trials=trials, show_progressbar=False)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="200x0.01", help="comma-separated NxSECONDS (default 200x0.01)")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    ap.add_argument("--sparktrials", type=int, default=0,
                    help="also run hyperopt SparkTrials with this many trials per case (0: skip)")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(args.master).appName("sparkexp-bench-dispatch")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    root = tempfile.mkdtemp(prefix="sparkexp-bench-")
    p = args.parallel
    # warm up: JVM, Python workers, imports
    run_sparkexp(spark, 4, 0.0, p, root)
    run_plain(spark, 4, 0.0)

    print(f"master={args.master} P={p} cores={os.cpu_count()} repeat={args.repeat} (median)")
    header = f"{'N':>6} {'d(s)':>6} {'ideal(s)':>9} {'sparkexp(s)':>11} {'/ideal':>7} {'plain(s)':>9} " \
             f"{'/ideal':>7} {'plain/sparkexp':>14}"
    if args.sparktrials:
        header += f" {'SparkTrials/trial(s)':>20} {'sparkexp/trial(s)':>17} {'speedup':>8}"
    print(header)
    for case in args.cases.split(","):
        n_s, d_s = case.lower().split("x")
        n, d = int(n_s), float(d_s)
        ideal = n * d / p
        ours = statistics.median(run_sparkexp(spark, n, d, p, root) for _ in range(args.repeat))
        plain = statistics.median(run_plain(spark, n, d) for _ in range(args.repeat))
        ratio = f"{ours / ideal:7.2f}" if ideal else f"{'-':>7}"
        pratio = f"{plain / ideal:7.2f}" if ideal else f"{'-':>7}"
        line = (f"{n:>6} {d:>6g} {ideal:>9.2f} {ours:>11.3f} {ratio} {plain:>9.3f} {pratio} "
                f"{plain / ours:>14.2f}")
        if args.sparktrials:
            m = min(args.sparktrials, n)
            st = run_sparktrials(spark, m, d, p) / m
            per = ours / n
            line += f" {st:>20.3f} {per:>17.4f} {st / per:>8.1f}x"
        print(line, flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
