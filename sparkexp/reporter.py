"""Intermediate metrics from inside a trial, and cooperative stopping.

Inside a training function, call :func:`log` (or take a ``reporter`` argument and call its
``log``). Each report reaches the driver while the trial runs, is kept in the trial's
``history``, is written to the trial's TensorBoard logdir as scalars, and feeds early stopping:
when the driver decides the trial should stop (early stopping, a timeout, a kill), ``log``
raises :class:`TrialStopped`, which the runner records as a ``stopped`` (or ``timeout``) trial
with its last metric. Let it propagate.

Example (inside the training function)::

    from sparkexp import reporter

    def train(lr, reporter):          # or call sparkexp.reporter.log(...) without the argument
        for epoch in range(100):
            acc = ...
            reporter.log(step=epoch, accuracy=acc)
        return acc
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from sparkexp.context import current
from sparkexp.errors import ConfigError

__all__ = ["Reporter", "TrialStopped", "log", "run"]


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
    """

    def __init__(self, send: Callable[[dict[str, Any]], str | None],
                 scalars: Callable[[str, float, int], None] | None = None) -> None:
        self._send = send
        self._scalars = scalars
        self._step = -1
        self.last: dict[str, Any] = {}

    def log(self, step: int | None = None, **metrics: Any) -> None:
        """Report ``metrics`` at ``step`` (default: one more than the last step).

        Raises:
            TrialStopped: the driver asked this trial to stop.
            ConfigError: no metrics, or a step that is not a whole number.
        """
        if not metrics:
            raise ConfigError("reporter.log() needs at least one metric, e.g. reporter.log(step=1, loss=0.3)")
        if step is None:
            step = self._step + 1
        elif isinstance(step, bool) or not isinstance(step, int):
            try:
                step = int(step)  # numpy integers
            except (TypeError, ValueError):
                raise ConfigError(f"reporter.log(step=...) must be a whole number, got {step!r}") from None
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


def log(step: int | None = None, **metrics: Any) -> None:
    """Report intermediate metrics of the running trial (see :class:`Reporter`).

    Raises:
        NotInTrialError: outside a trial.
        TrialStopped: the driver asked this trial to stop.
    """
    reporter = current("reporter.log()").reporter
    if reporter is None:  # pragma: no cover - the runner always sets one
        raise ConfigError("this trial has no reporter")
    reporter.log(step, **metrics)


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
