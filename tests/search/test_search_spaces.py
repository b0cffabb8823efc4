"""Searches over hyperopt spaces as written and over conditional spaces (no Spark)."""

from __future__ import annotations

import numpy as np
import pytest
from hyperopt import hp
from hyperopt.pyll import scope

from sparkexp.errors import SearchSpaceError
from sparkexp.search import (
    DifferentialEvolution,
    GridSearch,
    RandomSearch,
    TPESearch,
    from_settings,
)

HSPACE = {
    "opt": hp.choice("opt", [
        {"name": "adam", "lr": hp.loguniform("adam_lr", np.log(1e-4), np.log(1.0))},
        {"name": "sgd", "lr": hp.uniform("sgd_lr", 0.0, 1.0), "mom": hp.quniform("mom", 0, 1, 0.1)},
    ]),
    "layers": scope.int(hp.quniform("layers", 1, 5, 1)),
    "x": hp.uniform("x", -3, 3),
}

COND = {
    "model": ["tree", "svm"],
    "depth": {"values": [1, 9], "when": {"model": "tree"}},
    "C": {"values": [0.0, 10.0], "when": {"model": "svm"}},
}


def hloss(p):
    return (p["x"] - 1) ** 2 + (0.0 if p["opt"]["name"] == "sgd" else 1.0) + abs(p["opt"]["lr"] - 0.5)


def closs(p):
    return 1.0 + abs(p["depth"] - 6) if p["model"] == "tree" else abs(p["C"] - 3)


def drive(search, loss, batch=2):
    keys = []
    while not search.is_finished():
        for c in search.ask(batch):
            keys.append((c.key, c.params))
            search.tell(c.key, loss(c.params))
    return keys


def test_tpe_over_a_nested_hyperopt_space_learns_and_replays():
    s = TPESearch(HSPACE, trials=60, n_startup=10, seed=0)
    history = drive(s, hloss)
    assert all(isinstance(p["opt"], dict) and isinstance(p["layers"], int) for _, p in history)
    assert {p["opt"]["name"] for _, p in history} == {"adam", "sgd"}
    assert all(("mom" in p["opt"]) == (p["opt"]["name"] == "sgd") for _, p in history)
    # sgd is the better branch: TPE's late proposals take it clearly more often than half
    assert sum(p["opt"]["name"] == "sgd" for _, p in history[30:]) >= 20
    assert s.best_loss < 0.3
    again = from_settings("tpe", s.settings())
    assert drive(again, hloss) == history


def test_random_over_a_hyperopt_space_is_seeded_per_key():
    a = RandomSearch(HSPACE, samples=8, seed=4)
    b = from_settings("random", a.settings())
    assert [c.params for c in a.ask(8)] == [c.params for c in b.ask(8)]
    assert RandomSearch(HSPACE, samples=8, seed=4).point(5) == a.point(5) != a.point(6)


def test_tpe_models_only_active_labels_of_a_conditional_space():
    s = TPESearch(COND, trials=50, n_startup=10, seed=1, warm_start=[{"model": "svm", "C": 5.0}])
    history = drive(s, closs, batch=1)
    for _, p in history:
        assert set(p) == ({"model", "depth"} if p["model"] == "tree" else {"model", "C"})
    assert s.best_params["model"] == "svm" and abs(s.best_params["C"] - 3) < 0.5
    misc = s._trials.trials[0]["misc"]  # the warm start: an svm, so depth has no value
    assert misc["vals"]["depth"] == [] and misc["idxs"]["depth"] == []
    assert drive(from_settings("tpe", s.settings()), closs, batch=1) == history


def test_random_and_de_over_a_conditional_space():
    r = RandomSearch(COND, samples=40, seed=2)
    for c in r.ask(40):
        assert set(c.params) == ({"model", "depth"} if c.params["model"] == "tree" else {"model", "C"})
    de = DifferentialEvolution(COND, generations=3, population=6, seed=0)
    for _, p in drive(de, closs, batch=6):
        assert ("depth" in p) == (p["model"] == "tree")


def test_grid_expands_only_valid_combinations():
    g = GridSearch({"model": ["tree", "svm", "linear"],
                    "depth": {"values": [2, 4, 8], "when": {"model": "tree"}},
                    "kernel": {"values": ["rbf", "poly"], "when": {"model": ["svm"]}},
                    "degree": {"values": [2, 3], "when": {"kernel": "poly"}},
                    "lr": [0.1, 0.01]})
    points = [c.params for c in g.ask(100)]
    assert g.total == len(points) == (3 + 1 + 2 + 1) * 2
    assert points[:2] == [{"model": "tree", "depth": 2, "lr": 0.1}, {"model": "tree", "depth": 2, "lr": 0.01}]
    assert {"model": "svm", "kernel": "poly", "degree": 3, "lr": 0.01} in points
    assert {"model": "linear", "lr": 0.1} in points
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)
    again = from_settings("grid", g.settings())
    assert [c.params for c in again.ask(100)] == points
    assert g.optional_names == ["depth", "kernel", "degree"]


@pytest.mark.parametrize("grid, message", [
    ({"model": ["tree"], "depth": {"values": [2], "when": {"model": "svm"}}}, "can never hold"),
    ({"depth": {"values": [2], "when": {"model": "tree"}}, "model": ["tree"]}, "not an earlier entry"),
    ({"model": ["a", "b"], "x": {"values": list(range(10)), "when": {"model": "a"}}, "y": list(range(10))},
     "more than max_grid=50 valid points"),
])
def test_grid_condition_errors(grid, message):
    with pytest.raises(SearchSpaceError, match=message):
        GridSearch(grid, max_grid=50)


def test_hyperopt_space_refused_where_not_supported():
    with pytest.raises(SearchSpaceError, match="evolutionary_search takes a sparkexp space"):
        DifferentialEvolution(HSPACE)
    with pytest.raises(ValueError, match="warm_start is not supported with a hyperopt space"):
        TPESearch(HSPACE, trials=5, warm_start=[{"x": 1}])
