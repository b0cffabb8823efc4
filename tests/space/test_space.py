"""Search-space primitives, parsing, validation, unit hypercube, JSON and hyperopt forms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sparkexp.errors import SearchSpaceError
from sparkexp.search import GridSearch
from sparkexp.space import (
    Choice,
    Fixed,
    GridValues,
    LogUniform,
    Space,
    Uniform,
    UniformInt,
    choice,
    fixed,
    linear,
    lognormal,
    logspace,
    loguniform,
    multiple,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    random,
    uniform,
    uniformint,
)
from sparkexp.space._hyperopt import from_hyperopt_vals, to_hyperopt, to_hyperopt_vals

N = 4000


def draws(dist, n=N, seed=0):
    rng = np.random.default_rng(seed)
    return [dist.from_unit(u) for u in rng.random(n)]


# -- primitives: sampling ------------------------------------------------------------------------


def test_uniform_within_bounds_and_spread_evenly():
    xs = np.array(draws(uniform(2.0, 4.0)))
    assert xs.min() >= 2.0 and xs.max() <= 4.0
    assert abs(xs.mean() - 3.0) < 0.05
    assert all(isinstance(x, float) for x in xs.tolist())


def test_uniformint_includes_both_ends_equally():
    xs = draws(uniformint(1, 3))
    counts = {v: xs.count(v) for v in (1, 2, 3)}
    assert set(xs) == {1, 2, 3} and all(isinstance(x, int) for x in xs)
    assert all(abs(c / N - 1 / 3) < 0.03 for c in counts.values()), counts


def test_quniform_snaps_to_multiples_inside_bounds():
    xs = draws(quniform(1, 10, 4))
    # hyperopt's round(x/q)*q would give 0 and 12 too; ours stays within [low, high]
    assert set(xs) == {4, 8}
    assert all(isinstance(x, int) for x in xs)
    fs = draws(quniform(0.0, 1.0, 0.1))
    assert set(fs) <= {round(0.1 * k, 10) for k in range(11)}
    assert 0.3 in fs  # no 0.30000000000000004


def test_loguniform_is_uniform_in_log_space():
    xs = np.array(draws(loguniform(1e-5, 1e-1)))
    assert xs.min() >= 1e-5 and xs.max() <= 1e-1
    # a quarter of the log range per decade: a quarter of the draws below 1e-4
    assert abs(np.mean(xs < 1e-4) - 0.25) < 0.03
    assert abs(np.median(np.log10(xs)) + 3) < 0.1


def test_loguniform_base_does_not_change_the_distribution():
    assert draws(loguniform(1e-3, 1, base=10), 50) == pytest.approx(
        draws(loguniform(1e-3, 1), 50)
    )


def test_qloguniform_quantised_and_log_distributed():
    xs = draws(qloguniform(1, 1000, 1))
    assert all(isinstance(x, int) and 1 <= x <= 1000 for x in xs)
    assert abs(np.mean(np.array(xs) <= 32) - 0.5) < 0.05


def test_normal_moments():
    xs = np.array(draws(normal(3.0, 2.0)))
    assert abs(xs.mean() - 3.0) < 0.1 and abs(xs.std() - 2.0) < 0.1


def test_qnormal_rounds_to_q():
    xs = draws(qnormal(10, 3, 2))
    assert all(isinstance(x, int) and x % 2 == 0 for x in xs)
    assert abs(np.mean(xs) - 10) < 0.2


def test_lognormal_with_base():
    xs = np.array(draws(lognormal(-3, 1, base=10)))
    assert (xs > 0).all()
    assert abs(np.median(np.log10(xs)) + 3) < 0.1
    assert abs(np.std(np.log10(xs)) - 1) < 0.05


def test_qlognormal_quantised():
    xs = draws(qlognormal(2, 0.5, 5, base=10))
    assert all(isinstance(x, int) and x % 5 == 0 for x in xs)
    assert abs(np.median(xs) - 100) <= 10


def test_weighted_choice_follows_weights():
    xs = draws(choice(["a", "b", "c"], weights=[0.7, 0.2, 0.1]))
    assert abs(xs.count("a") / N - 0.7) < 0.03
    assert abs(xs.count("c") / N - 0.1) < 0.02


def test_choice_returns_values_of_any_type():
    opts = [[1, 2], {"k": 1}, None, "x"]
    s = Space({"c": choice(opts)})
    seen = [s.sample(np.random.default_rng(i))["c"] for i in range(60)]
    assert all(any(v == o for o in opts) for v in seen)
    assert len({json.dumps(v) for v in seen}) == 4


def test_choice_keeps_true_and_1_apart():
    c = choice([True, 1, 1.5])
    assert c.index(1) == 1 and c.index(True) == 0


def test_fixed_always_same():
    assert {fixed(7).from_unit(u) for u in (0, 0.3, 1)} == {7}


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: uniform(1, 1), ["uniform", "low=1", "high=1"]),
        (lambda: uniform(3, 2), ["low=3", "high=2"]),
        (lambda: uniformint(0, 5.5), ["uniformint", "high", "5.5"]),
        (lambda: choice([]), ["categorical", "empty"]),
        (lambda: choice(["a", "b"], weights=[1.0]), ["1 weights", "2 options"]),
        (lambda: choice(["a", "b"], weights=[0.5, 0.6]), ["sum to 1", "0.5, 0.6"]),
        (lambda: choice(["a", "b"], weights=[1.5, -0.5]), [">= 0", "1.5"]),
        (lambda: normal(0, 0), ["normal", "sigma", "sigma=0"]),
        (lambda: lognormal(0, -1), ["lognormal", "sigma=-1"]),
        (lambda: quniform(0, 1, 0), ["quniform", "q=0"]),
        (lambda: qnormal(0, 1, -2), ["qnormal", "q=-2"]),
        (lambda: quniform(0.1, 0.2, 1), ["no multiple of q=1", "[0.1, 0.2]"]),
        (lambda: loguniform(0, 1), ["loguniform", "low=0", "logarithm"]),
        (lambda: qloguniform(-1, 10, 1), ["qloguniform", "low=-1"]),
        (lambda: loguniform(1, 10, base=1), ["base", "base=1"]),
        (lambda: uniform("a", 1), ["uniform", "low", "'a'"]),
        (lambda: uniform(0, True), ["high", "True"]),
        (lambda: uniform(0, math.inf), ["high", "finite"]),
    ],
)
def test_primitive_validation_names_the_input(make, words):
    with pytest.raises(SearchSpaceError) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize(
    "space, words",
    [
        ({"lr": [0.45, 0.45]}, ["'lr'", "bounds are equal", "choice("]),
        ({"lr": []}, ["'lr'", "empty"]),
        ({"lr": {"method": "logunif", "dimension": {}}}, ["'lr'", "'logunif'", "loguniform"]),
        ({"lr": {"method": "uniform", "dimension": {"low": 1}}}, ["'lr'", "needs", "high"]),
        ({"lr": {"method": "uniform", "dimension": {"low": 0, "high": 1, "mu": 2}}},
         ["'lr'", "mu", "takes"]),
        ({"lr": {"method": "loguniform", "dimension": {"low": -1, "high": 1}}},
         ["'lr'", "low=-1"]),
        ({"lr": {"dimension": {"low": 0, "high": 1}}}, ["'lr'", "without 'method'"]),
        ({"lr": {"method": "uniform", "dims": {}}}, ["'lr'", "dims"]),
        ({"lr": uniform}, ["'lr'", "function"]),
        ({}, ["empty"]),
        ({"": [1, 2]}, ["names"]),
    ],
)
def test_space_validation_names_the_input(space, words):
    with pytest.raises(SearchSpaceError) as info:
        Space(space)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_space_rejects_non_dict():
    with pytest.raises(SearchSpaceError, match="dict"):
        Space([("lr", [0, 1])])  # type: ignore[arg-type]


# -- parsing rules -------------------------------------------------------------------------------


def test_plain_dict_rules():
    s = Space(
        {
            "lr": [0.001, 0.1],
            "layers": [2, 8],
            "dropout": (0.45, 0.7),
            "opt": ["adam", "sgd"],
            "three": [1, 2, 3],
            "mixed": [1, "a"],
            "r": range(3),
            "epochs": 10,
            "name": "resnet",
            "flag": True,
            "nothing": None,
            "grid": linear(0, 1, 1),
            "prim": loguniform(1e-4, 1e-2),
        }
    )
    assert s["lr"] == Uniform(0.001, 0.1)
    assert s["layers"] == UniformInt(2, 8)
    assert s["dropout"] == Uniform(0.45, 0.7)
    assert s["opt"] == Choice(("adam", "sgd"))
    assert s["three"] == Choice((1, 2, 3))
    assert s["mixed"] == Choice((1, "a"))
    assert s["r"] == Choice((0, 1, 2))
    assert s["epochs"] == Fixed(10) and s["name"] == Fixed("resnet")
    assert s["flag"] == Fixed(True) and s["nothing"] == Fixed(None)
    # a grid helper's list is a choice even when it holds two numbers
    assert s["grid"] == Choice((0, 1))
    assert s["prim"] == LogUniform(1e-4, 1e-2)
    assert s.unit_names == ["lr", "layers", "dropout", "opt", "three", "mixed", "r", "grid", "prim"]


def test_hops_style_example_reads_ranges():
    s = Space({"learning_rate": [0.001, 0.0005][::-1], "dropout": [0.45, 0.7]})
    assert isinstance(s["learning_rate"], Uniform) and isinstance(s["dropout"], Uniform)


def test_a_range_written_high_first_is_the_range_it_describes():
    # hops' own differential-evolution example writes the learning rate high-first
    s = Space({"learning_rate": [0.001, 0.0001], "layers": [8, 2]})
    assert s["learning_rate"] == Uniform(0.0001, 0.001)
    assert s["layers"] == UniformInt(2, 8)


def test_hpogrid_form_every_method():
    spec = {
        "a": {"method": "categorical", "dimension": {"categories": ["x", "y"], "grid_search": 0}},
        "b": {"method": "uniformint", "dimension": {"low": 1, "high": 5}},
        "c": {"method": "uniform", "dimension": {"low": 0.1, "high": 0.5}},
        "d": {"method": "quniform", "dimension": {"low": 0, "high": 100, "q": 10}},
        "e": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2}},
        "f": {"method": "qloguniform", "dimension": {"low": 1, "high": 1024, "q": 1, "base": 2}},
        "g": {"method": "normal", "dimension": {"mu": 0, "sigma": 1}},
        "h": {"method": "qnormal", "dimension": {"mu": 0, "sigma": 10, "q": 2}},
        "i": {"method": "lognormal", "dimension": {"mu": -3, "sigma": 1, "base": 10}},
        "j": {"method": "qlognormal", "dimension": {"mu": 1, "sigma": 1, "q": 1}},
        "k": {"method": "fixed", "dimension": {"value": 42}},
        "l": {"method": "choice", "dimension": {"categories": [1, 2], "weights": [0.25, 0.75]}},
    }
    s = Space(spec)
    assert [s[n].method for n in s.names] == [
        "categorical", "uniformint", "uniform", "quniform", "loguniform", "qloguniform",
        "normal", "qnormal", "lognormal", "qlognormal", "fixed", "categorical",
    ]  # fmt: skip
    assert s["f"].base == 2 and s["i"].base == 10 and s["l"].weights == (0.25, 0.75)
    p = s.sample(np.random.default_rng(1))
    assert p["k"] == 42 and p["a"] in ("x", "y") and 1 <= p["b"] <= 5


# -- unit hypercube ------------------------------------------------------------------------------


def mixed_space():
    return Space(
        {
            "lr": loguniform(1e-5, 1e-1),
            "units": uniformint(16, 512),
            "drop": uniform(0.0, 0.9),
            "opt": choice(["adam", "sgd", "rmsprop", "adagrad", "ftrl"]),
            "mom": normal(0.9, 0.05),
            "bs": quniform(16, 256, 16),
            "epochs": 5,
        }
    )


def test_unit_round_trip_for_every_kind():
    s = mixed_space()
    assert s.ndim == 6
    rng = np.random.default_rng(3)
    for _ in range(200):
        p = s.sample(rng)
        back = s.from_unit(s.to_unit(p))
        assert back["opt"] == p["opt"] and back["units"] == p["units"] and back["bs"] == p["bs"]
        assert back["lr"] == pytest.approx(p["lr"], rel=1e-9)
        assert back["mom"] == pytest.approx(p["mom"], rel=1e-9)
        assert back["epochs"] == 5


def test_unit_cube_categories_cover_equal_intervals():
    s = Space({"c": choice(list("abcdefg"))})
    us = np.linspace(0, 1, 7001)
    vals = [s.from_unit([u])["c"] for u in us]
    counts = [vals.count(ch) for ch in "abcdefg"]
    assert max(counts) - min(counts) <= 2
    assert s.from_unit([0.0])["c"] == "a" and s.from_unit([1.0])["c"] == "g"


def test_unit_vector_length_is_checked():
    with pytest.raises(ValueError, match="6 searchable dimensions"):
        mixed_space().from_unit([0.5])


def test_check_rejects_bad_points():
    s = mixed_space()
    with pytest.raises(SearchSpaceError, match="'opt' = 'nadam' is not one of"):
        s.check({**s.sample(np.random.default_rng(0)), "opt": "nadam"})
    with pytest.raises(SearchSpaceError, match="unknown hyperparameter"):
        s.check({**s.sample(np.random.default_rng(0)), "bogus": 1})
    with pytest.raises(SearchSpaceError, match="'lr' = 1.0 is outside"):
        s.check({**s.sample(np.random.default_rng(0)), "lr": 1.0})
    with pytest.raises(SearchSpaceError, match="lacks hyperparameter 'units'"):
        p = s.sample(np.random.default_rng(0))
        del p["units"]
        s.check(p)


# -- JSON and hyperopt ---------------------------------------------------------------------------


def test_json_round_trip():
    s = mixed_space()
    text = s.to_json()
    back = Space.from_json(text)
    assert back == s and back.names == s.names
    assert json.loads(text)["lr"] == {"method": "loguniform", "dimension": {"low": 1e-5, "high": 0.1}}
    assert Space.from_json(json.loads(text)) == s
    w = Space({"c": choice(["a", "b"], weights=[0.3, 0.7]), "ln": lognormal(0, 1, base=10)})
    assert Space.from_json(w.to_json()) == w


def test_json_rejects_unserialisable_values():
    with pytest.raises(SearchSpaceError, match="JSON"):
        Space({"f": fixed(object())}).to_json()
    with pytest.raises(SearchSpaceError, match="not valid JSON"):
        Space.from_json("{lr: 1")


def test_hyperopt_conversion_samples_inside_the_space():
    from hyperopt import pyll

    s = mixed_space()
    hs = to_hyperopt(s)
    assert hs["epochs"] == 5
    rng = np.random.default_rng(0)
    for _ in range(100):
        p = pyll.stochastic.sample(hs, rng)
        assert 1e-5 <= p["lr"] <= 1e-1
        assert p["opt"] in s["opt"].options
        assert 15.5 <= p["units"] <= 512.5


def test_hyperopt_vals_round_trip():
    s = mixed_space()
    p = s.sample(np.random.default_rng(5))
    vals = to_hyperopt_vals(s, p)
    assert vals["opt"] == s["opt"].options.index(p["opt"])
    assert from_hyperopt_vals(s, vals) == p


# -- grid helpers --------------------------------------------------------------------------------


def test_grid_helpers():
    assert linear(1, 10, 3) == [1, 4, 7, 10] and isinstance(linear(1, 10, 3), GridValues)
    assert linear(0.1, 0.5, 0.1) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert linear(0, 1, 0.3) == [0, 0.3, 0.6, 0.9]
    assert logspace(-4, -2, 3) == [0.0001, 0.001, 0.01]
    assert logspace(0, 3, 4, base=2) == [1, 2, 4, 8]
    assert multiple("a", 1) == ["a", 1]
    r = random(1e-4, 1e-1, 50, seed=3, log=True)
    assert r == random(1e-4, 1e-1, 50, seed=3, log=True) != random(1e-4, 1e-1, 50, seed=4, log=True)
    assert r == sorted(r) and all(1e-4 <= v <= 1e-1 for v in r)
    assert np.mean(np.array(r) < 1e-2) > 0.5  # log draws crowd the small decades
    ints = random(1, 6, 200, seed=0, integer=True)
    assert set(ints) == {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: linear(0, 1, 0), ["linear", "step=0"]),
        (lambda: linear(5, 1, 1), ["stop must be >= start", "start=5"]),
        (lambda: logspace(0, 1, 0), ["logspace", "count", "0"]),
        (lambda: logspace(0, 1, 3, base=1), ["base=1"]),
        (lambda: random(1, 1, 3), ["random", "low=1"]),
        (lambda: random(0, 1, 3, log=True), ["log=True", "low=0"]),
        (lambda: multiple(), ["at least one"]),
    ],
)
def test_grid_helper_validation(make, words):
    with pytest.raises(SearchSpaceError) as info:
        make()
    for w in words:
        assert w in str(info.value)


def test_grid_search_takes_helpers_and_choice_primitives():
    g = GridSearch(
        {"lr": logspace(-3, -1, 3), "opt": choice(["adam", "sgd"]), "epochs": fixed(3)}
    )
    assert g.total == 6
    assert g.point(5) == {"lr": 0.1, "opt": "sgd", "epochs": 3}
    with pytest.raises(SearchSpaceError, match="'lr'.*no finite list"):
        GridSearch({"lr": loguniform(1e-3, 1e-1)})
