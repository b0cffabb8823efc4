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
alone), ``hyperband_search`` (random points, all brackets) and, with any of them, ``asha2``:
ASHA again on other random points (its search seed, like theirs, is the task's seed +
``OTHER_SEED``; the task and its noise stay the same). Their points differ from ASHA's, so they
are judged by the true quality ``q`` of the best trial they find against ASHA's, strictly and
within the noise sd of one measurement (the best trial is picked by its noisy final metric, so
closer than that is a draw), and by compute, two ways: all their trials (steps against ASHA's),
and their best among the trials completed by the time they had spent ASHA's steps (``q@asha``,
their best at ASHA's compute). Goal: BOHB's best as good as ASHA's for no more steps, read as
"as good as ASHA itself on other points": at ASHA's steps, within the noise of ASHA's best on
no fewer seeds than ``asha2`` (less two binomial sd of its count) and a mean difference no
lower than ``asha2``'s (less two standard errors). No search can match ASHA's best on every
seed: another run of ASHA does not. ``--bohb KEY=VALUE`` passes an option to ``BOHBSearch``.

``--offline`` runs no Spark: the same search and stopping objects, driven as the runner drives
them (ask when a slot frees, a report per step, tell at the end) by ``--parallel`` slots in
simulated time, a step taking 1 and a trial start ``--start-cost``. It reproduces the Spark
runs closely (on seeds 0-4, 18 of 25 rows ran the same steps; the others differ by the order
results arrived in) and takes a second for 5 seeds, so it can judge a change over 100 seeds
(``--repeat 100``).

    python benchmarks/early_stopping.py                 # 54 trials x 27 steps, eta 3, 5 seeds
    python benchmarks/early_stopping.py --quick         # 27 trials x 27 steps, 1 seed
    python benchmarks/early_stopping.py --min-steps 1   # rungs 1, 3, 9: less compute, riskier
    python benchmarks/early_stopping.py --offline --repeat 400 --trials 108 --runners random,asha,bohb,bohb1
"""

from __future__ import annotations

import argparse
import json
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


def curve(lr: float, width: int, steps: int, noise: float, seed: int, mode: str) -> list[float]:
    """The accuracies the point reports at steps ``1..steps`` (noise seeded by the point)."""
    q, tau = quality(lr, width, mode)
    rng = random.Random(f"{seed}:{lr:.12g}:{width}")
    return [q * (1.0 - math.exp(-s / tau)) + rng.gauss(0.0, noise) for s in range(1, steps + 1)]


def make_train(steps: int, step_time: float, noise: float, seed: int, mode: str) -> Any:
    def train(lr: float, width: int, reporter: Any) -> float:
        acc = 0.0
        for s, acc in enumerate(curve(lr, width, steps, noise, seed, mode), start=1):
            time.sleep(step_time)
            reporter.log(step=s, acc=acc)
        return acc

    return train


RUNNERS = ("random", "asha", "asha2", "hyperband", "bohb", "bohb1")
OTHER_SEED = 100_003  # asha2: ASHA on other random points of the same task (its search seed + this)


def search_seed(runner: str, seed: int) -> int:
    """The seed ``runner``'s search draws from on the task of ``seed``: asha2 is ASHA with
    other random points, the reference for how often two equally good searches agree."""
    return seed if runner in ("random", "asha") else seed + OTHER_SEED


def run(spark: Any, runner: str, args: argparse.Namespace, root: str) -> dict[str, Any]:
    from sparkexp import experiment
    from sparkexp.space import loguniform

    space = {"lr": loguniform(1e-4, 1.0), "width": [32, 64, 128, 256, 512, 1024]}
    fn = make_train(args.steps, args.step_time, args.noise, args.seed, args.curves)
    common = dict(samples=args.trials, seed=search_seed(runner, args.seed), metric="acc", direction="max",
                  max_parallel=args.parallel, root=root, echo_output=False, progress=False)
    t0 = time.perf_counter()
    stages = dict(max_steps=args.steps, min_steps=args.min_steps, reduction_factor=args.eta)
    if runner in ("asha", "asha2"):
        res = experiment.asha_search(spark, fn, space, name=f"es_{runner}", **stages, **common)
    elif runner == "hyperband":
        res = experiment.hyperband_search(spark, fn, space, name="es_hyperband", **stages, **common)
    elif runner.startswith("bohb"):
        common["trials"] = common.pop("samples")
        res = experiment.bohb_search(spark, fn, space, name=f"es_{runner}", **stages, **common,
                                     brackets=1 if runner == "bohb1" else None, **args.bohb)
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
        "reports": sorted(r["_time"] for t in res.trials for r in t.history),
        "done": [(t.history[-1]["_time"], float(t.metric), t.index,  # type: ignore[arg-type]
                  quality(t.params["lr"], t.params["width"], args.curves)[0])
                 for t in res.trials if t.status == "complete" and t.history],
    }


def searches(runner: str, args: argparse.Namespace) -> tuple[Any, Any]:
    """The search and the stopping rule ``runner`` uses, as the ``experiment`` functions build them."""
    from sparkexp.search import BOHBSearch, RandomSearch
    from sparkexp.search.stopping import ASHA, Hyperband
    from sparkexp.space import loguniform

    space = {"lr": loguniform(1e-4, 1.0), "width": [32, 64, 128, 256, 512, 1024]}
    stages = dict(max_steps=args.steps, min_steps=args.min_steps, reduction_factor=args.eta)
    if runner.startswith("bohb"):
        bohb = BOHBSearch(space, trials=args.trials, seed=search_seed(runner, args.seed), brackets=1 if runner == "bohb1" else None,
                          **stages, **args.bohb)
        return bohb, bohb
    search = RandomSearch(space, samples=args.trials, seed=search_seed(runner, args.seed))
    stopper = (ASHA(**stages) if runner in ("asha", "asha2")
               else Hyperband(**stages) if runner == "hyperband" else None)
    return search, stopper


def simulate(runner: str, args: argparse.Namespace) -> dict[str, Any]:
    """``run`` without Spark: ``args.parallel`` slots in simulated time (a step takes 1, a trial
    start ``args.start_cost``), driving the same search and stopping objects as the runner does
    (ask when a slot frees, report every step, tell when a trial ends). Seconds are steps."""
    import heapq

    search, stopper = searches(runner, args)
    events: list[tuple[float, int, int]] = []  # (time, slot, step) of the slot's next report
    running: dict[int, tuple[Any, list[float]]] = {}
    done: list[tuple[Any, str, float, int]] = []  # (candidate, status, final acc, steps run)
    reports: list[float] = []
    ends: list[tuple[float, float, int, float]] = []  # completed: (time, acc, key, q)
    now = 0.0

    def start(slot: int) -> None:
        asked = search.ask(1)
        if asked:
            c = asked[0]
            running[slot] = (c, curve(c.params["lr"], c.params["width"], args.steps, args.noise,
                                      args.seed, args.curves))
            heapq.heappush(events, (now + args.start_cost + 1.0, slot, 1))

    for slot in range(args.parallel):
        start(slot)
    while events:
        now, slot, step = heapq.heappop(events)
        c, accs = running[slot]
        acc = accs[step - 1]
        reports.append(now)
        stop = stopper is not None and stopper.report(c.key, step, -acc)
        if stop or step == args.steps:
            status = "stopped" if stop and step < args.steps else "complete"
            search.tell(c.key, -acc, status)
            if stopper is not None and stopper is not search:
                stopper.complete(c.key, -acc, status)
            done.append((c, status, acc, step))
            if status == "complete":
                ends.append((now, acc, c.key, quality(c.params["lr"], c.params["width"], args.curves)[0]))
            del running[slot]
            start(slot)
        else:
            heapq.heappush(events, (now + 1.0, slot, step + 1))
    assert len(done) == args.trials
    complete = [d for d in done if d[1] == "complete"]
    best = min(complete, key=lambda d: (-d[2], d[0].key))
    q_of = lambda c: quality(c.params["lr"], c.params["width"], args.curves)[0]  # noqa: E731
    return {"wall": now, "steps": sum(d[3] for d in done), "trial_s": float(sum(d[3] for d in done)),
            "stopped": len(done) - len(complete), "full": sum(d[3] >= args.steps for d in done),
            "best": best[2], "best_q": q_of(best[0]), "best_index": best[0].key,
            "top_q": max(q_of(d[0]) for d in done), "reports": reports, "done": ends}


def best_q_within(row: dict[str, Any], steps: int) -> float | None:
    """The true quality of the best trial (by its final metric) among those completed by the
    time the run had spent ``steps`` steps: the run's best at that compute (None: none yet)."""
    reports = row["reports"]
    cut = reports[steps - 1] if steps <= len(reports) else math.inf
    done = [d for d in row["done"] if d[0] <= cut]
    return max(done, key=lambda d: (d[1], -d[2]))[3] if done else None


def judge(seen: list[tuple[float, float, float]], noise: float) -> dict[str, float]:
    """A rival's figures over the seeds from its ``(steps / ASHA's, best q - ASHA's, best q at
    ASHA's steps - ASHA's)``: counts at least as good (strictly, and within ``noise``) and the
    difference at ASHA's steps (median, mean and the mean's standard error)."""
    n = len(seen)
    diffs = [x[2] for x in seen]
    mean = statistics.fmean(diffs)
    return {"ratio": statistics.median(x[0] for x in seen),
            "all_good": sum(x[1] >= -1e-9 for x in seen), "all_close": sum(x[1] >= -noise for x in seen),
            "good": sum(x[2] >= -1e-9 for x in seen), "close": sum(x[2] >= -noise for x in seen),
            "median": statistics.median(diffs), "mean": mean,
            "se": statistics.stdev(diffs) / math.sqrt(n) if n > 1 and math.isfinite(mean) else math.inf}


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
    ap.add_argument("--offline", action="store_true",
                    help="no Spark: simulate the slots in steps of time (fast; for many seeds)")
    ap.add_argument("--start-cost", type=float, default=1.0,
                    help="--offline: time a trial takes to start, in steps (default 1)")
    ap.add_argument("--bohb", action="append", default=[], metavar="KEY=VALUE",
                    help="a BOHBSearch option for bohb and bohb1, e.g. --bohb random_fraction=0.2")
    args = ap.parse_args()
    try:
        args.bohb = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.bohb)}
    except ValueError:
        ap.error(f"--bohb takes KEY=VALUE with a JSON value, got {args.bohb!r}")
    runners = [r for r in args.runners.split(",") if r]
    if any(r not in RUNNERS for r in runners) or "asha" not in runners or "random" not in runners:
        ap.error(f"--runners takes random, asha and any of {', '.join(RUNNERS[2:])}")
    if "asha2" not in runners and any(r in runners for r in RUNNERS[3:]):
        runners.insert(runners.index("asha") + 1, "asha2")  # the reference they are judged against
    if args.quick:
        args.trials, args.repeat = 27, 1

    spark = None if args.offline else session(args.master, "sparkexp-bench-early-stopping")
    root = tempfile.mkdtemp(prefix="sparkexp-bench-")
    base_seed = args.seed
    if spark is not None:
        warm = argparse.Namespace(**{**vars(args), "trials": 2, "steps": 2, "min_steps": 1})
        run(spark, "random", warm, root)

    print(f"\n## early stopping: ASHA vs random search, {args.trials} trials x {args.steps} steps of "
          f"{args.step_time:g} s, eta {args.eta}, min_steps {args.min_steps}, P={args.parallel}")
    print(f"# curves: {args.curves} ({CURVES[args.curves]}); noise sd {args.noise:g}")
    print(f"# {machine()}" if spark is not None else
          f"# offline: simulated slots, a step takes 1, a trial start {args.start_cost:g} (wall and trial-s in steps)")
    if args.bohb:
        print(f"# bohb options: {args.bohb}")
    print(f"{'seed':>4} {'runner':<9} {'steps':>6} {'trial-s':>8} {'wall(s)':>8} {'stopped':>7} {'full':>5} "
          f"{'best acc':>9} {'best q':>7} {'best #':>6} {'top q':>6} {'q@asha':>7}")
    ratios, same = [], []
    # per runner and seed: (steps / ASHA's, best q - ASHA's, best q at ASHA's steps - ASHA's)
    extra: dict[str, list[tuple[float, float, float]]] = {r: [] for r in runners if r not in ("random", "asha")}
    for r in range(args.repeat):
        args.seed = base_seed + r
        rows = {name: simulate(name, args) if spark is None else run(spark, name, args, root)
                for name in runners}
        for name, row in rows.items():
            at = best_q_within(row, rows["asha"]["steps"]) if name in extra else None
            print(f"{args.seed:>4} {name:<9} {row['steps']:>6} {row['trial_s']:>8.2f} {row['wall']:>8.2f} "
                  f"{row['stopped']:>7} {row['full']:>5} {row['best']:>9.4f} {row['best_q']:>7.4f} "
                  f"{row['best_index']:>6} {row['top_q']:>6.4f} {'-' if at is None else f'{at:.4f}':>7}",
                  flush=True)
        ratios.append((rows["asha"]["steps"] / rows["random"]["steps"],
                       rows["asha"]["trial_s"] / rows["random"]["trial_s"],
                       rows["asha"]["wall"] / rows["random"]["wall"]))
        same.append(rows["asha"]["best_index"] == rows["random"]["best_index"])
        asha_q = rows["asha"]["best_q"]
        for name in extra:
            at = best_q_within(rows[name], rows["asha"]["steps"])
            extra[name].append((rows[name]["steps"] / rows["asha"]["steps"], rows[name]["best_q"] - asha_q,
                                -math.inf if at is None else at - asha_q))
    steps_r = statistics.median(x[0] for x in ratios)
    secs_r = statistics.median(x[1] for x in ratios)
    wall_r = statistics.median(x[2] for x in ratios)
    ok = "ok" if steps_r <= 1 / 3 and all(same) else "MISS"
    print(f"ASHA / random (median over {args.repeat}): steps {steps_r:.2f}, trial-seconds {secs_r:.2f}, "
          f"wall {wall_r:.2f}; same best trial in {sum(same)}/{len(same)} runs "
          f"(goal: same best, <= 0.33 of the compute: {ok})")
    n = args.repeat
    judged = {name: judge(seen, args.noise) for name, seen in extra.items()}
    ref = judged.get("asha2")
    for name, j in judged.items():
        if name == "asha2":
            verdict = "the reference: ASHA on other random points"
        else:
            assert ref is not None  # asha2 runs whenever a rival does
            spread = 2 * math.sqrt(ref["close"] * (n - ref["close"]) / n)  # 2 sd of the reference's count
            ok = j["close"] >= ref["close"] - spread and \
                j["mean"] - ref["mean"] >= -2 * math.hypot(j["se"], ref["se"])
            verdict = f"goal: as good as asha2, no more steps: {'ok' if ok else 'MISS'}"
        print(f"{name} / ASHA (over {n}): all its trials: steps {j['ratio']:.2f} (median), best q at least ASHA's "
              f"in {j['all_good']}/{n} (within the noise sd {args.noise:g}: {j['all_close']}/{n}); at ASHA's "
              f"steps (q@asha): at least ASHA's in {j['good']}/{n} (within {args.noise:g}: {j['close']}/{n}), "
              f"difference median {j['median']:+.4f}, mean {j['mean']:+.4f} (se {j['se']:.4f}) ({verdict})")
    if spark is not None:
        spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
