"""Population based training against random search at equal compute.

Two tasks whose trials checkpoint every step (``reporter.checkpoint``) and continue from
``reporter.restore()``:

* ``toy``: the toy problem of the PBT paper (Jaderberg et al., 2017, section 4.1 and fig. 2):
  maximise ``Q(t) = 1.2 - t0**2 - t1**2`` from ``t = (0.9, 0.9)`` by gradient ascent on the
  surrogate ``1.2 - h0 * t0**2 - h1 * t1**2``, with ``h`` one of the paper's two settings
  ``(1, 0)`` and ``(0, 1)`` (the hyperparameter ``focus``, ``t0`` or ``t1``: which coordinate
  a trial improves).
  No fixed setting improves both, so the best ``h`` changes during training: first one
  coordinate, then the other. Explore moves ``focus`` to the other setting. Score: ``Q``.
* ``decay`` (default): noisy gradient descent on ``mean(x**2)`` in 50 dimensions from x = 5,
  gradient noise sd 1. A large learning rate converges fast but stalls at a noise floor of
  about ``lr / 4``; a small one is slow. The best learning rate falls during training, which a
  fixed one cannot follow and PBT's exploit/explore can. Score: ``-log10(mean(x**2))`` at the
  end.

Both runners get ``population * steps`` steps: random search runs ``population`` trials of
``steps`` steps; PBT keeps ``population`` members training and replaces the worst quarter
every ``interval`` steps. Steps actually run are counted from the records.

    python benchmarks/pbt.py --quick              # decay task, population 4, 100 steps, 5 seeds
    python benchmarks/pbt.py --quick --task toy   # the paper's toy, 20 steps
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, session  # noqa: E402

DIMS = 50


def toy(focus: str, steps: int, step_time: float, reporter: Any) -> float:
    h0, h1 = (1.0, 0.0) if focus == "t0" else (0.0, 1.0)
    state = reporter.restore() or {"t": [0.9, 0.9], "step": -1}
    t0, t1 = state["t"]
    q = 1.2 - t0 ** 2 - t1 ** 2
    for step in range(state["step"] + 1, steps):
        t0, t1 = t0 - 0.1 * h0 * t0, t1 - 0.1 * h1 * t1  # eta 0.05 on the surrogate's gradient
        q = 1.2 - t0 ** 2 - t1 ** 2
        time.sleep(step_time)
        reporter.log(step=step, q=q)
        reporter.checkpoint({"t": [t0, t1], "step": step})
    return q


def decay(lr: float, steps: int, step_time: float, seed: int, reporter: Any) -> float:
    import math

    state = reporter.restore() or {"x": [5.0] * DIMS, "step": -1}
    x = state["x"]
    q = -math.log10(sum(v * v for v in x) / DIMS)
    for step in range(state["step"] + 1, steps):
        rng = random.Random(f"{seed}:{step}:{x[0]!r}")  # noise depends on the state, not the trial
        x = [v - lr * (2 * v + rng.gauss(0.0, 1.0)) for v in x]
        q = -math.log10(sum(v * v for v in x) / DIMS)
        time.sleep(step_time)
        reporter.log(step=step, q=q)
        reporter.checkpoint({"x": x, "step": step})
    return q


def run(spark: Any, pbt: bool, args: argparse.Namespace, root: str) -> dict[str, Any]:
    from sparkexp import experiment
    from sparkexp.space import loguniform

    if args.task == "toy":
        fn: Any = toy
        space: dict[str, Any] = {"focus": ["t0", "t1"]}
    else:
        fn = decay
        space = {"lr": loguniform(1e-3, 0.5), "seed": args.seed}
    space.update(steps=args.steps, step_time=args.step_time)
    common = dict(seed=args.seed, metric="q", direction="max", max_parallel=args.population, root=root,
                  echo_output=False, progress=False)
    t0 = time.perf_counter()
    if pbt:
        res = experiment.pbt_search(spark, fn, space, population=args.population, max_steps=args.steps,
                                    interval=args.interval, name="pbt", **common)
    else:
        res = experiment.random_search(spark, fn, space, samples=args.population, name="random", **common)
    wall = time.perf_counter() - t0
    finals = [t.metric for t in res.trials if t.status == "complete" and t.metric is not None]
    return {"wall": wall, "steps": sum(len(t.history) for t in res.trials), "trials": len(res.trials),
            "copies": sum(1 for t in res.trials if t.origin), "best": max(finals),
            "best_params": res.best.params if res.best else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=("decay", "toy"), default="decay")
    ap.add_argument("--population", type=int, default=4)
    ap.add_argument("--steps", type=int, default=None, help="default: 100 (decay), 20 (toy)")
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--step-time", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="steps of 0.005 s (decay), 0.05 s (toy: 20 "
                    "steps; shorter trials end before the population has started)")
    args = ap.parse_args()
    if args.steps is None:
        args.steps = 100 if args.task == "decay" else 20
    if args.quick:
        args.step_time = 0.005 if args.task == "decay" else 0.05
    spark = session(f"local[{args.population}]", "sparkexp-bench-pbt")
    root = tempfile.mkdtemp(prefix="sparkexp-bench-")
    print(f"\n## PBT vs random search, task {args.task}, population {args.population}, {args.steps} steps, "
          f"interval {args.interval}, equal compute ({args.population} x {args.steps} steps)")
    print(f"# {machine()}")
    print(f"{'seed':>4} {'runner':<7} {'steps':>6} {'trials':>6} {'copies':>6} {'wall(s)':>8} {'best q':>8}")
    wins = []
    base = args.seed
    for r in range(args.repeat):
        args.seed = base + r
        rows = {"random": run(spark, False, args, root), "pbt": run(spark, True, args, root)}
        for name, row in rows.items():
            print(f"{args.seed:>4} {name:<7} {row['steps']:>6} {row['trials']:>6} {row['copies']:>6} "
                  f"{row['wall']:>8.2f} {row['best']:>8.4f}", flush=True)
        wins.append(rows["pbt"]["best"] > rows["random"]["best"])
    ok = "ok" if all(wins) else "MISS"
    print(f"PBT better than random search in {sum(wins)}/{len(wins)} seeds (goal: all: {ok})")
    spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
