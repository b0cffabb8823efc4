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

__all__ = ["status_counts", "param_names", "param_kind", "value_label", "html_payload"]

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


def _scalar_outputs(trials: list[Trial], metric: str) -> list[str]:
    """Names of outputs worth a table column: scalar, and not just a copy of the metric."""
    names: dict[str, None] = {}
    for t in trials:
        for k, v in t.outputs.items():
            if k != metric and (v is None or isinstance(v, (str, int, float, bool))):
                names.setdefault(str(k), None)
    return list(names)


def html_payload(result: Result) -> dict[str, Any]:
    """Everything the HTML report draws, as JSON-compatible data.

    Numeric parameter values stay numbers (``None`` when missing); categorical ones become
    their :func:`value_label`. Metrics that are not finite numbers become ``None``.
    """
    trials = list(result.trials)
    names = param_names(trials)
    params: list[dict[str, Any]] = []
    for name in names:
        values = [t.params.get(name) for t in trials]
        kind, log = param_kind(values)
        spec: dict[str, Any] = {"name": name, "kind": kind, "log": log}
        if kind == "categorical":
            spec["categories"] = sorted({value_label(v) for v in values}, key=_natural)
        params.append(spec)
    outputs = _scalar_outputs(trials, result.metric)
    best = result.best
    rows = []
    for t in trials:
        values = []
        for spec in params:
            v = t.params.get(spec["name"])
            values.append(_finite(v) if spec["kind"] == "numeric" else value_label(v))
        rows.append(
            {
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
                "attempt": t.attempt,
                "error": t.error,
                "origin": json_safe(t.origin),
                "checkpoints": len(t.checkpoints),
            }
        )
    return {
        "version": 1,
        "experiment": {
            "name": result.name,
            "path": result.path,
            "state": result.state,
            "direction": result.direction,
            "metric": result.metric,
        },
        "settings": json_safe(result.manifest),
        "counts": status_counts(trials),
        "params": params,
        "outputs": outputs,
        "best": next((i for i, t in enumerate(trials) if t is best), None),
        "trials": rows,
    }


def _natural(label: str) -> tuple[int, float, str]:
    """Sort numeric-looking labels by value, then the rest alphabetically."""
    try:
        number = float(label)
    except ValueError:
        return (1, 0.0, label)
    return (0, number, label) if math.isfinite(number) else (1, 0.0, label)
