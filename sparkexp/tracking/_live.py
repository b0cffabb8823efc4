"""Live MLflow tracking from the driver: journal events go to a separate sync process.

Why a process and not a thread: one trial costs MLflow ~10 ms of Python (three to six client
calls), and a thread doing that would hold the driver's GIL against the dispatch loop. The
driver only queues each batch of journal events the recorder has written (a list append); a
writer thread starts the process when the first events arrive (so starting it never delays the
first trials) and feeds them to it as JSON lines. The process (:mod:`sparkexp.tracking._process`,
at nice +10) folds them and talks to MLflow, retrying in the background while
MLflow is down. Its warnings come back over its stdout and are logged on the driver. It
outlives the driver if it must (its data is already in the pipe), and gives up ten minutes
after the experiment ended if MLflow stays down; ``sparkexp export-mlflow`` catches up from
the records at any time.

Example:
    >>> live = LiveTracking(store.path, "sqlite:///mlflow.db")   # doctest: +SKIP
    >>> live.submit(events)                                      # doctest: +SKIP
    >>> live.close(); live.wait(60)                              # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sparkexp.store import json_safe
from sparkexp.tracking._process import LAUNCH

__all__ = ["LiveTracking", "CHILD_ENV", "run_tracked"]

log = logging.getLogger("sparkexp")

#: settings for the sync process's MLflow client (unless set): our own retries replace MLflow's
#: (by default up to ~2 minutes per call), and MLflow's INFO lines stay out of the user's logs
CHILD_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
             "MLFLOW_LOGGING_LEVEL": "WARNING"}


class LiveTracking:
    """The driver's handle on one experiment's MLflow sync process.

    Args:
        path: The experiment directory.
        tracking_uri: Where to log (``""``: the environment's MLflow).
        replay: How many journal events were recorded before this run started (a resume):
            the sync process reads those from the journal, the rest arrive via :meth:`submit`.
        experiment_name: The MLflow experiment (default: the experiment's name).
    """

    def __init__(self, path: str, tracking_uri: str, *, replay: int = 0,
                 experiment_name: str | None = None) -> None:
        self.path = path
        self.tracking_uri = tracking_uri
        self._config = {"path": path, "uri": tracking_uri, "replay": replay,
                        "experiment_name": experiment_name}
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._spawned = threading.Event()
        self._queue: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self._tail: deque[str] = deque(maxlen=5)  # its last non-status lines, for a crash
        self._writer = threading.Thread(target=self._write, name="sparkexp-mlflow-writer",
                                        daemon=True)
        self._writer.start()

    @property
    def pid(self) -> int | None:
        """The sync process's id (None before the first events, or if it could not start)."""
        return None if self._proc is None else int(self._proc.pid)

    def submit(self, events: list[dict[str, Any]]) -> None:
        """Queue journal events that were just recorded (called by the runner's recorder)."""
        self._queue.put(events)

    def close(self) -> None:
        """No more events: the sync process finishes in the background (never waited for)."""
        self._queue.put(None)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until MLflow holds everything; False if it did not within ``timeout`` seconds
        (MLflow down or slow; the sync goes on) or the sync process gave up."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._spawned.wait(timeout) or self._proc is None:
            return False
        try:
            code = self._proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        if self._reader is not None:
            self._reader.join(5)
        return code == 0

    # -- threads ----------------------------------------------------------------------------
    def _spawn(self) -> bool:
        """Start the sync process. The writer thread calls this when the first events arrive,
        so starting a process (and its imports) never delays the experiment's first trials."""
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**CHILD_ENV, **os.environ}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCH],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=env, text=True, start_new_session=True,  # Ctrl-C on the driver: it syncs on
            )
        except OSError as exc:
            log.warning("sparkexp: cannot start MLflow tracking (%s); the records are complete: "
                        "`sparkexp export-mlflow %s` catches up", exc, self.path)
            self._spawned.set()
            return False
        self._reader = threading.Thread(target=self._read, name="sparkexp-mlflow-reader",
                                        daemon=True)
        self._reader.start()
        self._spawned.set()
        return True

    def _write(self) -> None:
        items = [self._queue.get()]
        if not self._spawn():
            return
        assert self._proc is not None and self._proc.stdin is not None
        stdin = self._proc.stdin
        lines = [json.dumps({"config": self._config}) + "\n"]
        while True:
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ending = None in items
            lines.extend(json.dumps({"events": json_safe(item)}) + "\n"
                         for item in items if item is not None)
            if ending:
                lines.append('{"end":true}\n')
            try:
                stdin.write("".join(lines))
                stdin.flush()
                if ending:
                    stdin.close()
            except (OSError, ValueError):  # it died; its reader reports why
                return
            if ending:
                return
            items, lines = [self._queue.get()], []

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        for line in stdout:
            try:
                status = json.loads(line)
            except ValueError:
                status = None
            if not isinstance(status, dict):
                self._tail.append(line.rstrip())
            elif "warn" in status:
                log.warning("sparkexp: %s", status["warn"])
            elif "info" in status:
                log.info("sparkexp: %s", status["info"])
        code = self._proc.wait()
        if code not in (0, 3):  # 3: gave up, and said so
            detail = "; ".join(t for t in self._tail if t)[-500:]
            log.warning("sparkexp: the MLflow sync process ended with exit code %s (%s); the "
                        "records are complete: `sparkexp export-mlflow %s` catches up",
                        code, detail or "no output", self.path)


def run_tracked(start: Callable[[Callable[[list[dict[str, Any]]], None] | None], Any], path: str,
                tracking_uri: str, *, replay: int = 0) -> Any:
    """Run ``start(on_events)`` (an experiment) with live tracking; the result (also the
    ``.result`` of an :class:`~sparkexp.errors.ExperimentAborted`) gets it as ``.tracking``."""
    from sparkexp.errors import ExperimentAborted

    tracking = LiveTracking(path, tracking_uri, replay=replay)
    try:
        result = start(tracking.submit)
    except ExperimentAborted as exc:
        partial = getattr(exc, "result", None)
        if partial is not None:
            partial.tracking = tracking
        raise
    finally:
        tracking.close()
    result.tracking = tracking
    return result
