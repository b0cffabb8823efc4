"""One-dimensional primitives on their own (no Spark): the unit-cube mapping searches rely on
(``from_unit``/``to_unit``), each kind's hpogrid JSON read back by ``parse_dist``, what ``check``
accepts, numpy values, and the rules that turn what users write into a primitive.

Sampling statistics, whole spaces and hyperopt conversion: tests/space/test_space.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sparkexp import space as sp
from sparkexp.errors import SearchSpaceError
from sparkexp.space import METHODS, Choice, Fixed, parse_dist

pytestmark = pytest.mark.timeout(60)

EVERY_KIND = {
    "choice": sp.choice(["adam", "sgd", 3, None]),
    "weighted": sp.choice([16, 32, 64], weights=[0.2, 0.5, 0.3]),
    "uniform": sp.uniform(-1.5, 2.5),
    "uniformint": sp.uniformint(2, 9),
    "quniform": sp.quniform(0, 1, 0.25),
    "quniform_int": sp.quniform(0, 100, 10),
    "loguniform": sp.loguniform(1e-5, 1e-1),
    "loguniform10": sp.loguniform(1e-5, 1e-1, base=10),
    "qloguniform": sp.qloguniform(1, 1024, 1),
    "normal": sp.normal(0.5, 2.0),
    "qnormal": sp.qnormal(10, 3, 2),
    "lognormal": sp.lognormal(0.0, 1.0),
    "lognormal2": sp.lognormal(3.0, 1.0, base=2),
    "qlognormal": sp.qlognormal(1.0, 0.5, 0.5),
    "fixed": sp.fixed({"layers": [64, 32]}),
}
UNITS = [0.0, 1e-9, 0.01, 0.1, 0.25, 0.3, 0.5, 0.61, 0.75, 0.9, 0.99, 1 - 1e-9, 1.0]


@pytest.mark.parametrize("kind", list(EVERY_KIND))
def test_every_value_a_kind_gives_maps_back_to_itself_through_the_unit_cube(kind):
    """Model-based searches (TPE, evolution, BOHB) map results to [0, 1] and back."""
    dist = EVERY_KIND[kind]
    for u in UNITS:
        value = dist.from_unit(u)
        coordinate = dist.to_unit(value)
        assert 0.0 <= coordinate <= 1.0
        back = dist.from_unit(coordinate)
        if isinstance(value, float):
            # the normal CDF's far tail (u = 1e-9) holds about 8 digits
            assert back == pytest.approx(value, rel=1e-7, abs=1e-12), (u, value, coordinate)
        else:
            assert back == value and type(back) is type(value), (u, value, coordinate)
        assert dist.check(kind, value) == value  # what it gives, it accepts


@pytest.mark.parametrize("kind", [k for k in EVERY_KIND if k not in ("choice", "fixed")])
def test_ordered_kinds_grow_with_the_coordinate_and_stay_in_bounds(kind):
    dist = EVERY_KIND[kind]
    values = [dist.from_unit(u) for u in np.linspace(0, 1, 201)]
    assert values == sorted(values)
    assert values[0] < values[-1]  # the whole range is reached, not one point
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    if low is not None:
        assert low <= values[0] and values[-1] <= high


@pytest.mark.parametrize("kind, expected", [
    ("uniformint", int), ("quniform_int", int), ("qloguniform", int), ("qnormal", int),
    ("quniform", float), ("qlognormal", float), ("uniform", float), ("lognormal", float),
])
def test_integer_steps_give_ints_and_float_steps_floats(kind, expected):
    assert {type(EVERY_KIND[kind].from_unit(u)) for u in UNITS} == {expected}


def test_quantised_values_are_clean_multiples():
    assert {sp.quniform(0, 1, 0.1).from_unit(u) for u in UNITS} <= {round(0.1 * i, 10) for i in range(11)}
    assert all(v % 2 == 0 for v in (sp.qnormal(10, 3, 2).from_unit(u) for u in UNITS))


@pytest.mark.parametrize("kind", list(EVERY_KIND))
def test_each_kind_is_written_as_hpogrid_json_and_read_back_equal(kind):
    dist = EVERY_KIND[kind]
    written = json.loads(json.dumps(dist.to_json()))
    assert written["method"] in METHODS
    assert parse_dist(kind, written) == dist


def test_the_default_base_is_not_written_and_another_base_is():
    assert "base" not in sp.loguniform(1e-3, 1).to_json()["dimension"]
    assert sp.lognormal(0, 1, base=10).to_json()["dimension"] == {"mu": 0, "sigma": 1, "base": 10.0}
    assert sp.qloguniform(1, 100, 1, base=2).to_json()["dimension"]["base"] == 2.0


def test_the_base_of_a_log_range_does_not_move_its_values():
    for u in UNITS:
        assert sp.loguniform(1e-4, 1, base=10).from_unit(u) == pytest.approx(sp.loguniform(1e-4, 1).from_unit(u))


# -- what check accepts ----------------------------------------------------------------------


@pytest.mark.parametrize("dist, value, words", [
    (sp.uniformint(1, 5), 2.5, "'x' = 2.5 is not an integer .uniformint."),
    (sp.uniformint(1, 5), 6, "'x' = 6 is outside .1, 5. of uniformint"),
    (sp.lognormal(0, 1), -0.1, "'x' = -0.1 is negative; lognormal is >= 0"),
    (sp.qlognormal(0, 1, 1), -1, "'x' = -1 is negative; qlognormal is >= 0"),
    (sp.normal(0, 1), "high", "x: value must be a number, got 'high'"),
    (sp.fixed(3), 4, "'x' = 4 differs from its fixed value 3"),
    (sp.choice(["a", "b"]), "c", "'x' = 'c' is not one of the options \\['a', 'b'\\]"),
])
def test_check_refuses_what_the_kind_cannot_give_and_names_it(dist, value, words):
    with pytest.raises(SearchSpaceError, match=words):
        dist.check("x", value)


def test_a_choice_keeps_types_apart_but_a_float_finds_its_number():
    c = sp.choice([1, True, "1"])
    assert [c.key(v) for v in (1, True, "1")] == [0, 1, 2]
    assert c.check("x", 1.0) == 1 and type(c.check("x", 1.0)) is int  # a number read back from JSON
    with pytest.raises(ValueError):
        c.index(2)


def test_numpy_values_become_python_values():
    c = Choice(tuple(np.array([0.1, 0.2, 0.3])))
    assert c.options == (0.1, 0.2, 0.3) and all(type(o) is float for o in c.options)
    assert c.key(np.float64(0.2)) == 1
    assert parse_dist("u", np.array([4, 16])) == sp.uniformint(4, 16)
    assert type(parse_dist("u", np.array([4, 16])).low) is int
    assert Fixed(np.int64(3)).value == 3 and type(Fixed(np.int64(3)).value) is int
    json.dumps(parse_dist("c", np.array(["a", "b", "c"])).to_json())  # plain enough for JSON


def test_a_fixed_value_takes_no_coordinate_and_no_key():
    f = sp.fixed([1, 2])
    assert not f.searchable and all(d.searchable for k, d in EVERY_KIND.items() if k != "fixed")
    assert f.from_unit(0.0) == f.from_unit(1.0) == [1, 2]
    assert f.key([1, 2]) is None


# -- constructors refuse what no distribution is ---------------------------------------------


@pytest.mark.parametrize("make, words", [
    (lambda: sp.choice("adam"), "options must be a list of values, got 'adam'"),
    (lambda: sp.choice([]), "options are empty"),
    (lambda: sp.choice([1, 2], weights=[1.0]), "1 weights for 2 options"),
    (lambda: sp.choice([1, 2], weights=[0.7, 0.7]), "weights must be >= 0 and sum to 1"),
    (lambda: sp.choice([1, 2], weights=[1.5, -0.5]), "weights must be >= 0"),
    (lambda: sp.normal(0, 0), "normal: sigma must be > 0, got sigma=0"),
    (lambda: sp.lognormal(0, -1), "lognormal: sigma must be > 0"),
    (lambda: sp.qnormal(0, 1, 0), "qnormal"),
    (lambda: sp.qlognormal(0, 1, -1), "qlognormal"),
    (lambda: sp.loguniform(0, 1), "loguniform"),
    (lambda: sp.lognormal(0, 1, base=1), "lognormal"),
    (lambda: sp.uniform(0, math.inf), "uniform"),
    (lambda: sp.normal(math.nan, 1), "normal"),
])
def test_constructors_refuse_impossible_arguments(make, words):
    with pytest.raises(SearchSpaceError, match=words):
        make()


# -- what users write ------------------------------------------------------------------------


@pytest.mark.parametrize("written, expected", [
    ([0.45, 0.7], sp.uniform(0.45, 0.7)),
    ((0.7, 0.45), sp.uniform(0.45, 0.7)),
    ([2, 8], sp.uniformint(2, 8)),
    ([8, 2.0], sp.uniform(2.0, 8)),
    (range(2, 4), sp.choice([2, 3])),
    ([True, False], sp.choice([True, False])),  # booleans are not a range
    (["adam", "sgd"], sp.choice(["adam", "sgd"])),
    ([1, 2, 3], sp.choice([1, 2, 3])),
    ([0.1], sp.choice([0.1])),
    (0.5, sp.fixed(0.5)),
    ("relu", sp.fixed("relu")),
    (None, sp.fixed(None)),
    ({"method": "choice", "dimension": {"categories": [1, 2], "grid_search": 1}}, sp.choice([1, 2])),
    ({"method": "fixed", "dimension": {"value": 3}}, sp.fixed(3)),
    (sp.uniform(0, 1), sp.uniform(0, 1)),
])
def test_what_users_write_becomes_the_primitive_they_mean(written, expected):
    assert parse_dist("p", written) == expected


@pytest.mark.parametrize("written, words", [
    ([], "'p' is an empty list"),
    ([3, 3], "both bounds are equal"),
    (sp.uniform, "is a function; did you mean to call it"),
    ({"low": 0, "high": 1}, "a dict without 'method'"),
    ({"method": "uniform", "dimension": {"low": 0, "high": 1}, "q": 1}, "unknown key.s. \\['q'\\]"),
    ({"method": "beta", "dimension": {}}, "unknown method 'beta'; accepted: categorical, choice"),
    ({"method": 3}, "unknown method 3"),
    ({"method": "uniform", "dimension": [0, 1]}, "dimension must be a dict of arguments, got \\[0, 1\\]"),
    ({"method": "uniform", "dimension": {"low": 0}}, "uniform needs \\['high'\\] in its dimension"),
    ({"method": "uniform", "dimension": {"low": 0, "high": 1, "mu": 2}}, "uniform does not take \\['mu'\\]"),
    ({"method": "categorical", "dimension": {"options": [1], "bad": 0}},
     "categorical does not take \\['bad'\\]; it takes \\['categories', 'weights'\\]"),
    ({"method": "uniform", "dimension": {"low": 1, "high": 0}}, "^'p': "),
])
def test_what_no_primitive_is_is_refused_with_the_name_and_the_fix(written, words):
    with pytest.raises(SearchSpaceError, match=words):
        parse_dist("p", written)
