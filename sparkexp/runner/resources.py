"""Checks and settings that concern what executors receive and run with."""

from __future__ import annotations

from typing import Any

from sparkexp.errors import ConfigError

__all__ = ["check_picklable"]


def check_picklable(fn: Any) -> None:
    """Fail early, with the function's name, if Spark cannot ship ``fn`` to executors."""
    from pyspark import cloudpickle

    try:
        cloudpickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means the same to the user
        name = getattr(fn, "__name__", repr(fn))
        raise ConfigError(
            f"{name}() cannot be sent to executors: {type(exc).__name__}: {exc}. "
            "Move unpicklable objects (open files, sockets, locks, SparkSession) inside the function"
        ) from exc
