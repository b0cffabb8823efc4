"""Intermediate metrics from inside a trial, and cooperative stopping.

Inside a training function, call :func:`log` (or take a ``reporter`` argument and call its
``log``). Each report reaches the driver while the trial runs, is kept in the trial's
``history``, is written to the trial's TensorBoard logdir as scalars, and feeds early stopping:
when the driver decides the trial should stop (early stopping, a timeout, a kill), ``log``
raises :class:`TrialStopped`, which the runner records as a ``stopped`` (or ``timeout``) trial
with its last metric. Let it propagate.

:meth:`Reporter.checkpoint` saves the trial's state in its folder and :meth:`Reporter.restore`
reads the latest back, so a trial run again (lost executor, retry, resumed experiment, paused
and resumed) continues where it was; see ``docs/checkpoints.md``.

Example (inside the training function)::

    from sparkexp import reporter

    def train(lr, reporter):          # or call sparkexp.reporter.log(...) without the argument
        for epoch in range(100):
            acc = ...
            reporter.log(step=epoch, accuracy=acc)
        return acc

With checkpoints::

    def train(lr, reporter):
        state = reporter.restore() or {"epoch": -1, "weights": init()}
        for epoch in range(state["epoch"] + 1, 100):
            ...
            reporter.log(step=epoch, accuracy=acc)
            reporter.checkpoint({"epoch": epoch, "weights": weights})
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sparkexp.context import current
from sparkexp.errors import ConfigError

if TYPE_CHECKING:
    from sparkexp.checkpoint import TrialCheckpoints

__all__ = ["Reporter", "TrialStopped", "log", "run", "checkpoint", "restore"]


class TrialStopped(BaseException):
    """Raised inside a trial that the driver asked to stop. A ``BaseException``, like
    ``KeyboardInterrupt``, so a broad ``except Exception`` in training code does not swallow it."""

    def __init__(self, reason: str = "stopped") -> None:
        super().__init__(reason)
        self.reason = reason


class Reporter:
    """Sends a running trial's intermediate metrics to the driver.

    Args:
        send: Delivers one report to the driver; returns a stop reason, or None to go on.
        scalars: Writes ``(name, value, step)`` to TensorBoard, or None.
        checkpoints: The trial's :class:`~sparkexp.checkpoint.TrialCheckpoints`, or None.
    """

    def __init__(self, send: Callable[[dict[str, Any]], str | None],
                 scalars: Callable[[str, float, int], None] | None = None,
                 checkpoints: TrialCheckpoints | None = None) -> None:
        self._send = send
        self._scalars = scalars
        self._step = -1
        self.last: dict[str, Any] = {}
        self.checkpoints = checkpoints

    def _book(self, what: str) -> TrialCheckpoints:
        if self.checkpoints is None:
            raise ConfigError(f"{what}: this trial has no checkpoint folder (not run by sparkexp)")
        return self.checkpoints

    def checkpoint(self, state: Any = None, *, directory: str | None = None,
                   step: int | None = None) -> None:
        """Save the trial's state as a checkpoint at ``step`` (default: the last reported step).

        ``state`` is any picklable object (a dict of numpy arrays, a torch ``state_dict``), or a
        callable that writes files into the local directory it is given; ``directory=`` copies
        a local directory instead. Written atomically into the trial's folder; only the newest
        ``keep_checkpoints`` (default 3) are kept.

        Raises:
            ConfigError: nothing to save, or both a state and a directory.
        """
        book = self._book("reporter.checkpoint()")
        step = max(self._step, 0) if step is None else _whole_step("reporter.checkpoint", step)
        book.save(state, step=step, directory=directory)

    def restore(self) -> Any:
        """The state of the latest checkpoint this trial can continue from, or None.

        That is the trial's own newest checkpoint (it runs again after a lost executor, a
        retry, a resume or a pause) or, for a trial started from another's checkpoint
        (population based training), that one. Returns the object saved, or the path of a
        local directory with the files of a directory/callable checkpoint. Reports that follow
        without a ``step`` continue from the checkpoint's step.
        """
        book = self._book("reporter.restore()")
        state = book.restore()
        if book.restored is not None:
            self._step = max(self._step, int(book.restored["step"]))
        return state

    def log(self, step: int | None = None, **metrics: Any) -> None:
        """Report ``metrics`` at ``step`` (default: one more than the last step).

        Raises:
            TrialStopped: the driver asked this trial to stop.
            ConfigError: no metrics, or a step that is not a whole number.
        """
        if not metrics:
            raise ConfigError("reporter.log() needs at least one metric, e.g. reporter.log(step=1, loss=0.3)")
        step = self._step + 1 if step is None else _whole_step("reporter.log", step)
        self._step = step
        report = {"step": step, "_time": time.time(), **metrics}
        self.last = report
        if self._scalars is not None:
            for name, value in metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    self._scalars(name, float(value), step)
        reason = self._send(report)
        if reason:
            raise TrialStopped(reason)


def _whole_step(what: str, step: Any) -> int:
    """``step`` as an int: ints, numpy integers, and numbers or strings of a whole value
    (``3.0``, ``"12"``); anything else (``2.7``, ``True``, ``nan``) is refused, never rounded.

    >>> _whole_step("reporter.log", 3.0)
    3
    """
    if not isinstance(step, bool):
        try:
            return operator.index(step)  # int, numpy integers
        except TypeError:
            pass
        try:
            number = float(step)
        except (TypeError, ValueError):
            number = math.nan
        if number.is_integer():
            return int(number)
    raise ConfigError(f"{what}(step=...) must be a whole number, got {step!r}")


def log(step: int | None = None, **metrics: Any) -> None:
    """Report intermediate metrics of the running trial (see :class:`Reporter`).

    Raises:
        NotInTrialError: outside a trial.
        TrialStopped: the driver asked this trial to stop.
    """
    _reporter("reporter.log()").log(step, **metrics)


def _reporter(what: str) -> Reporter:
    reporter = current(what).reporter
    if reporter is None:  # pragma: no cover - the runner always sets one
        raise ConfigError("this trial has no reporter")
    return reporter  # type: ignore[no-any-return]


def checkpoint(state: Any = None, *, directory: str | None = None, step: int | None = None) -> None:
    """Save the running trial's state (see :meth:`Reporter.checkpoint`).

    Raises:
        NotInTrialError: outside a trial.
    """
    _reporter("reporter.checkpoint()").checkpoint(state, directory=directory, step=step)


def restore() -> Any:
    """The running trial's latest checkpoint state, or None (see :meth:`Reporter.restore`).

    Raises:
        NotInTrialError: outside a trial.
    """
    return _reporter("reporter.restore()").restore()


def run(argv: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None) -> int:
    """Run a training command inside a trial, streaming its output into the trial's logs.

    Every line the command prints to stdout goes to the trial's ``stdout.log``; a line that is
    one JSON object (``{"step": 3, "accuracy": 0.9}``) is a metrics report, exactly as if the
    trial had called :func:`log` (so early stopping works for scripts that cannot import
    sparkexp). When the driver stops the trial, the command is terminated. No shell is used.

    Returns:
        The command's exit code.

    Example (inside the training function)::

        def train(lr):
            code = reporter.run([sys.executable, "train.py", "--lr", str(lr)])
    """
    import subprocess
    import sys

    current("reporter.run()")
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)  # the trial's captured stdout: JSON lines become reports
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
