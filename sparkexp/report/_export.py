"""Flat exports of a result: CSV (one row per trial) and JSON (settings, trials, best).

Example:
    >>> from sparkexp.result import Result
    >>> from sparkexp.trial import Trial
    >>> res = Result("/tmp/demo_1", [Trial("trial_00000", 0, {"lr": 0.1}, status="complete",
    ...                                   metric=0.9)])
    >>> to_csv(res).splitlines()[1][:31]
    'trial_00000,0,complete,0.9,0.1,'
    >>> import json; json.loads(to_json(res))["best"]["id"]
    'trial_00000'
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

from sparkexp.fs import filesystem_for
from sparkexp.report._data import status_counts
from sparkexp.result import Result
from sparkexp.store import json_safe

__all__ = ["to_csv", "to_json", "write_text"]


def write_text(text: str, out: str | os.PathLike[str] | None) -> str:
    """Write ``text`` to ``out`` (a local path, ``file://``, ``hdfs://`` ...) when given; return it."""
    if out is not None:
        path = os.fspath(out)
        filesystem_for(path).write_text(path, text)
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(json_safe(value))
    return str(value)


def to_csv(result: Result, out: str | os.PathLike[str] | None = None) -> str:
    """One row per trial, with the columns of :meth:`Result.to_arrow` (``param.<name>``, ...).

    Missing values are empty cells; list or dict values are JSON text.

    Args:
        result: The experiment to export.
        out: Where to write the CSV as well (local path or filesystem URI); optional.

    Returns:
        The CSV text.

    Example:
        >>> to_csv(res, "trials.csv")  # doctest: +SKIP
    """
    table = result.to_arrow()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.column_names)
    columns = [col.to_pylist() for col in table.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_cell(v) for v in row])
    return write_text(buf.getvalue(), out)


def to_json(result: Result, out: str | os.PathLike[str] | None = None) -> str:
    """The experiment as one JSON document: ``experiment``, ``settings``, ``summary``, ``best``
    and ``trials`` (every field of every trial).

    Non-finite floats become strings (``"nan"``, ``"inf"``) so the output is strict JSON.

    Args:
        result: The experiment to export.
        out: Where to write the JSON as well (local path or filesystem URI); optional.

    Returns:
        The JSON text.

    Example:
        >>> doc = json.loads(to_json(res))  # doctest: +SKIP
        >>> doc["summary"]["by_status"]      # doctest: +SKIP
        {'complete': 7, 'error': 1}
    """
    best = result.best
    doc = {
        "experiment": {
            "name": result.name,
            "path": result.path,
            "state": result.state,
            "direction": result.direction,
            "metric": result.metric,
        },
        "settings": result.manifest,
        "summary": {
            "trials": len(result.trials),
            "by_status": status_counts(result.trials),
            "best_id": None if best is None else best.id,
            "best_metric": None if best is None else best.metric,
        },
        "best": None if best is None else best.to_dict(),
        "trials": [t.to_dict() for t in result.trials],
    }
    text = json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n"
    return write_text(text, out)
