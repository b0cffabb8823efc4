"""DifferentialEvolution: budget, modes, memoised repeats, failures, determinism, quality."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from support.replay import assert_replays, trace

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search import DifferentialEvolution
from sparkexp.space import choice, uniformint

BOX = {f"x{i}": [-5.0, 5.0] for i in range(4)}


def sphere(p):
    return sum(v * v for k, v in p.items() if k.startswith("x"))


def drive(de, fn=sphere, batch=10**6):
    """Ask all that is available, tell it all in key order; returns (losses by key)."""
    losses = {}
    while not de.is_finished():
        cands = de.ask(batch)
        # empty only when the rest of the budget was served from memory
        assert cands or de.is_finished(), "generational DE must not wait once all is told"
        for c in cands:
            losses[c.key] = fn(c.params)
            de.tell(c.key, losses[c.key])
    return losses


def simulate(de, fn=sphere, slots=4, seed=0):
    """P slots, log-normal durations; returns (number of asks that came back empty while
    nothing ran, number of trials)."""
    rng = np.random.default_rng(seed)
    now, running, trials, stuck = 0.0, [], 0, 0
    while True:
        free = slots - len(running)
        got = de.ask(free) if free else []
        for c in got:
            heapq.heappush(running, (now + rng.lognormal(), c.key, fn(c.params)))
            trials += 1
        if not running:
            stuck += not de.is_finished()
            break
        now, key, loss = heapq.heappop(running)
        de.tell(key, loss)
    return stuck, trials


def test_budget_is_generations_plus_one_times_population():
    de = DifferentialEvolution(BOX, generations=3, population=6, seed=0)
    losses = drive(de)
    assert de.budget == de.max_trials == 24
    assert len(losses) + de.memo_hits == 24 and de.memo_hits == 0
    assert de.total is None and de.ask(5) == []


def test_generational_mode_waits_for_the_whole_generation():
    de = DifferentialEvolution(BOX, generations=2, population=5, seed=1, mode="generational")
    first = de.ask(3) + de.ask(10)
    assert [c.key for c in first] == [0, 1, 2, 3, 4]
    for c in first[:4]:
        de.tell(c.key, sphere(c.params))
    assert de.ask(5) == []  # one result of generation 0 still missing
    de.tell(first[4].key, sphere(first[4].params))
    assert [c.key for c in de.ask(10)] == [5, 6, 7, 8, 9]


@pytest.mark.parametrize("mode", ["generational", "async"])
def test_ask_n_equals_n_single_asks_and_replay_is_deterministic(mode):
    def make(seed):
        return DifferentialEvolution(BOX, generations=4, population=6, seed=seed, mode=mode)

    proposed = assert_replays(make, sphere, seed=42, batch=6)
    if mode == "generational":  # a whole generation at most, however many are asked for
        assert trace(make(42), sphere, 100) == proposed


@pytest.mark.parametrize("mode", ["generational", "async"])
def test_same_history_same_proposals(mode):
    def trace():
        de = DifferentialEvolution(BOX, generations=5, population=8, seed=5, mode=mode)
        simulate(de, slots=3, seed=9)
        return de.best_loss, de.best_params

    assert trace() == trace()


@pytest.mark.parametrize(
    "strategy", ["best1bin", "rand1bin", "currenttobest1bin", "best2bin", "rand2bin"]
)
@pytest.mark.parametrize("mode", ["generational", "async"])
def test_improves_on_a_sphere(strategy, mode):
    de = DifferentialEvolution(BOX, generations=25, population=12, seed=0, strategy=strategy,
                               mode=mode)
    initial = [sphere(de.space.from_unit(v)) for v in de._pop]  # noqa: SLF001
    stuck, _ = simulate(de, slots=4)
    assert stuck == 0
    # the population as a whole moved towards the optimum ...
    assert np.median(de._fit) < np.median(initial) / 10, (np.median(de._fit), np.median(initial))  # noqa: SLF001
    # ... and DE beat random search with the same number of evaluations
    rnd = np.random.default_rng(0).uniform(-5, 5, (de.budget, 4))
    random_best = float(np.min(np.sum(rnd**2, axis=1)))
    assert de.best_loss < random_best, (de.best_loss, random_best)
    if strategy == "best1bin":
        assert de.best_loss < random_best / 20, (de.best_loss, random_best)


def test_async_never_waits_forever_and_keeps_slots_busy():
    de = DifferentialEvolution(BOX, generations=10, population=6, mode="async", seed=3)
    # more slots than the population: async must keep proposing as results arrive
    stuck, trials = simulate(de, slots=10, seed=1)
    assert stuck == 0 and trials + de.memo_hits == de.budget == 66
    assert de.is_finished()


def test_async_proposes_right_after_each_result():
    de = DifferentialEvolution(BOX, generations=3, population=6, mode="async", seed=2)
    init = de.ask(100)
    assert len(init) == 6 and de.ask(1) == []  # nothing known yet
    de.tell(init[3].key, 1.0)
    nxt = de.ask(1)
    assert len(nxt) == 1  # one result is enough, no generation barrier
    de.tell(nxt[0].key, 0.5)
    assert len(de.ask(1)) == 1


def test_memoised_repeats_reuse_the_loss_and_use_their_slot():
    space = {"a": uniformint(0, 2), "b": choice(["x", "y"])}  # only 6 distinct points
    de = DifferentialEvolution(space, generations=10, population=5, seed=0)
    calls = {}

    def f(p):
        key = (p["a"], p["b"])
        calls[key] = calls.get(key, 0) + 1
        return p["a"] + (p["b"] == "y")

    losses = drive(de, f)
    assert all(n == 1 for n in calls.values()), calls  # no point evaluated twice
    assert len(losses) == len(calls) <= 6
    assert len(losses) + de.memo_hits == de.budget == 55
    assert de.best_loss == 0 and de.best_params == {"a": 0, "b": "x"}


def test_in_flight_repeat_waits_for_the_running_trial():
    de = DifferentialEvolution({"a": uniformint(0, 1)}, generations=2, population=3, seed=1,
                               strategy="best1bin")
    cands = de.ask(10)
    # three members, only two distinct values: at least one slot waits on an in-flight twin
    assert len(cands) + de.memo_hits == 3 and len(cands) <= 2
    for c in cands:
        de.tell(c.key, float(c.params["a"]))
    drive(de, lambda p: float(p["a"]))
    assert de.is_finished() and de.best_loss == 0.0


def test_failed_and_nan_trials_rank_last():
    de = DifferentialEvolution({"x": [-1.0, 1.0]}, generations=6, population=6, seed=4)

    def f(p):
        if p["x"] > 0:
            return None  # errors on the right half
        return -p["x"]

    drive(de, f)
    assert de.best_params is not None and de.best_params["x"] <= 0
    assert de.best_loss == pytest.approx(0, abs=0.2)
    nan = DifferentialEvolution({"x": [-1.0, 1.0]}, generations=3, population=4, seed=4)
    drive(nan, lambda p: float("nan") if p["x"] > 0 else -p["x"])
    assert math.isfinite(nan.best_loss)


def test_stopped_trials_count_with_their_last_loss():
    de = DifferentialEvolution({"x": [0.0, 1.0]}, generations=1, population=4, seed=0)
    for c in de.ask(4):
        de.tell(c.key, c.params["x"], "stopped")
    assert de.best_loss == min(de._fit)  # noqa: SLF001 - the population took the losses


def test_warm_start_points_seed_the_population():
    warm = [{"x0": 0.0, "x1": 0.0, "x2": 0.0, "x3": 0.0}]
    de = DifferentialEvolution(BOX, generations=1, population=6, seed=0, warm_start=warm)
    first = de.ask(6)
    assert first[0].params == warm[0]


def test_latin_hypercube_start_covers_every_stratum():
    de = DifferentialEvolution({"x": [0.0, 1.0], "y": [0.0, 1.0]}, population=10, seed=0)
    pts = [c.params for c in de.ask(10)]
    for k in ("x", "y"):
        assert sorted(int(p[k] * 10) for p in pts) == list(range(10))


def test_tell_rejects_unknown_or_repeated_keys():
    de = DifferentialEvolution(BOX, population=6, seed=0)
    c = de.ask(1)[0]
    de.tell(c.key, 1.0)
    with pytest.raises(ValueError, match="key 0"):
        de.tell(c.key, 1.0)
    with pytest.raises(ValueError, match="key 99"):
        de.tell(99, 1.0)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"population": 3, "strategy": "rand1bin"}, ["rand1bin", "population >= 4", "population=3"]),
        ({"strategy": "best3bin"}, ["strategy 'best3bin'", "rand1bin"]),
        ({"mode": "sync"}, ["mode 'sync'", "async"]),
        ({"init": "sobol"}, ["init 'sobol'", "latinhypercube"]),
        ({"mutation": 0}, ["mutation", "got 0"]),
        ({"mutation": (1.0, 0.5)}, ["mutation", "(1.0, 0.5)"]),
        ({"crossover": 1.5}, ["crossover", "1.5"]),
        ({"generations": -1}, ["generations", "-1"]),
        ({"population": 6, "warm_start": [{"x0": 9.0}]}, ["warm_start[0]", "'x0' = 9.0"]),
    ],
)
def test_options_are_validated(kwargs, words):
    with pytest.raises((ConfigError, SearchSpaceError)) as info:
        DifferentialEvolution(BOX, **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_all_fixed_space_is_refused():
    with pytest.raises(SearchSpaceError, match="every hyperparameter"):
        DifferentialEvolution({"a": 1, "b": "x"})


def test_hops_defaults_and_settings():
    de = DifferentialEvolution({"lr": [0.001, 0.01], "dropout": [0.45, 0.7]}, seed=0)
    s = de.settings()
    assert (s["generations"], s["population"], s["budget"]) == (4, 6, 30)
    assert (s["strategy"], s["mutation"], s["crossover"], s["init"], s["mode"]) == (
        "best1bin", [0.5, 1.0], 0.7, "latinhypercube", "async"
    )
    # one default, whichever door: the hops-style function takes the class's own
    import inspect

    from sparkexp import experiment

    entry = inspect.signature(experiment.evolutionary_search).parameters
    for name, param in inspect.signature(DifferentialEvolution).parameters.items():
        if name in entry and param.default is not inspect.Parameter.empty:
            assert entry[name].default == param.default, name
