"""The current trial, held in a :mod:`contextvars` variable (no module globals).

The runner sets a :class:`TrialContext` around each call of the training function; the in-trial
API (``tensorboard.logdir()``, ``hdfs.project_path()``, ``reporter``) reads it. Outside a trial
only the project root is known (from the Spark conf, ``SPARKEXP_PROJECT_ROOT`` or the default).

Example:
    >>> ctx = TrialContext(trial_id="trial_00000", index=0, params={}, logdir="/tmp/t0",
    ...                    project_root="/tmp/")
    >>> with using(ctx):
    ...     current().logdir
    '/tmp/t0'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sparkexp.errors import NotInTrialError

__all__ = ["TrialContext", "current", "current_or_none", "using"]


@dataclass
class TrialContext:
    """What a running trial knows about itself."""

    trial_id: str
    index: int
    params: dict[str, Any]
    logdir: str
    project_root: str
    experiment_path: str = ""
    gpus: list[str] = field(default_factory=list)
    #: The trial's reporter (``sparkexp.reporter.Reporter``): intermediate metrics, stopping.
    reporter: Any = None
    allow_outside_root: bool = False
    #: creates ``logdir`` (the runner creates it on first use, not before every trial)
    create_logdir: Callable[[], None] | None = field(default=None, repr=False)

    def ensure_logdir(self) -> str:
        """``logdir``, created if it was not yet."""
        if self.create_logdir is not None:
            self.create_logdir()
        return self.logdir


_CURRENT: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar(
    "sparkexp_trial", default=None
)


def current_or_none() -> TrialContext | None:
    """The running trial's context, or None outside a trial."""
    return _CURRENT.get()


def current(what: str = "this function") -> TrialContext:
    """The running trial's context.

    Raises:
        NotInTrialError: outside a trial, naming ``what`` was called.
    """
    ctx = _CURRENT.get()
    if ctx is None:
        raise NotInTrialError(
            f"{what} can only be called inside a trial, i.e. from the function passed to "
            "experiment.grid_search/launch/... while it runs on an executor"
        )
    return ctx


@contextlib.contextmanager
def using(ctx: TrialContext) -> Iterator[TrialContext]:
    """Make ``ctx`` the current trial for the duration of the block."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
