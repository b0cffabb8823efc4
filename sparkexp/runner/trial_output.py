"""A trial's stdout and stderr on the executor: log files, live or tail echo, metrics lines.

:func:`captured_output` sends everything a trial writes (the ``sys`` streams and fds 1 and 2,
through :class:`~sparkexp.runner.capture.ProcessCapture`) to ``stdout.log``/``stderr.log`` in
its folder through two :class:`LineTee` writers, echoes it as ``echo_output`` asks, and hands
each line printed from Python to a callback (a line that is one JSON object is a metrics
report: :func:`json_metrics_line`).

Example:
    >>> json_metrics_line('{"step": 1, "loss": 0.5}')
    {'step': 1, 'loss': 0.5}
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from sparkexp.errors import TrialError
from sparkexp.fs import filesystem_for
from sparkexp.runner.capture import ProcessCapture

__all__ = ["LineTee", "json_metrics_line", "captured_output", "tail_block", "TAIL_LINES",
           "FAILED_LINES", "TAIL_WIDTH"]


class LineTee(io.TextIOBase):
    """A trial's stdout or stderr: writes to a log file (opened on first write), echoes the text
    to the worker's own stream (``echo``), keeps the last lines for a bounded echo (``tail``),
    and hands every complete line written from Python to ``on_line`` (metrics printed as JSON).

    Written from the trial's threads and from the fd reader threads, so writes are serialised.
    """

    def __init__(self, path: str, echo: TextIO | None,
                 on_line: Callable[[str], None] | None = None,
                 before_open: Callable[[], None] | None = None, *, tail: int = 0) -> None:
        self._path = path
        self._before_open = before_open
        self._log: TextIO | None = None
        self._echo = echo
        self._on_line = on_line
        self._partial = ""
        self._lock = threading.RLock()
        self.tail: collections.deque[str] | None = collections.deque(maxlen=tail) if tail else None
        self._tail_partial = ""
        #: complete lines written so far
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write_raw(self, s: str) -> None:
        """Write ``s`` to the log and the echo only (text from fds 1/2: no metrics parsing)."""
        with self._lock:
            if self.closed:
                return
            if self._log is None:
                if self._before_open is not None:
                    self._before_open()
                self._log = open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._log.write(s)
            if self._echo is not None:
                try:
                    self._echo.write(s)
                except (OSError, ValueError):
                    self._echo = None
            self.lines += s.count("\n")
            if self.tail is not None:
                *done, self._tail_partial = (self._tail_partial + s).split("\n")
                self.tail.extend(done)
                self._tail_partial = self._tail_partial[-4096:]

    def write(self, s: str) -> int:
        self.write_raw(s)
        if self._on_line is not None:
            text = self._partial + s
            if "\n" not in s:
                # print() writes the text and its newline separately; cap a runaway line
                self._partial = text if len(text) < 1 << 20 else ""
            else:
                *lines, self._partial = text.split("\n")
                for line in lines:
                    self._on_line(line)  # may raise TrialStopped, as reporter.log does
        return len(s)

    def flush(self) -> None:
        with self._lock:
            if self._log is not None and not self._log.closed:
                self._log.flush()
            if self._echo is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._echo.flush()

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                super().close()  # flushes first
                if self._log is not None:
                    self._log.close()
                if self.tail is not None and self._tail_partial:
                    self.tail.append(self._tail_partial)
                    self.lines += 1

    @property
    def written(self) -> bool:
        return self._log is not None


def json_metrics_line(line: str) -> dict[str, Any] | None:
    """The metrics of a line that is one JSON object (Valohai-style), else None.

    >>> json_metrics_line('{"step": 3, "accuracy": 0.9}')
    {'step': 3, 'accuracy': 0.9}
    >>> json_metrics_line("epoch 3: accuracy 0.9") is None
    True
    """
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not any(k not in ("step", "_time") for k in value):
        return None
    return value


#: lines of each stream shown for a trial in ``echo_output="tail"`` mode
TAIL_LINES = 5
#: lines of stderr kept to show a failed trial's whole error in ``"tail"`` mode
FAILED_LINES = 1000
#: characters of one line shown in ``"tail"`` mode
TAIL_WIDTH = 400


def tail_block(label: str, index: int, tees: dict[str, LineTee], failed: bool) -> str:
    """The bounded echo of one finished trial: its last lines, all of stderr when it failed."""
    parts = []
    for name, tee in tees.items():
        lines = list(tee.tail or ())
        show = lines if failed and name == "stderr" else lines[-TAIL_LINES:]
        if not show:
            continue
        shown = f"all {tee.lines}" if len(show) >= tee.lines else f"last {len(show)} of {tee.lines}"
        parts.append(f"--- {label} {name}: {shown} lines (all: result.trials[{index}].{name}()) ---\n")
        for line in show:
            line = line.rsplit("\r", 1)[-1]  # a progress bar redrawn in place: its last state
            parts.append((line if len(line) <= TAIL_WIDTH else line[:TAIL_WIDTH] + " ...") + "\n")
    return "".join(parts)


@contextlib.contextmanager
def captured_output(logdir: str, local: bool, echo: bool | str,
                     on_line: Callable[[str], None] | None = None,
                     create_logdir: Callable[[], None] | None = None,
                     *, label: str = "trial", index: int = 0) -> Iterator[None]:
    """Send everything the trial writes to stdout/stderr (the ``sys`` streams, whoever holds
    them, and fds 1 and 2) to ``stdout.log``/``stderr.log`` in its logdir.

    ``echo``: True also copies the output to the worker's own stdout/stderr as it comes;
    ``"tail"`` shows only the last lines of each stream when the trial ends (all of stderr if it
    failed); False shows nothing. An exception leaving the block is written to ``stderr.log``.
    A log file exists only if the trial wrote to that stream (``create_logdir`` is called
    before the first one is opened or uploaded). On a remote filesystem the logs are written
    to a local temporary directory and uploaded when the trial ends.
    """
    import tempfile

    from sparkexp.reporter import TrialStopped

    capture = ProcessCapture.install()
    target = logdir if local else tempfile.mkdtemp(prefix="sparkexp-logs-")
    opener = create_logdir if local else None
    live = echo is True
    tail = FAILED_LINES if echo == "tail" else 0
    out = LineTee(os.path.join(target, "stdout.log"), capture.original(1) if live else None,
                   on_line, opener, tail=tail)
    err = LineTee(os.path.join(target, "stderr.log"), capture.original(2) if live else None,
                   None, opener, tail=tail)
    failed = False
    try:
        with capture.routing(out, err):
            try:
                yield
            except (TrialStopped, KeyboardInterrupt):
                raise
            except TrialError as exc:
                failed = True
                err.write_raw(f"TrialError: {exc}\n")
                raise
            except BaseException as exc:
                failed = True
                err.write_raw("".join(traceback.format_exception(exc)))
                raise
    finally:
        out.close()
        err.close()
        if tail:
            block = tail_block(label, index, {"stdout": out, "stderr": err}, failed)
            if block:
                with contextlib.suppress(OSError, ValueError):
                    capture.original(1).write(block)
        if not local:
            fs = filesystem_for(logdir)
            if create_logdir is not None and (out.written or err.written):
                create_logdir()
            for tee, name in ((out, "stdout.log"), (err, "stderr.log")):
                if tee.written:
                    fs.upload(os.path.join(target, name), fs.join(logdir, name))
            import shutil

            shutil.rmtree(target, ignore_errors=True)
