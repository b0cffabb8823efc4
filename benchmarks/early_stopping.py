"""Early stopping: ASHA against plain random search on a synthetic learning-curve task.

Each trial trains for ``--steps`` steps, sleeping ``--step-time`` s per step and reporting
``reporter.log(step=s, acc=...)``. Its curve is ``acc(s) = q * (1 - exp(-s / tau)) + noise``:
the final quality ``q`` and the speed ``tau`` come from the hyperparameters (``--curves
aligned``: points far from the optimum also learn more slowly; ``--curves crossing``: a low
learning rate learns slowly but ends well, the case that fools early stopping), the noise (sd
``--noise``) is seeded by the point, so a point gives the same curve under either runner. Both runners evaluate the same ``--trials``
points (``random_search`` draws trial ``k`` from the seed and ``k`` only) on local[2]:

* ``random_search``: every trial runs all steps,
* ``asha_search``: the same points, weak trials stopped at rungs ``min_steps * eta**k``
  (default rungs 3 and 9 of 27 steps: a first rung at step 1 judges trials on one noisy step
  and, on seed 1, stops the two best points, which learn more slowly than a worse one).

Reported: compute used (steps run, trial-seconds), wall, the best metric found and that
trial's true final quality ``q``. Goal (issue 7): the same best for at most a third of the
compute.

``--runners random,asha,bohb,bohb1,hyperband`` adds (issue 22) ``bohb_search`` (Hyperband's
brackets and BOHB's model proposing the points; ``bohb1``: only ASHA's bracket, the model
alone) and ``hyperband_search`` (random points, all brackets). Their points differ from
random search's, so they are judged by the true quality ``q`` of the best trial they find
against ASHA's, and by the steps they ran. Goal: BOHB's best as good as ASHA's for no more
steps.

    python benchmarks/early_stopping.py                 # 54 trials x 27 steps, eta 3, 5 seeds
    python benchmarks/early_stopping.py --quick         # 27 trials x 27 steps, 1 seed
    python benchmarks/early_stopping.py --min-steps 1   # rungs 1, 3, 9: less compute, riskier
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, session  # noqa: E402

CURVES = {"aligned": "points far from the optimum also learn more slowly (default)",
          "crossing": "a low learning rate learns slowly but ends well: slow starters can be best"}


def quality(lr: float, width: int, mode: str = "aligned") -> tuple[float, float]:
    """Final accuracy ``q`` and time constant ``tau`` of the point; best near lr=0.01,
    width=256 (see ``CURVES``)."""
    dist = math.log10(lr) + 2.0
    q = 0.95 - 0.08 * dist ** 2 - 0.04 * abs(math.log2(width / 256))
    tau = 2.0 + 2.0 * abs(dist) if mode == "aligned" else 2.0 + 6.0 * max(0.0, -dist)
    return q, tau


def make_train(steps: int, step_time: float, noise: float, seed: int, mode: str) -> Any:
    def train(lr: float, width: int, reporter: Any) -> float:
        q, tau = quality(lr, width, mode)
        rng = random.Random(f"{seed}:{lr:.12g}:{width}")
        acc = 0.0
        for s in range(1, steps + 1):
            time.sleep(step_time)
            acc = q * (1.0 - math.exp(-s / tau)) + rng.gauss(0.0, noise)
            reporter.log(step=s, acc=acc)
        return acc

    return train


RUNNERS = ("random", "asha", "hyperband", "bohb", "bohb1")


def run(spark: Any, runner: str, args: argparse.Namespace, root: str) -> dict[str, Any]:
    from sparkexp import experiment
    from sparkexp.space import loguniform

    space = {"lr": loguniform(1e-4, 1.0), "width": [32, 64, 128, 256, 512, 1024]}
    fn = make_train(args.steps, args.step_time, args.noise, args.seed, args.curves)
    common = dict(samples=args.trials, seed=args.seed, metric="acc", direction="max",
                  max_parallel=args.parallel, root=root, echo_output=False, progress=False)
    t0 = time.perf_counter()
    stages = dict(max_steps=args.steps, min_steps=args.min_steps, reduction_factor=args.eta)
    if runner == "asha":
        res = experiment.asha_search(spark, fn, space, name="es_asha", **stages, **common)
    elif runner == "hyperband":
        res = experiment.hyperband_search(spark, fn, space, name="es_hyperband", **stages, **common)
    elif runner.startswith("bohb"):
        common["trials"] = common.pop("samples")
        res = experiment.bohb_search(spark, fn, space, name=f"es_{runner}", **stages, **common,
                                     brackets=1 if runner == "bohb1" else None)
    else:
        res = experiment.random_search(spark, fn, space, name="es_random", **common)
    wall = time.perf_counter() - t0
    best = res.best
    assert best is not None and len(res.trials) == args.trials
    return {
        "wall": wall,
        "steps": sum(len(t.history) for t in res.trials),
        "trial_s": sum(t.duration or 0.0 for t in res.trials),
        "stopped": sum(t.status == "stopped" for t in res.trials),
        "full": sum(len(t.history) >= args.steps for t in res.trials),
        "best": float(best.metric),  # type: ignore[arg-type]
        "best_q": quality(best.params["lr"], best.params["width"], args.curves)[0],
        "best_index": best.index,
        "top_q": max(quality(t.params["lr"], t.params["width"], args.curves)[0] for t in res.trials),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=54)
    ap.add_argument("--steps", type=int, default=27)
    ap.add_argument("--min-steps", type=int, default=3, help="ASHA's first rung (default 3)")
    ap.add_argument("--eta", type=int, default=3)
    ap.add_argument("--step-time", type=float, default=0.02, help="seconds per step (default 0.02)")
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="runs (seeds seed..seed+repeat-1; default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--curves", choices=sorted(CURVES), default="aligned",
                    help="; ".join(f"{k}: {v}" for k, v in CURVES.items()))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--quick", action="store_true", help="27 trials, 1 repeat")
    ap.add_argument("--runners", default="random,asha", help=f"comma-separated, of {', '.join(RUNNERS)} "
                    "(default random,asha)")
    args = ap.parse_args()
    runners = [r for r in args.runners.split(",") if r]
    if any(r not in RUNNERS for r in runners) or "asha" not in runners or "random" not in runners:
        ap.error(f"--runners takes random, asha and any of {', '.join(RUNNERS[2:])}")
    if args.quick:
        args.trials, args.repeat = 27, 1

    spark = session(args.master, "sparkexp-bench-early-stopping")
    root = tempfile.mkdtemp(prefix="sparkexp-bench-")
    base_seed = args.seed
    warm = argparse.Namespace(**{**vars(args), "trials": 2, "steps": 2, "min_steps": 1})
    run(spark, "random", warm, root)

    print(f"\n## early stopping: ASHA vs random search, {args.trials} trials x {args.steps} steps of "
          f"{args.step_time:g} s, eta {args.eta}, min_steps {args.min_steps}, P={args.parallel}")
    print(f"# curves: {args.curves} ({CURVES[args.curves]}); noise sd {args.noise:g}")
    print(f"# {machine()}")
    print(f"{'seed':>4} {'runner':<8} {'steps':>6} {'trial-s':>8} {'wall(s)':>8} {'stopped':>7} {'full':>5} "
          f"{'best acc':>9} {'best q':>7} {'best #':>6} {'top q':>6}")
    ratios, same = [], []
    extra: dict[str, list[tuple[float, bool]]] = {r: [] for r in runners if r not in ("random", "asha")}
    for r in range(args.repeat):
        args.seed = base_seed + r
        rows = {name: run(spark, name, args, root) for name in runners}
        for name, row in rows.items():
            print(f"{args.seed:>4} {name:<8} {row['steps']:>6} {row['trial_s']:>8.2f} {row['wall']:>8.2f} "
                  f"{row['stopped']:>7} {row['full']:>5} {row['best']:>9.4f} {row['best_q']:>7.4f} "
                  f"{row['best_index']:>6} {row['top_q']:>6.4f}", flush=True)
        ratios.append((rows["asha"]["steps"] / rows["random"]["steps"],
                       rows["asha"]["trial_s"] / rows["random"]["trial_s"],
                       rows["asha"]["wall"] / rows["random"]["wall"]))
        same.append(rows["asha"]["best_index"] == rows["random"]["best_index"])
        for name in extra:
            extra[name].append((rows[name]["steps"] / rows["asha"]["steps"],
                                rows[name]["best_q"] >= rows["asha"]["best_q"] - 1e-9))
    steps_r = statistics.median(x[0] for x in ratios)
    secs_r = statistics.median(x[1] for x in ratios)
    wall_r = statistics.median(x[2] for x in ratios)
    ok = "ok" if steps_r <= 1 / 3 and all(same) else "MISS"
    print(f"ASHA / random (median over {args.repeat}): steps {steps_r:.2f}, trial-seconds {secs_r:.2f}, "
          f"wall {wall_r:.2f}; same best trial in {sum(same)}/{len(same)} runs "
          f"(goal: same best, <= 0.33 of the compute: {ok})")
    for name, seen in extra.items():
        ratio = statistics.median(x[0] for x in seen)
        good = sum(x[1] for x in seen)
        verdict = "ok" if ratio <= 1.0 and good == len(seen) else "MISS"
        print(f"{name} / ASHA (median over {args.repeat}): steps {ratio:.2f}; best q at least ASHA's in "
              f"{good}/{len(seen)} runs (goal: as good, no more steps: {verdict})")
    spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
