"""What a training function returns, turned into outputs and the optimised metric (no Spark).
Several metrics at once: tests/test_objectives.py."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from sparkexp.errors import MetricChoiceError, TrialError
from sparkexp.outputs import as_number, interpret


@pytest.mark.parametrize("returned, metric, expected", [
    (0.91, None, ({"metric": 0.91}, 0.91, "metric")),
    (3, "accuracy", ({"accuracy": 3.0}, 3.0, "accuracy")),  # a bare number under metric='s name
    (np.float32(0.5), None, ({"metric": 0.5}, 0.5, "metric")),
    (np.array(0.25), None, ({"metric": 0.25}, 0.25, "metric")),  # a 0-d array (a scalar tensor)
    ({"accuracy": 0.9, "model": "m.h5"}, None, ({"accuracy": 0.9, "model": "m.h5"}, 0.9, "accuracy")),
    ({"loss": 0.3, "metric": 0.8}, None, ({"loss": 0.3, "metric": 0.8}, 0.8, "metric")),  # hops' key
    ({"acc": 0.7, "loss": 0.3}, "loss", ({"acc": 0.7, "loss": 0.3}, 0.3, "loss")),
    ({"acc": 0.7, "ok": True}, None, ({"acc": 0.7, "ok": True}, 0.7, "acc")),  # a flag is no number
])
def test_a_number_or_a_dict_gives_the_outputs_and_the_metric(returned, metric, expected):
    assert interpret(returned, metric) == expected


def test_outputs_are_kept_as_json_can_hold_them():
    outputs, value, name = interpret({"acc": np.float32(0.5), "curve": np.arange(3), 7: "seven",
                                      "shape": (2, 3), "best": float("inf")}, "acc")
    assert (value, name) == (0.5, "acc")
    assert outputs == {"acc": 0.5, "curve": [0, 1, 2], "7": "seven", "shape": [2, 3], "best": "inf"}
    assert json.loads(json.dumps(outputs)) == outputs


@pytest.mark.parametrize("returned, metric, error, message", [
    (None, None, TrialError, "the function returned None (NoneType); return a number or a dict of outputs"),
    (True, None, TrialError, "the function returned True (bool); return a number or a dict of outputs"),
    ([0.5], None, TrialError, "the function returned [0.5] (list); return a number or a dict of outputs"),
    (float("nan"), None, TrialError, "metric 'metric' is nan: a metric must be a finite number"),
    ({"acc": float("-inf")}, "acc", TrialError, "metric 'acc' is -inf: a metric must be a finite number"),
    ({"a": 1}, "acc", TrialError, "the function returned a dict without the metric key 'acc' (keys: a)"),
    ({}, "acc", TrialError, "the function returned a dict without the metric key 'acc' (keys: none)"),
    ({"acc": "high"}, "acc", TrialError, "output 'acc' is 'high', not a number"),
    ({"note": "x"}, None, TrialError,
     "the function returned a dict with no numbers; return the metric to optimise as a number in it"),
    ({"a": 1, "b": 2.0}, None, MetricChoiceError,
     "the function returned a dict with several numbers (a, b) and none is named 'metric'; pass "
     "metric= (hops: optimization_key=) to name the one to optimise"),
])
def test_what_is_not_a_usable_metric_is_named_with_what_would_be(returned, metric, error, message):
    with pytest.raises(error) as info:
        interpret(returned, metric)
    assert str(info.value) == message


def test_a_dict_of_several_numbers_keeps_its_outputs_for_the_record():
    with pytest.raises(MetricChoiceError) as info:
        interpret({"a": 1, "b": np.int64(2)}, None)
    assert info.value.outputs == {"a": 1, "b": 2}  # the runner records them with the error


@pytest.mark.parametrize("value, expected", [
    (1, 1.0), (0.5, 0.5), (Fraction(1, 4), 0.25), (np.int8(3), 3.0), (np.array(2.5), 2.5),
    (True, None), (np.bool_(True), None), ("1.0", None), (None, None),
    (np.array([1.0]), None), (np.array(["a"])[0], None),
])
def test_as_number_takes_real_numbers_and_scalar_arrays_only(value, expected):
    assert as_number(value) == expected
