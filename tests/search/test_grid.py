"""GridSearch as a user writes grids and as the runner and resume ask them (pure Python).

Grid helpers and primitives: tests/space/test_space.py; nested conditional grids:
tests/search/test_search_spaces.py; grid errors through ``grid_search``: tests/test_validation.py.
"""

from __future__ import annotations

import itertools
import json
import tracemalloc

import numpy as np
import pytest

from sparkexp.errors import SearchSpaceError
from sparkexp.search import GridSearch, from_settings
from sparkexp.search.grid import DEFAULT_MAX_GRID


def test_points_come_in_cartesian_order_first_key_slowest():
    grid = {"lr": [0.1, 0.01], "layers": [1, 2, 3], "opt": ["adam", "sgd", "rms", "ada"]}
    g = GridSearch(grid)
    expected = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    candidates = g.ask(100)
    assert [c.params for c in candidates] == expected
    assert [c.key for c in candidates] == list(range(24)) and g.total == 24
    assert [list(c.params) for c in candidates[:1]] == [["lr", "layers", "opt"]]  # the grid's order


def test_batches_and_results_change_nothing_about_what_is_proposed():
    grid = {"a": range(5), "b": ["x", "y"]}
    one_by_one = GridSearch(grid)
    singles = [c for _ in range(10) for c in one_by_one.ask(1)]
    g = GridSearch(grid)
    batches = []
    for n in (3, 0, 4, 10):
        got = g.ask(n)
        assert len(got) == min(n, 10 - len(batches))
        batches.extend(got)
        for c in got:  # whatever the trials return, a grid goes on in its order
            g.tell(c.key, -float(c.key), "complete" if c.key % 2 else "error")
    assert batches == singles
    assert g.is_finished() and g.ask(5) == [] and one_by_one.is_finished()
    assert not GridSearch(grid).is_finished()


def test_a_grid_at_max_grid_is_taken_one_point_more_is_refused_naming_its_dimensions():
    assert GridSearch({"a": range(10), "b": range(10)}, max_grid=100).total == 100
    with pytest.raises(SearchSpaceError) as info:
        GridSearch({"a": range(10), "b": range(10)}, max_grid=99)
    assert str(info.value) == ("grid has 100 points (a=10 x b=10), more than max_grid=99; "
                               "shrink it or pass max_grid= to allow it")
    big = {f"p{i}": range(10) for i in range(6)}  # a million points
    with pytest.raises(SearchSpaceError, match=r"grid has 1,000,000 points \(p0=10 x p1=10 x .* "
                                               r"more than max_grid=100,000"):
        GridSearch(big)
    assert GridSearch(big, max_grid=1_000_000).total == 1_000_000


def test_a_large_grid_costs_no_memory_up_front_and_any_point_is_computed_from_its_index():
    grid = {f"p{i}": list(range(10)) for i in range(5)}
    tracemalloc.start()
    try:
        g = GridSearch(grid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert g.total == DEFAULT_MAX_GRID
    # 100,000 dicts would take tens of MB; the grid holds its value lists only
    assert peak < 200_000, peak
    assert g.point(0) == dict.fromkeys(grid, 0)
    assert g.point(99_999) == dict.fromkeys(grid, 9)
    assert g.point(12_345) == {"p0": 1, "p1": 2, "p2": 3, "p3": 4, "p4": 5}


def test_a_resumed_grid_is_rebuilt_from_the_manifest_even_above_the_default_max_grid():
    g = GridSearch({"a": range(1000), "b": np.linspace(0, 1, 150)}, max_grid=200_000)
    settings = json.loads(json.dumps(g.settings()))  # as the manifest stores them
    again = from_settings("grid", settings)
    assert again.total == g.total == 150_000
    assert [again.point(i) for i in (0, 777, 149_999)] == [g.point(i) for i in (0, 777, 149_999)]


def test_lists_tuples_ranges_arrays_and_hpogrid_categoricals_give_plain_values():
    g = GridSearch({
        "lr": np.array([0.1, 0.01]),
        "units": [np.int64(32), np.int64(64)],
        "bn": (True, False),
        "seed": range(2),
        "opt": {"method": "categorical", "dimension": {"categories": ["adam", "sgd"]}},
    })
    points = [c.params for c in g.ask(g.total)]
    assert g.total == 32 and points[0] == {"lr": 0.1, "units": 32, "bn": True, "seed": 0, "opt": "adam"}
    # numpy values become Python ones: the trial function, records and JSON see plain values
    assert {type(v) for p in points for v in p.values()} == {float, int, bool, str}
    assert json.loads(json.dumps(points)) == points
    assert g.settings()["grid"]["units"] == [32, 64]


def test_conditional_entries_count_only_valid_points_against_max_grid():
    grid = {"model": ["tree", "svm"],
            "depth": {"values": list(range(10)), "when": {"model": "tree"}},
            "C": {"values": [0.1 * i for i in range(10)], "when": {"model": ["svm"]}},
            "seed": [0, 1]}
    g = GridSearch(grid, max_grid=40)  # 2 x 10 x 10 x 2 = 400 combinations, 40 valid
    points = [c.params for c in g.ask(100)]
    assert g.total == len(points) == 40
    assert points[0] == {"model": "tree", "depth": 0, "seed": 0}
    assert points[20] == {"model": "svm", "C": 0.0, "seed": 0}
    assert g.optional_names == ["depth", "C"]
    points[0]["depth"] = 99  # what a caller does with a candidate's params stays its own
    assert g.point(0) == {"model": "tree", "depth": 0, "seed": 0}
    with pytest.raises(SearchSpaceError, match="more than max_grid=39 valid points"):
        GridSearch(grid, max_grid=39)


def test_a_condition_matches_values_of_the_same_kind():
    # True is not 1, but 1.0 is 1: a condition on 1 holds for 1 and 1.0, never for True
    g = GridSearch({"n": [1, True, 1.0], "x": {"values": ["a"], "when": {"n": 1}}})
    assert [c.params for c in g.ask(10)] == [{"n": 1, "x": "a"}, {"n": True}, {"n": 1.0, "x": "a"}]
    with pytest.raises(SearchSpaceError, match=r"when \{'n': True\} can never hold; 'n' takes \[1, 2\]"):
        GridSearch({"n": [1, 2], "x": {"values": ["a"], "when": {"n": True}}})


@pytest.mark.parametrize("grid, message", [
    ({}, "grid is empty: give at least one hyperparameter with values"),
    ([("lr", [0.1])], "grid must be a dict of hyperparameter name -> list of values, got list"),
    ({"lr": {0.1, 0.01}}, "grid value for 'lr' is a set, which has no order: write the values to "
                          "try as a list, e.g. [0.01, 0.1]"),
    ({"lr": b"ab"}, "grid value for 'lr' must be a list of values to try, got b'ab' "
                    "(write {'lr': [b'ab']} for a single value)"),
    ({"lr": np.zeros((2, 3))}, "grid value for 'lr' is a numpy array of shape (2, 3); give a 1-d "
                               "array or a list of the values to try"),
    ({"lr": range(0)}, "grid value for 'lr' is empty: give at least one value to try"),
    ({"lr": {"method": "uniform", "dimension": {"low": 0, "high": 1}}},
     "grid value for 'lr' is Uniform(low=0, high=1), which has no finite list of values; pick "
     "values with linear(...), logspace(...), random(...) or a list"),
])
def test_grids_that_cannot_be_enumerated_are_refused_in_one_line(grid, message):
    with pytest.raises(SearchSpaceError) as info:
        GridSearch(grid)
    assert str(info.value) == message
