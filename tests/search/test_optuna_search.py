"""OptunaSearch: Optuna's samplers through ask/tell, replay, spaces, objectives, constraints."""

from __future__ import annotations

import math

import optuna
import pytest

from sparkexp.errors import ConfigError
from sparkexp.search import TPESearch, from_settings
from sparkexp.search.optuna_search import OptunaSearch, recorded_constraints
from sparkexp.space import conditional, lognormal, normal, qloguniform, quniform

SPACE = {"x": [-3.0, 3.0], "y": [-3.0, 3.0], "opt": ["a", "b"], "n": [1, 5]}


def loss(p):
    return (p["x"] - 1) ** 2 + (p["y"] + 1) ** 2 + (p["opt"] == "b") + abs(p["n"] - 3)


def drive(search, fn, slots=3, order=None):
    """Keep ``slots`` candidates in flight; tell them oldest first (or in ``order``)."""
    history, pending = [], []
    while not search.is_finished() or pending:
        pending += search.ask(slots - len(pending))
        c = pending.pop(0 if order is None else order(len(pending)))
        history.append((c.key, c.params))
        search.tell(c.key, fn(c.params))
    return history


@pytest.mark.parametrize("sampler, trials", [("tpe", 30), ("cmaes", 30), ("nsga2", 30), ("qmc", 20),
                                             ("random", 20), ("gp", 8)])
def test_every_sampler_replays_exactly_with_trials_in_flight(sampler, trials):
    options = {"n_startup_trials": 4} if sampler == "gp" else None
    a = OptunaSearch(SPACE, trials=trials, sampler=sampler, sampler_options=options, seed=3)
    first = drive(a, loss, order=lambda n: n // 2)
    b = from_settings("optuna", a.settings())
    assert drive(b, loss, order=lambda n: n // 2) == first
    assert len({k for k, _ in first}) == trials
    for _, p in first:
        assert -3 <= p["x"] <= 3 and p["opt"] in ("a", "b") and isinstance(p["n"], int)
    assert a.best_loss == min(loss(p) for _, p in first)


def test_tpe_learns_with_three_trials_in_flight():
    s = OptunaSearch(SPACE, trials=60, seed=0)
    history = drive(s, loss)
    assert min(loss(p) for _, p in history[40:]) < min(loss(p) for _, p in history[:10])
    assert s.best_loss < 0.6


def test_space_mapping_keeps_values_inside_sparkexp_rules():
    space = {"q": quniform(1, 10, 4), "ql": qloguniform(1, 1000, 5), "nrm": normal(0, 1),
             "ln": lognormal(0, 1), "objs": [[1, 2], {"k": 1}, "s"], "fixed": 7,
             "model": ["tree", "svm"], "depth": conditional([1, 9], when={"model": "tree"})}
    s = OptunaSearch(space, trials=40, sampler="random", seed=1)
    for c in s.ask(40):
        p = c.params
        assert p["q"] in (4, 8) and p["ql"] % 5 == 0 and 5 <= p["ql"] <= 1000
        assert math.isfinite(p["nrm"]) and p["ln"] > 0 and p["fixed"] == 7
        assert p["objs"] in ([1, 2], {"k": 1}, "s")
        assert ("depth" in p) == (p["model"] == "tree")
        assert set(s.study.trials[c.key].params) == set(p) - {"fixed"}  # absent: not suggested
        s.tell(c.key, 1.0)


def space_fn(trial):
    model = trial.suggest_categorical("model", ["tree", "svm"])
    if model == "tree":
        trial.suggest_int("depth", 1, 9)
    else:
        trial.suggest_float("C", 1e-3, 10, log=True)


def test_define_by_run_function_and_its_names():
    s = OptunaSearch(space_fn, trials=20, seed=2)
    assert s.names() == (["model"], ["C", "depth"])
    history = drive(s, lambda p: p.get("depth", 0) + p.get("C", 0))
    assert all(set(p) in ({"model", "depth"}, {"model", "C"}) for _, p in history)
    assert s.settings()["define"].endswith(":space_fn")
    assert drive(from_settings("optuna", s.settings()), lambda p: p.get("depth", 0) + p.get("C", 0)) == history
    with pytest.raises(ConfigError, match="define-by-run function cannot be imported"):
        from_settings("optuna", {**s.settings(), "define": None})


def test_several_objectives_with_nsga2_and_constraints_reach_the_sampler():
    s = OptunaSearch({"x": [0.0, 1.0], "y": [0.0, 1.0]}, trials=40, sampler="nsga2",
                     sampler_options={"population_size": 10}, seed=0, objectives=2, constraints=True)
    for c in s.ask(40):
        x, y = c.params["x"], c.params["y"]
        s.tell_constraints(c.key, [x - 0.8])
        s.tell_objectives(c.key, [x, 1 - x + y])
    trials = s.study.trials
    assert all(t.system_attrs["constraints"] == (t.params["x"] - 0.8,) for t in trials)
    feasible_front = [t for t in s.study.best_trials if t.params["x"] <= 0.8]
    assert feasible_front == s.study.best_trials  # Optuna's front leaves infeasible trials out
    assert recorded_constraints(trials[0]) == (trials[0].params["x"] - 0.8,)


def test_pruner_stops_a_bad_trial_from_its_reports():
    s = OptunaSearch({"x": [0.0, 1.0]}, trials=6, seed=0, pruner="median",
                     pruner_options={"n_startup_trials": 2, "n_warmup_steps": 0})
    stopper = s.stopper()
    for c in s.ask(2):  # two good trials finish their curves
        for step in range(3):
            assert not stopper.report(c.key, step, 0.1 * step)
        s.tell(c.key, 0.2)
    bad = s.ask(1)[0]
    assert stopper.report(bad.key, 0, 5.0) is True
    s.tell(bad.key, 5.0, "stopped")
    assert s.study.trials[bad.key].state == optuna.trial.TrialState.PRUNED
    assert stopper.settings() == {"name": "optuna", "pruner": "median"}


def test_statuses_map_to_optuna_states():
    s = OptunaSearch({"x": [0.0, 1.0]}, trials=4, sampler="random", seed=0)
    keys = [c.key for c in s.ask(4)]
    s.tell(keys[0], 0.5)
    s.tell(keys[1], None, "error")
    s.tell(keys[2], None, "timeout")
    s.tell(keys[3], 0.7, "stopped")
    states = [t.state.name for t in s.study.trials]
    assert states == ["COMPLETE", "FAIL", "FAIL", "PRUNED"]
    assert s.study.trials[3].intermediate_values == {0: 0.7}
    with pytest.raises(ValueError, match="not an asked, untold candidate"):
        s.tell(keys[0], 0.1)


def test_objective_counts_are_checked():
    with pytest.raises(ConfigError, match=r"'tpe' search optimises 1 objective\(s\), not 2"):
        TPESearch({"x": [0.0, 1.0]}, trials=3).check_objectives(2)
    with pytest.raises(ConfigError, match="'optuna' search optimises 1 objective"):
        OptunaSearch({"x": [0.0, 1.0]}, trials=3, sampler="cmaes").check_objectives(2)
    OptunaSearch({"x": [0.0, 1.0]}, trials=3, sampler="nsga2", objectives=2).check_objectives(2)
    with pytest.raises(ConfigError, match="prunes single-objective studies only"):
        OptunaSearch({"x": [0.0, 1.0]}, trials=3, objectives=2, pruner="median")


@pytest.mark.parametrize("kwargs, message", [
    ({"sampler": "bohb"}, "unknown sampler 'bohb'; accepted: tpe, cmaes, nsga2"),
    ({"sampler": "tpe", "sampler_options": {"popsize": 3}}, r"does not take \['popsize'\]"),
    ({"pruner": "asha"}, "unknown pruner 'asha'; accepted: median"),
    ({"sampler": 3}, "sampler must be one of"),
    ({"trials": 0}, "OptunaSearch: trials must be a positive whole number, got 0"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        OptunaSearch({"x": [0.0, 1.0]}, **{"trials": 3, **kwargs})


def test_a_sampler_object_runs_but_is_not_rebuilt():
    s = OptunaSearch({"x": [0.0, 1.0]}, trials=3, sampler=optuna.samplers.RandomSampler(seed=1))
    assert s.settings()["sampler"].startswith("object:optuna.samplers")
    with pytest.raises(ConfigError, match="sampler was an object"):
        from_settings("optuna", s.settings())


def test_best_params_are_the_values_the_trial_got():
    space = {"q": quniform(0, 100, 10), "nrm": normal(0, 1), "objs": [[1, 2], {"k": 1}]}
    s = OptunaSearch(space, trials=12, sampler="random", seed=3)
    told = {}
    for c in s.ask(12):
        told[c.key] = c.params
        s.tell(c.key, abs(c.params["nrm"]))
    best = min(told.values(), key=lambda p: abs(p["nrm"]))
    assert s.best_params == best and s.best_params["q"] % 10 == 0
