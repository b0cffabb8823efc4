"""Several objectives and constraints: parsing, losses, feasibility, the Pareto front."""

from __future__ import annotations

import pytest

from sparkexp.errors import ConfigError, TrialError
from sparkexp.objectives import Constraints, Objectives, dominates, pareto_front
from sparkexp.outputs import interpret
from sparkexp.trial import Trial


def test_objectives_losses_follow_directions():
    obj = Objectives.parse(["acc", "ms", "mb"], "min")
    assert obj.directions == ("min", "min", "min")
    obj = Objectives.parse(("acc", "ms"), ["MAX", "min"])
    assert obj.losses({"acc": 0.5, "ms": 3}) == [-0.5, 3.0]
    assert obj.losses({"acc": 0.5}) is None and obj.losses({"acc": float("nan"), "ms": 1}) is None
    assert Objectives.from_settings(obj.settings()) == obj
    assert Objectives.from_settings(None) is None


@pytest.mark.parametrize("metric, direction, message", [
    (["acc"], "max", "2 or more output names"),
    ("acc", "max", "2 or more output names"),
    (["acc", "acc"], "max", "listed twice"),
    (["acc", ""], "max", "non-empty strings"),
    (["acc", "ms"], ["max"], r"1 directions \['max'\] for 2 metrics"),
    (["acc", "ms"], ["max", "up"], "direction must be 'max' or 'min', got 'up'"),
])
def test_objectives_errors(metric, direction, message):
    with pytest.raises(ConfigError, match=message):
        Objectives.parse(metric, direction)


def test_constraints_from_thresholds_and_functions():
    c = Constraints.parse({"ms": {"max": 10}, "acc": {"min": 0.8, "max": 1.0}})
    assert c.evaluate({"ms": 12, "acc": 0.9}) == [2.0, pytest.approx(-0.1), pytest.approx(-0.1)]
    assert c.settings() == {"thresholds": {"ms": {"max": 10.0}, "acc": {"min": 0.8, "max": 1.0}}}
    with pytest.raises(ValueError, match="constraint on output 'ms'"):
        c.evaluate({"acc": 0.9})
    f = Constraints.parse(lambda out: [out["ms"] - 5, 0.0])
    assert f.evaluate({"ms": 7}) == [2.0, 0.0]
    assert f.settings() == {"function": None}  # a lambda cannot be imported again
    with pytest.raises(ValueError, match="return a number or a list of numbers"):
        Constraints.parse(lambda out: "ok").evaluate({})
    assert Constraints.parse(None) is None


@pytest.mark.parametrize("spec, message", [
    ({}, "constraints must be a function"), ({"ms": 10}, "must be a dict with 'min' and/or 'max'"),
    ({"ms": {"below": 3}}, "'min' and/or 'max'"), ({"ms": {"max": "x"}}, "must be a finite number"),
])
def test_constraint_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        Constraints(spec)


def test_pareto_front_leaves_out_dominated_infeasible_and_unfinished_trials():
    obj = Objectives.parse(["acc", "ms"], ["max", "min"])
    rows = [(0.9, 30, None, "complete"), (0.8, 10, None, "complete"), (0.7, 20, None, "complete"),
            (0.99, 1, [1.0], "complete"), (0.95, 2, None, "error"), (0.8, 10, [0.0], "complete")]
    trials = [Trial(f"t{i}", i, {}, status=st, metric=a, outputs={"acc": a, "ms": ms}, constraints=c)
              for i, (a, ms, c, st) in enumerate(rows)]
    assert [t.index for t in pareto_front(trials, obj)] == [0, 1, 5]  # equal points both stay
    assert trials[3].feasible is False and trials[5].feasible is True and trials[0].feasible is None
    assert dominates([0, 0], [0, 1]) and not dominates([0, 1], [0, 1])


def test_interpret_with_several_metrics_needs_each():
    assert interpret({"acc": 0.9, "ms": 4, "note": "x"}, ["acc", "ms"])[1:] == (0.9, "acc")
    with pytest.raises(TrialError, match="without the metric key 'ms'"):
        interpret({"acc": 0.9}, ["acc", "ms"])
    with pytest.raises(TrialError, match="return a dict holding each"):
        interpret(0.9, ["acc", "ms"])
