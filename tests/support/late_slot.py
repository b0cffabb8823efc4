"""A trial function whose slot ``k`` task reaches the driver late, as a cold Python worker does.

:func:`late_on_slot` wraps a function so that, in the Python worker of slot ``k``'s task, loading
the task's command (which unpickles the function) takes ``seconds`` longer: that task is
running on the executor but connects to the driver only after the other slots may have run
every trial. The delay is keyed by the slot job's description (``..., slot <k>``), which the
worker's TaskContext holds before it unpickles the command; elsewhere (the driver) nothing waits.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

__all__ = ["late_on_slot"]


def _arrive(slot: int, seconds: float) -> _Late:
    try:
        from pyspark import TaskContext

        context = TaskContext.get()
    except ImportError:  # pragma: no cover
        context = None
    description = (context.getLocalProperty("spark.job.description") or "") if context else ""
    if description.endswith(f"slot {slot}"):
        time.sleep(seconds)
    return _Late(slot, seconds)


class _Late:
    """Unpickling it (in a slot task's worker) waits when the task serves the slow slot."""

    def __init__(self, slot: int, seconds: float) -> None:
        self.slot = slot
        self.seconds = seconds

    def __reduce__(self) -> tuple[Any, ...]:
        return _arrive, (self.slot, self.seconds)


def _call(fn: Callable[..., Any], late: _Late, /, **params: Any) -> Any:
    return fn(**params)


def late_on_slot(fn: Callable[..., Any], slot: int, seconds: float) -> Callable[..., Any]:
    """``fn``, arriving ``seconds`` late in the task of slot ``slot``."""
    wrapped = functools.partial(_call, fn, _Late(slot, seconds))
    functools.update_wrapper(wrapped, fn)  # its signature: the hyperparameters it takes
    return wrapped
