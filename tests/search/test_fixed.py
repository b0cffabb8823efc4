"""FixedSearch: the given points, in order, as ``launch`` and resume use it (pure Python)."""

from __future__ import annotations

import json

import pytest

from sparkexp.errors import SearchSpaceError
from sparkexp.search import FixedSearch, from_settings


def test_points_are_proposed_once_each_in_the_given_order():
    points = [{"lr": 0.1, "dropout": 0.5}, {"lr": 0.01, "dropout": 0.5}, {"lr": 0.1, "dropout": 0.2}]
    s = FixedSearch(points)
    assert (s.name, s.total, s.is_finished()) == ("fixed", 3, False)
    first = s.ask(2)
    s.tell(first[0].key, None, "error")  # a failed trial is not proposed again
    rest = s.ask(5)
    assert [(c.key, c.params) for c in first + rest] == list(enumerate(points))
    assert all(c.parent is None for c in first + rest)
    assert s.is_finished() and s.ask(1) == []


def test_the_search_keeps_its_own_copies_of_the_points():
    points = [{"lr": 0.1}, {"lr": 0.2}]
    s = FixedSearch(points)
    points[0]["lr"] = 99.0  # the caller reuses its dicts after handing them over
    points.append({"lr": 0.3})
    candidate = s.ask(1)[0]
    assert candidate.params == {"lr": 0.1} and s.total == 2
    candidate.params["lr"] = -1.0  # and a candidate's params are its own
    assert s.point(0) == {"lr": 0.1} and s.settings() == {"points": [{"lr": 0.1}, {"lr": 0.2}]}


def test_points_may_name_different_hyperparameters():
    # a retry of trials from a conditional space: each point has the parameters it had
    s = FixedSearch([{"model": "tree", "depth": 4}, {"model": "svm", "C": 1.0}])
    assert [c.params for c in s.ask(2)] == [{"model": "tree", "depth": 4}, {"model": "svm", "C": 1.0}]


def test_no_points_is_a_search_that_is_finished_at_once():
    s = FixedSearch([])
    assert s.total == 0 and s.is_finished() and s.ask(4) == []


@pytest.mark.parametrize("name", ["fixed", "launch"])
def test_settings_in_the_manifest_rebuild_the_same_points_under_the_recorded_name(name):
    s = FixedSearch([{"lr": 0.1, "layers": [64, 32]}, {"lr": 0.2, "layers": [128]}], name=name)
    settings = json.loads(json.dumps(s.settings()))  # as experiment.json stores them
    again = from_settings(name, settings)
    assert isinstance(again, FixedSearch) and again.name == name
    assert [c.params for c in again.ask(5)] == [c.params for c in s.ask(5)]


@pytest.mark.parametrize("points, message", [
    ({"lr": 0.1}, "points must be a list of parameter dicts, got dict"),
    ((p for p in [{"lr": 0.1}]), "points must be a list of parameter dicts, got generator"),
    ("lr=0.1", "points must be a list of parameter dicts, got str"),
    ([{"lr": 0.1}, ("lr", 0.2)], "point 1 must be a dict of hyperparameters, got ('lr', 0.2)"),
])
def test_points_that_are_not_a_list_of_dicts_are_refused_in_one_line(points, message):
    with pytest.raises(SearchSpaceError) as info:
        FixedSearch(points)
    assert str(info.value) == message
