"""Hyperopt spaces as written: names, sampling, space_eval, the JSON record, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hyperopt import hp, pyll, space_eval
from hyperopt.pyll import scope

from sparkexp.errors import SearchSpaceError
from sparkexp.space import HyperoptSpace, is_hyperopt_space

NESTED = {
    "optimizer": hp.choice("optimizer", [
        {"name": "adam", "lr": hp.loguniform("adam_lr", np.log(1e-5), np.log(1e-2))},
        {"name": "sgd", "lr": hp.qloguniform("sgd_lr", np.log(1e-3), np.log(1.0), 1e-3),
         "momentum": hp.uniform("momentum", 0.0, 0.99)},
    ]),
    "layers": scope.int(hp.quniform("layers", 1, 6, 1)),
    "dropout": hp.normal("dropout", 0.3, 0.05),
    "batch": hp.choice("batch", [16, 32, 64]),
    "epochs": 10,
}


def test_samples_are_what_hyperopt_draws_and_json_plain():
    s = HyperoptSpace(NESTED)
    for seed in range(20):
        ours = s.sample(np.random.default_rng(seed))
        theirs = pyll.stochastic.sample(NESTED, np.random.default_rng(seed))
        assert ours == theirs
        assert type(ours["layers"]) is int and 1 <= ours["layers"] <= 6
        assert isinstance(ours["optimizer"], dict) and ours["epochs"] == 10
        assert ours["batch"] in (16, 32, 64)
        assert all(type(v) in (int, float, str, dict) for v in ours.values())


def test_evaluate_is_space_eval_of_the_labels():
    s = HyperoptSpace(NESTED)
    vals = {"optimizer": [1], "sgd_lr": [0.01], "momentum": [0.5], "adam_lr": [], "layers": [3.0],
            "dropout": [0.25], "batch": [2]}
    flat = {k: v[0] for k, v in vals.items() if v}
    assert s.evaluate(vals) == space_eval(NESTED, flat)
    assert s.evaluate(vals)["optimizer"] == {"name": "sgd", "lr": 0.01, "momentum": 0.5}


def test_names_of_a_dict_and_of_a_top_level_choice():
    assert HyperoptSpace(NESTED).names == ["batch", "dropout", "epochs", "layers", "optimizer"]
    top = hp.choice("model", [{"model": "tree", "depth": hp.quniform("depth", 1, 9, 1)},
                              {"model": "svm", "C": hp.lognormal("C", 0, 1)}])
    s = HyperoptSpace(top)
    assert s.names == ["model", "depth", "C"] and s.optional_names == ["depth", "C"]
    assert {tuple(sorted(s.sample(np.random.default_rng(i)))) for i in range(30)} == {
        ("depth", "model"), ("C", "model")}


def test_record_rebuilds_the_same_space_and_draws():
    s = HyperoptSpace(NESTED)
    again = HyperoptSpace.from_dict(s.to_dict())
    assert again == s and again.labels == s.labels
    for seed in range(5):
        assert again.sample(np.random.default_rng(seed)) == s.sample(np.random.default_rng(seed))


def test_detection():
    assert is_hyperopt_space(NESTED)
    assert is_hyperopt_space({"a": [hp.uniform("a", 0, 1)]})
    assert not is_hyperopt_space({"a": [0, 1], "b": {"method": "uniform"}})


@pytest.mark.parametrize("space, message", [
    (hp.uniform("x", 0, 1), "must give a dict of keyword arguments"),
    ({"f": hp.choice("f", [len, max])}, "cannot be recorded as JSON"),
])
def test_refusals(space, message):
    with pytest.raises(SearchSpaceError, match=message):
        HyperoptSpace(space)
