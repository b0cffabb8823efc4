"""The report's view of a :class:`~sparkexp.result.Result`: plain, JSON-compatible data.

Both the JSON export and the HTML report are built from these functions, so they agree on
what a trial, a parameter kind or the best trial is.

Example:
    >>> from sparkexp.result import Result
    >>> from sparkexp.trial import Trial
    >>> res = Result("/tmp/demo_1", [Trial("trial_00000", 0, {"lr": 0.1, "opt": "adam"},
    ...                                   status="complete", metric=0.9)])
    >>> [(p["name"], p["kind"]) for p in html_payload(res)["params"]]
    [('lr', 'numeric'), ('opt', 'categorical')]
"""

from __future__ import annotations

import json
import math
from typing import Any

from sparkexp.result import Result
from sparkexp.store import json_safe
from sparkexp.trial import Trial

__all__ = ["status_counts", "param_names", "param_kind", "value_label", "param_specs",
           "scalar_outputs", "trial_row", "experiment_info", "curves", "html_payload"]

# A positive parameter spread over two decades or more whose median lies in the lowest fifth of
# its range (as log-uniform samples do, uniform ones do not) is drawn on a log axis.
_LOG_RATIO = 100.0
_LOG_MEDIAN = 0.2


def status_counts(trials: list[Trial]) -> dict[str, int]:
    """Number of trials in each status, in first-seen order.

    >>> status_counts([Trial("a", 0, {}, status="error"), Trial("b", 1, {}, status="error")])
    {'error': 2}
    """
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.status] = counts.get(t.status, 0) + 1
    return counts


def param_names(trials: list[Trial]) -> list[str]:
    """Every hyperparameter name, in first-seen order."""
    names: dict[str, None] = {}
    for t in trials:
        for k in t.params:
            names.setdefault(str(k), None)
    return list(names)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def param_kind(values: list[Any]) -> tuple[str, bool]:
    """``("numeric", log)`` when every present value is a finite number, else ``("categorical", False)``.

    ``log`` is True for positive values spread over two decades or more and bunched towards
    the low end, as log-uniform samples and grids like ``[1e-4, 1e-3, 1e-2]`` are.

    >>> param_kind([0.0001, 0.001, 0.01, None])
    ('numeric', True)
    >>> param_kind([0.005, 0.2, 0.3, 0.5])
    ('numeric', False)
    >>> param_kind(["adam", 3])
    ('categorical', False)
    """
    present = [v for v in values if v is not None]
    if not present or not all(_is_number(v) for v in present):
        return ("categorical", False)
    lo, hi = min(present), max(present)
    if lo <= 0 or hi / lo < _LOG_RATIO:
        return ("numeric", False)
    # log-spread values bunch up at the low end of a linear axis: the median sits near lo
    ordered = sorted(present)
    median = ordered[len(ordered) // 2]
    return ("numeric", (median - lo) / (hi - lo) < _LOG_MEDIAN)


def value_label(value: Any) -> str:
    """How a categorical value is shown: strings as they are, everything else as JSON-ish text.

    >>> value_label("relu"), value_label(True), value_label([1, 2]), value_label(None)
    ('relu', 'True', '[1, 2]', 'None')
    """
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    return json.dumps(json_safe(value), default=repr)


def _finite(v: Any) -> float | None:
    return float(v) if _is_number(v) else None


def param_specs(trials: list[Trial]) -> list[dict[str, Any]]:
    """How each hyperparameter is drawn: ``name``, ``kind`` (numeric or categorical), ``log``
    and, for categorical ones, the sorted ``categories`` (their :func:`value_label`).

    A parameter absent from a trial (a conditional one whose condition did not hold) adds no
    category: it is shown empty, never as ``"None"``."""
    params: list[dict[str, Any]] = []
    for name in param_names(trials):
        values = [t.params[name] for t in trials if name in t.params]
        kind, log = param_kind(values)
        spec: dict[str, Any] = {"name": name, "kind": kind, "log": log}
        if kind == "categorical":
            spec["categories"] = sorted({value_label(v) for v in values}, key=_natural)
        params.append(spec)
    return params


def scalar_outputs(trials: list[Trial], metric: str) -> list[str]:
    """Names of outputs worth a table column: scalar, and not just a copy of the metric."""
    names: dict[str, None] = {}
    for t in trials:
        for k, v in t.outputs.items():
            if k != metric and (v is None or isinstance(v, (str, int, float, bool))):
                names.setdefault(str(k), None)
    return list(names)


def trial_row(t: Trial, params: list[dict[str, Any]], outputs: list[str]) -> dict[str, Any]:
    """One trial as the charts read it: parameter values in ``params`` order (numbers, or
    labels for categorical ones; None for a parameter the trial does not have), outputs in
    ``outputs`` order, timings, placement, error, and ``feasible`` (False when it violates the
    constraints, None without constraints)."""
    values: list[Any] = []
    for spec in params:
        if spec["name"] not in t.params:
            values.append(None)
            continue
        v = t.params[spec["name"]]
        values.append(_finite(v) if spec["kind"] == "numeric" else value_label(v))
    return {
        "id": t.id,
        "index": t.index,
        "status": t.status,
        "metric": _finite(t.metric),
        "params": values,
        "outputs": [json_safe(t.outputs.get(k)) for k in outputs],
        "started": _finite(t.started),
        "finished": _finite(t.finished),
        "duration": _finite(t.duration),
        "host": t.host,
        "executor": t.executor,
        "slot": t.slot,
        "attempt": t.attempt,
        "error": t.error,
        "origin": json_safe(t.origin),
        "checkpoints": len(t.checkpoints),
        "feasible": t.feasible,
    }


def experiment_info(result: Result) -> dict[str, Any]:
    """The ``experiment`` part of the payload: name, path, state, direction, metric."""
    return {
        "name": result.name,
        "path": result.path,
        "state": result.state,
        "direction": result.direction,
        "metric": result.metric,
    }


def curves(trials: list[Trial], best: Trial | None, direction: str, *, limit: int = 10) -> dict[str, Any]:
    """The reports (``reporter.log``) of up to ``limit`` trials worth a learning-curve plot:
    the best completed ones first, then the most recent others, by trial id."""
    with_history = [t for t in trials if t.history]
    sign = -1.0 if direction == "max" else 1.0
    done = sorted((t for t in with_history if _finite(t.metric) is not None),
                  key=lambda t: (sign * float(t.metric), t.index))  # type: ignore[arg-type]
    rest = sorted((t for t in with_history if _finite(t.metric) is None), key=lambda t: -t.index)
    chosen = (done + rest)[:limit]
    if best is not None and best.history and best not in chosen:
        chosen = [best] + chosen[: limit - 1]
    return {t.id: json_safe(t.history) for t in chosen}


def html_payload(result: Result) -> dict[str, Any]:
    """Everything the HTML report draws, as JSON-compatible data.

    Numeric parameter values stay numbers (``None`` when missing); categorical ones become
    their :func:`value_label`. A parameter absent from a trial (a conditional one whose
    condition did not hold) is ``None`` and shown empty, never as a ``"None"`` category.
    Metrics that are not finite numbers become ``None``.
    """
    trials = list(result.trials)
    params = param_specs(trials)
    outputs = scalar_outputs(trials, result.metric)
    best = result.best
    objectives = result.objectives
    front = {id(t) for t in result.pareto_front} if objectives is not None else set()
    return {
        "version": 1,
        "experiment": experiment_info(result),
        "settings": json_safe(result.manifest),
        "counts": status_counts(trials),
        "params": params,
        "outputs": outputs,
        "best": next((i for i, t in enumerate(trials) if t is best), None),
        "objectives": None if objectives is None else objectives.settings(),
        "pareto": [i for i, t in enumerate(trials) if id(t) in front],
        "trials": [trial_row(t, params, outputs) for t in trials],
        "curves": curves(trials, best, result.direction),
    }


def _natural(label: str) -> tuple[int, float, str]:
    """Sort numeric-looking labels by value, then the rest alphabetically."""
    try:
        number = float(label)
    except ValueError:
        return (1, 0.0, label)
    return (0, number, label) if math.isfinite(number) else (1, 0.0, label)
