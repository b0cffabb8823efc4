"""Search quality of sparkexp's strategies against the reference implementations, no Spark.

Three comparisons, each at equal numbers of objective evaluations:

1. ``DifferentialEvolution`` (driven by a tiny in-process ask/tell loop) against
   ``scipy.optimize.differential_evolution`` with scipy's defaults (best1bin, dither
   (0.5, 1), crossover 0.7, Latin hypercube, ``updating="immediate"``) and with
   ``updating="deferred"`` (whole generations, what scipy itself uses when parallel and what
   generational DE does), plus the textbook DE/rand/1/bin with F=0.5 from a
   uniform start, and async DE told one result at a time (the analogue of scipy's immediate
   updating), on sphere, Rosenbrock, Rastrigin and Ackley.
2. ``TPESearch`` against hyperopt's own ``fmin(algo=tpe.suggest)``.
3. Async (steady-state) DE against generational DE on P simulated slots with long-tailed
   trial durations (log-normal, sigma 1): best loss at equal evaluations, slot utilisation
   (busy slot-time / (P * makespan)) and makespan, from a discrete-event simulation.
4. ``OptunaSearch`` (ask/tell, one trial at a time and with P trials in flight) against
   Optuna's own ``study.optimize`` with the same sampler, on held-out functions (Styblinski-Tang,
   Levy, Griewank: none was used to choose any default here).
5. Several objectives: hypervolume of NSGA-II through ``OptunaSearch`` (sequential and P in
   flight) against Optuna's ``optimize`` with ``NSGAIISampler``, and random search, on ZDT1
   and ZDT2.

Numbers are the best loss found (lower is better; every function's optimum is 0). Each cell
is the median over seeds with the 25th-75th percentile spread; "ratio" is our median over the
reference median; "wins" counts seeds where ours is at least as good.

Usage::

    PYTHONPATH=. python benchmarks/search_quality.py            # default, a few minutes
    PYTHONPATH=. python benchmarks/search_quality.py --full     # more dims / seeds for TPE
    PYTHONPATH=. python benchmarks/search_quality.py --only de --dims 2 5 --seeds 3
"""

from __future__ import annotations

import argparse
import heapq
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sparkexp.search import DifferentialEvolution, Search, TPESearch

Objective = Callable[[np.ndarray], float]


def sphere(x: np.ndarray) -> float:
    return float(np.sum(x**2))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))


def ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
        - np.exp(np.sum(np.cos(2 * np.pi * x)) / d)
        + 20
        + math.e
    )


#: name -> (function, (low, high) of every coordinate)
FUNCTIONS: dict[str, tuple[Objective, tuple[float, float]]] = {
    "sphere": (sphere, (-5.0, 5.0)),
    "rosenbrock": (rosenbrock, (-5.0, 10.0)),
    "rastrigin": (rastrigin, (-5.12, 5.12)),
    "ackley": (ackley, (-32.768, 32.768)),
}


def space_for(dim: int, bounds: tuple[float, float]) -> dict[str, list[float]]:
    return {f"x{i}": [bounds[0], bounds[1]] for i in range(dim)}


def vector(params: dict[str, Any], dim: int) -> np.ndarray:
    return np.array([params[f"x{i}"] for i in range(dim)], dtype=float)


def run_batch(search: Search, fn: Objective, dim: int) -> tuple[float, int]:
    """Ask everything available, tell it all, repeat: the order of a generational runner."""
    best, evals = math.inf, 0
    while not search.is_finished():
        batch = search.ask(10**6)
        if not batch:
            raise RuntimeError("search waits although every result was told")
        for c in batch:
            loss = fn(vector(c.params, dim))
            best, evals = min(best, loss), evals + 1
            search.tell(c.key, loss)
    return best, evals


def simulate(
    search: Search, fn: Objective, dim: int, slots: int, seed: int
) -> tuple[float, int, float, float]:
    """Discrete-event simulation of ``slots`` executors; durations log-normal(0, 1).

    Returns best loss, evaluations, slot utilisation and makespan.
    """
    rng = np.random.default_rng(seed + 10_000)
    now, busy = 0.0, 0.0
    running: list[tuple[float, int, float]] = []  # (finish time, key, loss)
    best, evals = math.inf, 0
    while True:
        free = slots - len(running)
        for c in search.ask(free) if free else []:
            duration = float(rng.lognormal(0.0, 1.0))
            loss = fn(vector(c.params, dim))
            busy += duration
            heapq.heappush(running, (now + duration, c.key, loss))
        if not running:
            break
        now, key, loss = heapq.heappop(running)
        best, evals = min(best, loss), evals + 1
        search.tell(key, loss)
    return best, evals, busy / (slots * now) if now else 0.0, now


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 25)), float(np.percentile(a, 75))


def cell(values: Sequence[float]) -> str:
    m, lo, hi = summary(values)
    return f"{m:.3g} [{lo:.3g}, {hi:.3g}]"


def ratio(ours: Sequence[float], ref: Sequence[float]) -> str:
    a, b = float(np.median(ours)), float(np.median(ref))
    if b == 0:
        return "inf" if a > 0 else "1"
    return f"{a / b:.2f}"


def wins(ours: Sequence[float], ref: Sequence[float]) -> str:
    return f"{sum(o <= r for o, r in zip(ours, ref, strict=True))}/{len(ours)}"


# -- 1. DE against scipy -------------------------------------------------------------------------

#: name -> DifferentialEvolution options; "async" configs are driven one trial at a time.
DE_CONFIGS: dict[str, dict[str, Any]] = {
    "sparkexp default (best1bin, F~U(0.5,1), LHS)": {},
    "sparkexp rand1bin F=0.5 uniform init": {
        "strategy": "rand1bin",
        "mutation": 0.5,
        "init": "random",
    },
    "sparkexp default, async, 1 slot": {"mode": "async"},
}


def de_population(dim: int) -> int:
    return 10 * dim


def bench_de(dims: Sequence[int], seeds: int, generations: int) -> None:
    from scipy.optimize import differential_evolution

    print(
        f"\n## 1. DifferentialEvolution vs scipy.optimize.differential_evolution "
        f"(population 10*d, {generations} generations, budget (G+1)*population, {seeds} seeds)\n"
    )
    header = ["function", "d", "evals", "scipy defaults (immediate)", "scipy deferred"]
    for name in DE_CONFIGS:
        header += [name, "ratio imm.", "ratio def.", "wins def."]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for fname, (fn, bounds) in FUNCTIONS.items():
        for dim in dims:
            pop = de_population(dim)
            budget = (generations + 1) * pop
            refs: dict[str, list[float]] = {"immediate": [], "deferred": []}
            for updating, ref in refs.items():
                for seed in range(seeds):
                    res = differential_evolution(
                        fn,
                        [bounds] * dim,
                        popsize=pop // dim,
                        maxiter=generations,
                        polish=False,
                        tol=0,
                        atol=0,
                        seed=seed,
                        updating=updating,
                    )
                    if res.nfev != budget:
                        print(f"  note: scipy used {res.nfev} evaluations, budget {budget}",
                              file=sys.stderr)
                    ref.append(float(res.fun))
            imm, ref = refs["immediate"], refs["deferred"]
            row = [fname, str(dim), str(budget), cell(imm), cell(ref)]
            for opts in DE_CONFIGS.values():
                ours = []
                for seed in range(seeds):
                    de = DifferentialEvolution(
                        space_for(dim, bounds),
                        generations=generations,
                        population=pop,
                        seed=seed,
                        **opts,
                    )
                    if opts.get("mode") == "async":
                        best, evals = run_batch_one(de, fn, dim), budget
                    else:
                        best, evals = run_batch(de, fn, dim)
                    assert evals <= budget
                    ours.append(best)
                row += [cell(ours), ratio(ours, imm), ratio(ours, ref), wins(ours, ref)]
            print("| " + " | ".join(row) + " |", flush=True)


# -- 2. TPE against hyperopt fmin ----------------------------------------------------------------


def bench_tpe(dims: Sequence[int], seeds: int, trials: int, slots: int) -> None:
    import hyperopt
    from hyperopt import fmin, hp, tpe

    print(
        f"\n## 2. TPESearch vs hyperopt fmin(algo=tpe.suggest) ({trials} trials, 20 random "
        f"start-up trials, {seeds} seeds)\n"
    )
    print(
        "| function | d | hyperopt fmin | TPESearch sequential | ratio | wins "
        f"| TPESearch, {slots} simulated slots (pending trials in Trials) | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for fname, (fn, bounds) in FUNCTIONS.items():
        for dim in dims:
            ref, seq, par = [], [], []
            for seed in range(seeds):
                space = {f"x{i}": hp.uniform(f"x{i}", *bounds) for i in range(dim)}
                tr = hyperopt.Trials()
                fmin(
                    lambda p, d=dim, f=fn: f(vector(p, d)),
                    space,
                    algo=tpe.suggest,
                    max_evals=trials,
                    trials=tr,
                    rstate=np.random.default_rng(seed),
                    show_progressbar=False,
                )
                ref.append(min(tr.losses()))
                s = TPESearch(space_for(dim, bounds), trials=trials, seed=seed)
                seq.append(run_batch_one(s, fn, dim))
                s = TPESearch(space_for(dim, bounds), trials=trials, seed=seed)
                par.append(simulate(s, fn, dim, slots, seed)[0])
            print(
                f"| {fname} | {dim} | {cell(ref)} | {cell(seq)} | {ratio(seq, ref)} | "
                f"{wins(seq, ref)} | {cell(par)} | {ratio(par, ref)} |",
                flush=True,
            )


def run_batch_one(search: Search, fn: Objective, dim: int) -> float:
    """Strictly sequential: ask one, tell one (what fmin does)."""
    best = math.inf
    while not search.is_finished():
        for c in search.ask(1):
            loss = fn(vector(c.params, dim))
            best = min(best, loss)
            search.tell(c.key, loss)
    return best


# -- 4. OptunaSearch against Optuna's own loop -----------------------------------------------------


def styblinski_tang(x: np.ndarray) -> float:
    # shifted so that the optimum (x_i = -2.903534) is 0
    return float(np.sum(x**4 - 16 * x**2 + 5 * x) / 2 + 39.16616570377142 * len(x))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = np.sin(np.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def griewank(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(np.sum(x**2) / 4000 - np.prod(np.cos(x / np.sqrt(i))) + 1)


#: functions no default of sparkexp was chosen on
HELD_OUT: dict[str, tuple[Objective, tuple[float, float]]] = {
    "styblinski-tang": (styblinski_tang, (-5.0, 5.0)),
    "levy": (levy, (-10.0, 10.0)),
    "griewank": (griewank, (-50.0, 50.0)),
}


def _quiet_optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _optuna_sampler(name: str, seed: int, **options: Any) -> Any:
    optuna = _quiet_optuna()
    cls = {"tpe": optuna.samplers.TPESampler, "cmaes": optuna.samplers.CmaEsSampler,
           "nsga2": optuna.samplers.NSGAIISampler}[name]
    return cls(seed=seed, **options)


def bench_optuna(dims: Sequence[int], seeds: int, trials: int, slots: int,
                 samplers: Sequence[str]) -> None:
    from sparkexp.search.optuna_search import OptunaSearch

    optuna = _quiet_optuna()
    print(
        f"\n## 4. OptunaSearch vs Optuna's study.optimize, same sampler, held-out functions "
        f"({trials} trials, {seeds} seeds)\n"
    )
    print("| sampler | function | d | Optuna optimize | OptunaSearch, 1 in flight | ratio | "
          f"within spread | same seed: identical | OptunaSearch, {slots} in flight | ratio | "
          "within spread |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for sampler in samplers:
        for fname, (fn, bounds) in HELD_OUT.items():
            for dim in dims:
                ref, seq, par, same = [], [], [], 0
                for seed in range(seeds):
                    study = optuna.create_study(sampler=_optuna_sampler(sampler, seed))
                    study.optimize(lambda t, f=fn, d=dim, b=bounds: f(np.array(
                        [t.suggest_float(f"x{i}", *b) for i in range(d)])), n_trials=trials)
                    ref.append(study.best_value)
                    # with the reference's own seed the adapter must reproduce it exactly
                    s = OptunaSearch(space_for(dim, bounds), trials=trials, sampler=sampler,
                                     seed=seed)
                    same += run_batch_one(s, fn, dim) == study.best_value
                    s = OptunaSearch(space_for(dim, bounds), trials=trials, sampler=sampler,
                                     seed=seed + 1000)
                    seq.append(run_batch_one(s, fn, dim))
                    s = OptunaSearch(space_for(dim, bounds), trials=trials, sampler=sampler,
                                     seed=seed + 2000)
                    par.append(simulate(s, fn, dim, slots, seed)[0])
                print(f"| {sampler} | {fname} | {dim} | {cell(ref)} | {cell(seq)} | "
                      f"{ratio(seq, ref)} | {within(seq, ref)} | {same}/{seeds} | {cell(par)} | "
                      f"{ratio(par, ref)} | {within(par, ref)} |", flush=True)


def within(ours: Sequence[float], ref: Sequence[float]) -> str:
    """"yes" when our median lies inside the reference's 25th-75th percentile spread."""
    m = float(np.median(ours))
    _, lo, hi = summary(ref)
    return "yes" if lo <= m <= hi else "no"


# -- 5. several objectives: hypervolume -------------------------------------------------------------


def zdt1(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * float(np.sum(x[1:])) / (len(x) - 1)
    return float(x[0]), g * (1 - math.sqrt(x[0] / g))


def zdt2(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * float(np.sum(x[1:])) / (len(x) - 1)
    return float(x[0]), g * (1 - (x[0] / g) ** 2)


ZDT: dict[str, Callable[[np.ndarray], tuple[float, float]]] = {"zdt1": zdt1, "zdt2": zdt2}
#: hypervolume reference point (both objectives minimised)
HV_REF = (1.1, 1.1)


def hypervolume(points: Sequence[tuple[float, float]], ref: tuple[float, float] = HV_REF) -> float:
    """Area dominated by ``points`` (2 objectives, both minimised) and bounded by ``ref``."""
    inside = sorted((a, b) for a, b in points if a < ref[0] and b < ref[1])
    area, best_b = 0.0, ref[1]
    for a, b in inside:  # ascending first objective: each point adds the strip below best_b
        if b < best_b:
            area += (ref[0] - a) * (best_b - b)
            best_b = b
    return area


def run_multi(search: Search, fn: Callable[[np.ndarray], tuple[float, float]], dim: int,
              slots: int, seed: int) -> list[tuple[float, float]]:
    """Drive a several-objective search with ``slots`` in flight (random completion order)."""
    rng = np.random.default_rng(seed + 5000)
    running: list[Any] = []
    points = []
    while not search.is_finished() or running:
        running += search.ask(slots - len(running))
        c = running.pop(int(rng.integers(len(running))))
        values = fn(vector(c.params, dim))
        points.append(values)
        search.tell_objectives(c.key, list(values))
    return points


def bench_multi(dim: int, seeds: int, trials: int, population: int, slots: int) -> None:
    from sparkexp.search import RandomSearch
    from sparkexp.search.optuna_search import OptunaSearch

    optuna = _quiet_optuna()
    print(
        f"\n## 5. Several objectives: hypervolume (reference point {HV_REF}, higher is better), "
        f"d={dim}, {trials} trials, NSGA-II population {population}, {seeds} seeds\n"
    )
    print("| problem | Optuna optimize, NSGAIISampler | OptunaSearch nsga2, 1 in flight | ratio | "
          f"within spread | OptunaSearch nsga2, {slots} in flight | ratio | within spread | "
          "RandomSearch | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for pname, fn in ZDT.items():
        ref, seq, par, rnd = [], [], [], []
        for seed in range(seeds):
            study = optuna.create_study(directions=["minimize", "minimize"],
                                        sampler=_optuna_sampler("nsga2", seed, population_size=population))
            study.optimize(lambda t, f=fn: f(np.array([t.suggest_float(f"x{i}", 0.0, 1.0)
                                                      for i in range(dim)])), n_trials=trials)
            ref.append(hypervolume([tuple(t.values) for t in study.trials]))
            for out, n in ((seq, 1), (par, slots)):
                s = OptunaSearch(space_for(dim, (0.0, 1.0)), trials=trials, sampler="nsga2",
                                 sampler_options={"population_size": population},
                                 seed=seed + 1000 * n, objectives=2)
                out.append(hypervolume(run_multi(s, fn, dim, n, seed)))
            r = RandomSearch(space_for(dim, (0.0, 1.0)), samples=trials, seed=seed)
            rnd.append(hypervolume(run_multi(r, fn, dim, 1, seed)))
        print(f"| {pname} | {cell(ref)} | {cell(seq)} | {ratio(seq, ref)} | {within(seq, ref)} | "
              f"{cell(par)} | {ratio(par, ref)} | {within(par, ref)} | {cell(rnd)} | "
              f"{ratio(rnd, ref)} |", flush=True)


# -- 3. async against generational DE -------------------------------------------------------------


def bench_async(dim: int, seeds: int, generations: int, population: int, slots: int) -> None:
    print(
        f"\n## 3. Async vs generational DE on {slots} simulated slots, d={dim}, population "
        f"{population}, {generations} generations, trial durations log-normal(0, 1), "
        f"{seeds} seeds\n"
    )
    print(
        "| function | evals | generational best | async best | ratio | wins "
        "| generational util. | async util. | generational makespan | async makespan |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fname, (fn, bounds) in FUNCTIONS.items():
        res: dict[str, list[tuple[float, int, float, float]]] = {"generational": [], "async": []}
        for mode in res:
            for seed in range(seeds):
                de = DifferentialEvolution(
                    space_for(dim, bounds),
                    generations=generations,
                    population=population,
                    mode=mode,
                    seed=seed,
                )
                res[mode].append(simulate(de, fn, dim, slots, seed))
        g, a = res["generational"], res["async"]
        gb, ab = [r[0] for r in g], [r[0] for r in a]
        evals = {r[1] for r in g + a}
        print(
            f"| {fname} | {'/'.join(map(str, sorted(evals)))} | {cell(gb)} | {cell(ab)} | "
            f"{ratio(ab, gb)} | {wins(ab, gb)} | {np.median([r[2] for r in g]):.0%} | "
            f"{np.median([r[2] for r in a]):.0%} | {np.median([r[3] for r in g]):.1f} | "
            f"{np.median([r[3] for r in a]):.1f} |",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="TPE in 10-D too, more DE generations")
    p.add_argument("--only", choices=["de", "tpe", "async", "optuna", "multi"], action="append")
    p.add_argument("--quick", action="store_true",
                   help="smaller budgets for the Optuna sections (4, 5)")
    p.add_argument("--samplers", nargs="+", default=["tpe", "cmaes"])
    p.add_argument("--dims", type=int, nargs="+", default=None)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--generations", type=int, default=20)
    p.add_argument("--tpe-trials", type=int, default=100)
    p.add_argument("--slots", type=int, default=8)
    args = p.parse_args(argv)
    only = set(args.only or ["de", "tpe", "async", "optuna", "multi"])
    t0 = time.time()
    print(f"# search_quality: {' '.join(sys.argv[1:]) or '(defaults)'}")
    if "de" in only:
        bench_de(args.dims or [2, 5, 10], args.seeds, args.generations)
    if "tpe" in only:
        dims = args.dims or ([2, 5, 10] if args.full else [2, 5])
        bench_tpe(dims, args.seeds, args.tpe_trials, args.slots)
    if "async" in only:
        bench_async(5, args.seeds, args.generations, 20, args.slots)
    if "optuna" in only:
        bench_optuna(args.dims or [2, 5], args.seeds, 40 if args.quick else 100, 4,
                     args.samplers)
    if "multi" in only:
        bench_multi(5, args.seeds, 400 if args.quick else 1000, 20, 4)
    print(f"\n(total {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
