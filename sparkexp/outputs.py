"""Turn what a training function returned into outputs and the optimised metric.

A function returns a number, or a dict of outputs (numbers, strings, anything JSON can hold).
``metric=`` names the number to optimise (or lists several: each must be a finite number, and
the first is the trial's ``metric``); it may be omitted when the dict holds exactly one
number, or a number under hops' default key ``"metric"``. A dict of several numbers with
nothing to choose by raises :class:`~sparkexp.errors.MetricChoiceError` (the runner stops the
experiment: every trial would return the same kind of dict). Anything that is not a usable metric (None, NaN or infinity, a string, a dict without the key)
is a :class:`~sparkexp.errors.TrialError` naming what came back and what is accepted.

Example:
    >>> interpret(0.91, None)
    ({'metric': 0.91}, 0.91, 'metric')
    >>> interpret({"accuracy": 0.9, "model": "m.h5"}, None)
    ({'accuracy': 0.9, 'model': 'm.h5'}, 0.9, 'accuracy')
    >>> interpret({"metric": 0.8, "loss": 0.3}, None)[1:]
    (0.8, 'metric')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from sparkexp.errors import MetricChoiceError, TrialError
from sparkexp.store import json_safe

__all__ = ["interpret", "as_number", "DEFAULT_KEY"]

#: The output a dict of several numbers is optimised on when no metric is named (hops' default).
DEFAULT_KEY = "metric"


def as_number(value: Any) -> float | None:
    """``value`` as a float if it is a real number (bools excluded), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) in ((), None):
        try:
            inner = item()
        except (TypeError, ValueError):
            return None
        return as_number(inner) if inner is not value else None
    return None


def interpret(value: Any, metric: str | Sequence[str] | None) -> tuple[dict[str, Any], float, str]:
    """Split a return value into ``(outputs, metric value, metric name)``.

    With several metric names every one must be a finite number; the first is returned.

    >>> interpret({"accuracy": 0.9, "latency": 3}, ["accuracy", "latency"])[1:]
    (0.9, 'accuracy')

    Raises:
        TrialError: the value holds no usable metric.
    """
    if isinstance(metric, Sequence) and not isinstance(metric, str):
        if not isinstance(value, Mapping):
            raise TrialError(f"the function returned {value!r} ({type(value).__name__}); with several "
                             f"objectives {list(metric)!r} return a dict holding each of them")
        for extra in metric[1:]:
            interpret(value, extra)
        return interpret(value, metric[0])
    if isinstance(value, Mapping):
        outputs = {str(k): json_safe(v) for k, v in value.items()}
        if metric is not None:
            if metric not in value:
                raise TrialError(
                    f"the function returned a dict without the metric key '{metric}' "
                    f"(keys: {', '.join(map(str, value)) or 'none'})"
                )
            name = metric
        else:
            numeric = [str(k) for k, v in value.items() if as_number(v) is not None]
            if not numeric:
                raise TrialError(
                    "the function returned a dict with no numbers; return the metric to optimise "
                    "as a number in it"
                )
            if len(numeric) > 1 and DEFAULT_KEY not in numeric:
                raise MetricChoiceError(
                    f"the function returned a dict with several numbers ({', '.join(numeric)}) "
                    "and none is named 'metric'; pass metric= (hops: optimization_key=) to name "
                    "the one to optimise", outputs)
            name = numeric[0] if len(numeric) == 1 else DEFAULT_KEY
        number = as_number(value[name])
        if number is None:
            raise TrialError(f"output '{name}' is {value[name]!r}, not a number")
    else:
        name = metric or "metric"
        number = as_number(value)
        if number is None:
            raise TrialError(
                f"the function returned {value!r} ({type(value).__name__}); "
                "return a number or a dict of outputs"
            )
        outputs = {name: number}
    if not math.isfinite(number):
        raise TrialError(f"metric '{name}' is {number!r}: a metric must be a finite number")
    return outputs, number, name
