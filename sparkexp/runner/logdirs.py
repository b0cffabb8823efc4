"""A trial's TensorBoard directory on the executor: local copies and the end-of-trial HParams.

With ``local_logdir=True`` a trial writes TensorBoard files to a local temporary directory
(for frameworks that can only write local paths) and :class:`LocalLogdir` copies it into the
trial folder from a daemon thread every ``interval`` seconds and once more when the trial ends.
Event files only grow, so each copy appends just the bytes added since the last one
(TensorBoard keeps reading the same file, on HDFS too); other files are copied whole when their
size or modification time changed.

:func:`finish` is the runner's single end-of-trial call: HParams into the logdir, then the last
copy. It never raises: TensorBoard output is a by-product, never the reason a trial fails.

Example:
    >>> with LocalLogdir("/tmp/exp/trial_00000", interval=30) as local:   # doctest: +SKIP
    ...     open(os.path.join(local.path, "notes.txt"), "w").write("hi")
    >>> os.path.exists("/tmp/exp/trial_00000/notes.txt")                    # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sparkexp.fs import filesystem_for

__all__ = ["LocalLogdir", "finish", "SYNC_INTERVAL"]

log = logging.getLogger("sparkexp")

#: Seconds between copies of a local logdir into the trial folder.
SYNC_INTERVAL = 30.0


class LocalLogdir:
    """A local directory mirrored into ``target`` (a trial folder on any sparkexp filesystem).

    Args:
        target: The trial folder to copy into (it must exist when copying starts).
        interval: Seconds between copies while the trial runs.
    """

    def __init__(self, target: str, *, interval: float = SYNC_INTERVAL) -> None:
        self.target = target
        self.interval = interval
        self.path = tempfile.mkdtemp(prefix="sparkexp-tb-")
        self._fs = filesystem_for(target)
        self._copied: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) copied
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LocalLogdir:
        """Start copying every ``interval`` seconds from a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sparkexp-logdir-sync",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - try again next time; close() reports
                log.debug("sparkexp: copying %s to %s failed: %s", self.path, self.target, exc)

    def sync(self) -> int:
        """Copy what changed since the last copy; returns the number of files touched."""
        with self._lock:
            touched = 0
            for folder, dirs, files in os.walk(self.path):
                dirs.sort()
                for name in sorted(files):
                    source = os.path.join(folder, name)
                    relative = os.path.relpath(source, self.path)
                    if self._copy(source, relative):
                        touched += 1
            return touched

    def _copy(self, source: str, relative: str) -> bool:
        try:
            stat = os.stat(source)
        except FileNotFoundError:  # removed by the trial meanwhile
            return False
        state = (stat.st_size, stat.st_mtime_ns)
        done = self._copied.get(relative)
        if done == state:
            return False
        destination = self._fs.join(self.target, *relative.split(os.sep))
        parent = destination.rsplit("/", 1)[0]
        if os.sep in relative and not self._fs.isdir(parent):
            self._fs.mkdirs(parent)
        if "tfevents" not in os.path.basename(relative):
            self._fs.upload(source, destination)
        elif done is not None and stat.st_size >= done[0]:
            # an event file only grows: append the new records (readers keep their offsets)
            with open(source, "rb") as f:
                f.seek(done[0])
                added = f.read(stat.st_size - done[0])
            if added:
                self._fs.append(destination, added)
            state = (done[0] + len(added), stat.st_mtime_ns)
        else:
            with open(source, "rb") as f:
                data = f.read(stat.st_size)
            self._fs.write_bytes(destination, data)
            state = (len(data), stat.st_mtime_ns)
        self._copied[relative] = state
        return True

    def close(self) -> None:
        """Stop the thread, copy once more and remove the local directory.

        Raises:
            OSError: the last copy failed (the local directory is kept for inspection).
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.interval, 60.0))
        self.sync()
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> LocalLogdir:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def finish(logdir: str, params: Mapping[str, Any], result: Mapping[str, Any], *,
           started: float | None = None, step: int | None = None,
           local: LocalLogdir | None = None, rerun: bool = True) -> None:
    """End a trial's TensorBoard output: its HParams, then the last copy of a local logdir.

    Args:
        logdir: The directory the trial wrote TensorBoard files to (``local.path`` if local).
        params: The trial's hyperparameters.
        result: The trial's result message; without a ``status`` (the worker is going down)
            only the local copy is made.
        started: When the trial's function started.
        step: The trial's last reported step (for the final scalars).
        local: The :class:`LocalLogdir` to close, if the trial used one.
        rerun: The trial ran before in this folder (a retry): its old HParams session goes.

    Never raises; failures are logged as warnings on the executor.
    """
    status = result.get("status")
    if status is not None:
        try:
            from sparkexp.tensorboard._hparams import remove_trial_hparams, write_trial_hparams

            # a re-run trial replaces the session of its earlier attempt (same trial folder)
            if rerun:
                remove_trial_hparams(local.target if local is not None else logdir)
            outputs = result.get("outputs") or {}
            write_trial_hparams(logdir, params, outputs, status=str(status), step=step,
                                start_time=started, end_time=time.time())
        except Exception as exc:  # noqa: BLE001
            log.warning("sparkexp: could not write TensorBoard HParams to %s: %s", logdir, exc)
    if local is not None:
        try:
            local.close()
        except Exception as exc:  # noqa: BLE001
            log.warning("sparkexp: could not copy %s to %s (kept there): %s",
                        local.path, local.target, exc)
