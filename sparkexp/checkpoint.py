"""Trial checkpoints: a trial saves its state in its own folder and continues from the latest.

Layout, inside the trial's folder on the project root (any :mod:`sparkexp.fs` filesystem)::

    trial_00003/checkpoints/
        ckpt_000012/          one checkpoint, named by the step it was taken at
            state.pkl         reporter.checkpoint(obj): the pickled object
            ...               or the files a callable / a directory checkpoint wrote
            checkpoint.json   {"step": 12, "time": ..., "trial": "trial_00003"}
        ckpt_000015/

A checkpoint is written into a hidden temporary folder (``.tmp-ckpt_...``) and renamed into
place when complete, so a folder named ``ckpt_<step>`` is always whole: :func:`latest` never
sees half a checkpoint, even after a crash mid-write. Only the newest ``keep`` are kept.

The executor running the trial is the only writer of its checkpoints; the driver learns of
each one over the trial's channel and lists them in the trial's records.

Example:
    >>> import tempfile, os
    >>> trial_dir = tempfile.mkdtemp()
    >>> book = TrialCheckpoints(trial_dir, keep=2)
    >>> for step in (1, 2, 3):
    ...     _ = book.save({"w": step * 10}, step=step)
    >>> [s for s, _ in list_checkpoints(trial_dir)]
    [2, 3]
    >>> TrialCheckpoints(trial_dir, keep=2).restore()
    {'w': 30}
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.fs import FileSystem, filesystem_for

__all__ = [
    "CHECKPOINTS_DIR",
    "STATE_FILE",
    "DEFAULT_KEEP",
    "TrialCheckpoints",
    "checkpoint_name",
    "list_checkpoints",
    "latest",
]

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "state.pkl"
META_FILE = "checkpoint.json"
#: checkpoints kept per trial unless the experiment says otherwise
DEFAULT_KEEP = 3
_NAME = re.compile(r"^ckpt_(\d+)$")


def checkpoint_name(step: int) -> str:
    """The folder name of the checkpoint taken at ``step``.

    >>> checkpoint_name(12)
    'ckpt_000012'
    """
    return f"ckpt_{step:06d}"


def list_checkpoints(trial_dir: str, fs: FileSystem | None = None) -> list[tuple[int, str]]:
    """``(step, path)`` of every complete checkpoint of a trial, oldest first."""
    fs = fs or filesystem_for(trial_dir)
    base = fs.join(trial_dir, CHECKPOINTS_DIR)
    try:
        names = fs.ls(base)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [(int(m.group(1)), fs.join(base, n)) for n in names if (m := _NAME.match(n))]
    return sorted(found)


def latest(trial_dir: str, fs: FileSystem | None = None) -> tuple[int, str] | None:
    """``(step, path)`` of the trial's newest complete checkpoint, or None."""
    found = list_checkpoints(trial_dir, fs)
    return found[-1] if found else None


def _step_of(path: str) -> int | None:
    m = _NAME.match(path.rstrip("/").rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


class TrialCheckpoints:
    """The checkpoints of one running trial (made by the runner; used through the reporter).

    Args:
        trial_dir: The trial's folder on the project root.
        keep: How many of the newest checkpoints to keep (older ones are deleted).
        start_from: A checkpoint of another trial to start from when this trial has none of
            its own (population based training copies a better trial's state this way). If it
            was deleted meanwhile, that trial's newest checkpoint is used.
        notify: Called with each checkpoint's record once it is in place (the driver lists it).
    """

    def __init__(self, trial_dir: str, *, keep: int = DEFAULT_KEEP, start_from: str | None = None,
                 notify: Callable[[dict[str, Any]], None] | None = None) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ConfigError(f"keep_checkpoints must be a positive whole number, got {keep!r}")
        self.trial_dir = trial_dir
        self.keep = keep
        self.start_from = start_from
        self._notify = notify
        self.fs = filesystem_for(trial_dir)
        #: checkpoints this run of the trial wrote
        self.saved = 0
        #: ``{"step", "path"}`` of the checkpoint :meth:`restore` loaded, or None
        self.restored: dict[str, Any] | None = None
        self._local: list[str] = []

    # -- saving ---------------------------------------------------------------------------------
    def save(self, state: Any = None, *, step: int, directory: str | None = None) -> dict[str, Any]:
        """Write a checkpoint at ``step`` atomically and prune old ones; returns its record.

        ``state`` is pickled into ``state.pkl``, or, when callable, called with an empty local
        directory to write files into (``lambda d: torch.save(model.state_dict(), d + "/m.pt")``);
        ``directory`` copies a local directory's files instead.
        """
        if directory is not None and state is not None:
            raise ConfigError("reporter.checkpoint(): pass a state or directory=..., not both")
        if directory is not None and not os.path.isdir(directory):
            raise ConfigError(f"reporter.checkpoint(directory=...): {directory!r} is not a local directory")
        if state is None and directory is None:
            raise ConfigError("reporter.checkpoint() needs the state to save (an object, a "
                              "callable writing files into a directory, or directory=...)")
        fs = self.fs
        base = fs.join(self.trial_dir, CHECKPOINTS_DIR)
        name = checkpoint_name(step)
        final = fs.join(base, name)
        local = tempfile.mkdtemp(prefix="sparkexp-ckpt-")
        try:
            if directory is not None:
                shutil.copytree(directory, local, dirs_exist_ok=True)
            elif callable(state):
                state(local)
            else:
                with open(os.path.join(local, STATE_FILE), "wb") as f:
                    pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            record = {"step": step, "time": time.time(), "path": final}
            with open(os.path.join(local, META_FILE), "w", encoding="utf-8") as f:
                json.dump({**record, "trial": self.trial_dir.rstrip("/").rsplit("/", 1)[-1]}, f)
            fs.mkdirs(base)
            tmp = fs.join(base, f".tmp-{name}-{os.getpid()}-{time.monotonic_ns()}")
            fs.upload(local, tmp)
            if fs.exists(final):  # the same step again (a re-run): the new one replaces it
                fs.delete(final, recursive=True)
            fs.rename(tmp, final)
        finally:
            shutil.rmtree(local, ignore_errors=True)
        self.saved += 1
        self._prune(base)
        if self._notify is not None:
            self._notify(record)
        return record

    def _prune(self, base: str) -> None:
        fs = self.fs
        found = list_checkpoints(self.trial_dir, fs)
        for _step, path in found[:-self.keep]:
            try:
                fs.delete(path, recursive=True)
            except OSError:
                pass  # already gone
        try:
            names = fs.ls(base)
        except OSError:
            return
        for n in names:  # a temporary folder left by a run that died mid-write
            if n.startswith(".tmp-ckpt_") and f"-{os.getpid()}-" not in n:
                try:
                    fs.delete(fs.join(base, n), recursive=True)
                except OSError:
                    pass

    # -- restoring --------------------------------------------------------------------------------
    def latest(self) -> tuple[int, str] | None:
        """``(step, path)`` to continue from: this trial's newest checkpoint, else the one it
        starts from (or, if that one was pruned meanwhile, its trial's newest), else None."""
        own = latest(self.trial_dir, self.fs)
        if own is not None:
            return own
        if self.start_from is None:
            return None
        fs = filesystem_for(self.start_from)
        if fs.exists(self.start_from):
            step = _step_of(self.start_from)
            return (step if step is not None else 0), self.start_from
        donor = self.start_from.rstrip("/").rsplit("/", 2)[0]  # <trial>/checkpoints/ckpt_n
        return latest(donor, fs)

    def restore(self) -> Any:
        """The latest checkpoint's state (see :meth:`latest`): the pickled object, or the path
        of a local directory holding the checkpoint's files; None when there is none."""
        for _attempt in range(3):  # a donor may prune the checkpoint while it is copied
            found = self.latest()
            if found is None:
                return None
            step, path = found
            fs = filesystem_for(path)
            local = tempfile.mkdtemp(prefix="sparkexp-restore-")
            self._local.append(local)
            try:
                fs.download(path, local)
            except (FileNotFoundError, shutil.Error, OSError):
                if fs.exists(path):
                    raise
                continue
            self.restored = {"step": step, "path": path}
            state_file = os.path.join(local, STATE_FILE)
            if os.path.exists(state_file):
                with open(state_file, "rb") as f:
                    return pickle.load(f)  # noqa: S301 - the trial's own checkpoint
            return local
        return None

    def cleanup(self) -> None:
        """Remove the local copies :meth:`restore` made (the trial ended)."""
        for local in self._local:
            shutil.rmtree(local, ignore_errors=True)
        self._local.clear()
