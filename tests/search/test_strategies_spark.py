"""Every strategy through the same runner on real local Spark."""

from __future__ import annotations

import json

import pytest

from sparkexp import experiment
from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.space import choice, loguniform


def peak(learning_rate, dropout):
    """Best at learning_rate=0.0005, dropout=0.45 (the seed's hops bounds)."""
    return 1.0 - ((learning_rate - 0.0005) / 0.0009) ** 2 - ((dropout - 0.45) / 0.25) ** 2


def test_evolutionary_search_seed_example(any_spark, root):
    res = experiment.evolutionary_search(
        any_spark, peak, {"learning_rate": [0.0001, 0.001], "dropout": [0.45, 0.7]},
        direction="max", generations=4, population=6, seed=3, root=root, name="de")
    assert len(res.trials) <= (4 + 1) * 6
    assert all(t.status == "complete" for t in res.trials)
    for t in res.trials:
        assert 0.0001 <= t.params["learning_rate"] <= 0.001
        assert 0.45 <= t.params["dropout"] <= 0.7
    first_gen_best = max(t.metric for t in res.trials[:6])
    assert res.best_metric >= first_gen_best
    manifest = json.load(open(res.path + "/experiment.json"))
    assert manifest["strategy"] == "evolutionary"
    assert experiment.differential_evolution is experiment.evolutionary_search


def test_generational_de_gives_the_same_trials_whatever_the_parallelism(spark, root):
    kwargs = dict(direction="max", generations=2, population=5, seed=11, mode="generational",
                  root=root)
    one = experiment.evolutionary_search(spark, peak, {"learning_rate": [0.0001, 0.001],
                                                       "dropout": [0.45, 0.7]}, max_parallel=1, **kwargs)
    two = experiment.evolutionary_search(spark, peak, {"learning_rate": [0.0001, 0.001],
                                                       "dropout": [0.45, 0.7]}, max_parallel=2, **kwargs)
    assert [t.params for t in one.trials] == [t.params for t in two.trials]


def test_random_search_is_seeded(spark, root):
    space = {"learning_rate": loguniform(1e-4, 1e-3), "dropout": [0.45, 0.7]}
    a = experiment.random_search(spark, peak, space, samples=6, seed=5, root=root)
    b = experiment.random_search(spark, peak, space, samples=6, seed=5, root=root, max_parallel=1)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert len({t.params["dropout"] for t in a.trials}) == 6


def categorical(opt, lr):
    return {"adam": 0.9, "sgd": 0.7}[opt] - abs(lr - 0.01)


def test_bayesian_search_with_choices_and_warm_start(any_spark, root):
    res = experiment.bayesian_search(
        any_spark, categorical, {"opt": choice(["adam", "sgd"]), "lr": [0.001, 0.1]},
        trials=8, n_startup=4, seed=1, warm_start=[{"opt": "adam", "lr": 0.01}], root=root)
    assert len(res.trials) == 8
    assert res.trials[0].params == {"opt": "adam", "lr": 0.01}
    assert {t.params["opt"] for t in res.trials} <= {"adam", "sgd"}  # values, never indices
    assert res.best_metric == pytest.approx(0.9)


def test_target_stops_early(spark, root):
    res = experiment.grid_search(spark, lambda x: x, {"x": list(range(50))}, root=root,
                                 target=5, max_parallel=1)
    assert res.best_metric >= 5
    assert len(res.trials) < 10


def trains(lr, reporter):
    for step in range(1, 10):
        reporter.log(step=step, acc=(1 - 0.5 ** step) * (1 - abs(lr - 0.3)))
    return {"acc": 1 - abs(lr - 0.3)}


def test_asha_search_and_early_stopping_on_bayesian(spark, root):
    res = experiment.asha_search(spark, trains, {"lr": [0.0, 1.0]}, samples=9, max_steps=9,
                                 seed=2, metric="acc", root=root)
    assert len(res.trials) == 9
    assert {"stopped", "complete"} >= {t.status for t in res.trials}
    assert any(t.status == "stopped" for t in res.trials)
    res2 = experiment.bayesian_search(spark, trains, {"lr": [0.0, 1.0]}, trials=6, n_startup=6,
                                      seed=2, metric="acc", root=root, early_stopping="median")
    assert len(res2.trials) == 6


def test_hyperband_search_passes_random_search_options_on(spark, root):
    res = experiment.hyperband_search(spark, trains, {"lr": [0.0, 1.0]}, samples=9, max_steps=9,
                                      seed=2, metric="acc", root=root, warm_start=[{"lr": 0.3}])
    assert len(res.trials) == 9
    assert res.trials[0].params == {"lr": 0.3}  # warm_start reached the random search
    assert res.manifest["early_stopping"]["name"] == "hyperband"
    assert any(t.status == "stopped" for t in res.trials)

def test_early_stopping_asha_as_a_string_uses_its_documented_defaults(spark, root):
    res = experiment.random_search(spark, trains, {"lr": [0.0, 1.0]}, samples=9, seed=2,
                                   metric="acc", root=root, early_stopping="asha")
    assert len(res.trials) == 9
    assert any(t.status == "stopped" for t in res.trials)  # rungs 1, 3, 9 without max_steps
    recorded = res.manifest["early_stopping"]
    assert (recorded["name"], recorded["max_steps"], recorded["min_steps"],
            recorded["reduction_factor"]) == ("asha", None, 1, 3)
    assert recorded["rungs"][:2] == [1, 3]


@pytest.mark.parametrize("call, error, message", [
    (lambda s, r: experiment.evolutionary_search(s, peak, {"learning_rate": [0.001, 0.001], "dropout": [0.45, 0.7]}, root=r),
     SearchSpaceError, "learning_rate"),
    (lambda s, r: experiment.random_search(s, peak, {"lr": [0.1, 0.2], "dropout": [0.4, 0.5]}, root=r),
     ConfigError, "unknown hyperparameter 'lr'"),
    (lambda s, r: experiment.random_search(s, peak, [0.1, 0.2], root=r), ConfigError, "space must be a dict"),
    (lambda s, r: experiment.bayesian_search(s, peak, {"learning_rate": ["low", "high"], "dropout": [0.4, 0.5]},
                                             early_stopping="patience", root=r),
     ConfigError, "early_stopping must be 'median', 'asha'"),
    (lambda s, r: experiment.grid_search(s, peak, {"learning_rate": [1], "dropout": [1]}, timeout=-1, root=r),
     ConfigError, "timeout must be a positive number of seconds"),
    (lambda s, r: experiment.grid_search(s, peak, {"learning_rate": [1], "dropout": [1]}, progress="fancy", root=r),
     ConfigError, "progress must be"),
    (lambda s, r: experiment.random_search(s, trains, {"lr": [0.0, 1.0]}, root=r,
                                           early_stopping={"name": "asha", "reduction_factor": 1}),
     ConfigError, "reduction_factor must be a whole number >= 2, got 1"),
])
def test_strategy_bad_input(spark, root, call, error, message):
    import os

    with pytest.raises(error, match=None) as info:
        call(spark, root)
    assert message in str(info.value)
    assert os.listdir(root) == []
