"""TPE suggestion cost: sparkexp's ``TPESearch`` ask/tell against hyperopt's own ``fmin`` loop.

No Spark, a trivial objective, the same space (uniform, log-uniform, a 3-way choice) and the
same TPE settings (20 start-up trials, 24 EI candidates). For each method one sequential run
of ``max(--history) + --window`` trials; the time of trial ``k`` is the gap between the
objective's consecutive calls (for ``TPESearch``: one ``ask(1)`` + objective + ``tell``), so
it is the whole loop's cost per trial with ``k`` trials of history. Reported: the median over
the ``--window`` trials after each history size, median over ``--repeat`` seeds, and the
ratio (goal: ~1, i.e. no regression from the wrapping).

    python benchmarks/tpe_cost.py                  # history 20, 100, 500, 1000; 3 seeds
    python benchmarks/tpe_cost.py --quick          # history 20, 100, 500; 1 seed
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine  # noqa: E402


def objective(x: float, lr: float, kind: str) -> float:
    return (x - 1.0) ** 2 + abs(math.log10(lr) + 2) + {"a": 0.0, "b": 0.1, "c": 0.2}[kind]


def run_sparkexp(n: int, seed: int) -> list[float]:
    from sparkexp.search import TPESearch
    from sparkexp.space import loguniform

    search = TPESearch({"x": [-5.0, 5.0], "lr": loguniform(1e-4, 1.0), "kind": ["a", "b", "c"]},
                       trials=n, n_startup=20, seed=seed)
    stamps = []
    while not search.is_finished():
        for cand in search.ask(1):
            stamps.append(time.perf_counter())
            search.tell(cand.key, objective(**cand.params))
    stamps.append(time.perf_counter())
    return [b - a for a, b in zip(stamps, stamps[1:])]


def run_hyperopt(n: int, seed: int) -> list[float]:
    import numpy as np
    from hyperopt import Trials, fmin, hp, tpe

    space = {"x": hp.uniform("x", -5.0, 5.0), "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
             "kind": hp.choice("kind", ["a", "b", "c"])}
    stamps = []

    def fn(p: dict) -> float:
        stamps.append(time.perf_counter())
        return objective(**p)

    algo = lambda *a, **k: tpe.suggest(*a, n_startup_jobs=20, n_EI_candidates=24, **k)  # noqa: E731
    fmin(fn, space, algo=algo, max_evals=n, trials=Trials(), rstate=np.random.default_rng(seed),
         show_progressbar=False)
    stamps.append(time.perf_counter())
    return [b - a for a, b in zip(stamps, stamps[1:])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history", default="20,100,500,1000")
    ap.add_argument("--window", type=int, default=40, help="trials timed after each history size")
    ap.add_argument("--repeat", type=int, default=3, help="seeds; the median is reported")
    ap.add_argument("--quick", action="store_true", help="--history 20,100,500 --repeat 1")
    args = ap.parse_args()
    if args.quick:
        args.history, args.repeat = "20,100,500", 1
    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    hist = [int(h) for h in args.history.split(",")]
    n = max(hist) + args.window + 1
    per: dict[str, dict[int, list[float]]] = {"sparkexp": {h: [] for h in hist}, "hyperopt": {h: [] for h in hist}}
    totals: dict[str, list[float]] = {"sparkexp": [], "hyperopt": []}
    for seed in range(args.repeat):
        for name, run in (("sparkexp", run_sparkexp), ("hyperopt", run_hyperopt)):
            gaps = run(n, seed)
            totals[name].append(sum(gaps))
            for h in hist:
                # gaps[k] is the loop around trial k+1, which was suggested with k+1 trials done
                per[name][h].append(statistics.median(gaps[h - 1:h - 1 + args.window]))
    print(f"\n## TPE cost per trial (suggest + objective + record), no Spark; median of {args.repeat} "
          f"seed(s), window {args.window}")
    print(f"# {machine()}")
    print(f"{'history':>7} {'TPESearch ms':>12} {'hyperopt fmin ms':>16} {'ratio':>6}")
    for h in hist:
        a = statistics.median(per["sparkexp"][h]) * 1000
        b = statistics.median(per["hyperopt"][h]) * 1000
        print(f"{h:>7} {a:>12.2f} {b:>16.2f} {a / b:>6.2f}")
    a, b = statistics.median(totals["sparkexp"]), statistics.median(totals["hyperopt"])
    print(f"{'whole run of ' + str(n) + ' trials (s)':<30} TPESearch {a:.2f}  fmin {b:.2f}  ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
