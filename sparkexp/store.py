"""Experiment and trial records under the project root.

Layout (see ``docs/records.md``)::

    <root>/Experiments/<name>_<run>/
        experiment.json      manifest: name, strategy, space, settings, seed, app id, state, times
        journal.jsonl        append-only events, one JSON object a line (the source of truth)
        results.parquet      one row per trial, written when the experiment ends
        trial_00000/
            trial.json       the trial's final record (params, metric, outputs, status, ...)
            stdout.log       what the function printed
            stderr.log
            events.out.tfevents.*   TensorBoard files (the directory is the trial's logdir)

Every record has one writer: the driver writes ``experiment.json``, ``journal.jsonl``,
``trial.json`` and ``results.parquet``; the executor running a trial writes only its logs and
TensorBoard files. Whole-file records are replaced atomically; the journal is appended and
fsynced, and a reader skips an incomplete last line, so a crash never corrupts what was recorded.

Example:
    >>> import tempfile
    >>> store = ExperimentStore.create(tempfile.mkdtemp(), "demo")
    >>> store.path.endswith("Experiments/demo_1")
    True
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs import FileSystem, filesystem_for
from sparkexp.journal import fold
from sparkexp.trial import Trial

__all__ = [
    "ExperimentStore",
    "sanitize_name",
    "json_safe",
    "EXPERIMENTS_DIR",
    "MANIFEST",
    "CONTROL",
    "JOURNAL",
    "TRIAL_RECORD",
    "RESULTS_PARQUET",
]

EXPERIMENTS_DIR = "Experiments"
MANIFEST = "experiment.json"
CONTROL = "control.json"
JOURNAL = "journal.jsonl"
TRIAL_RECORD = "trial.json"
RESULTS_PARQUET = "results.parquet"

_NAME_OK = re.compile(r"[^A-Za-z0-9._-]+")


def sanitize_name(name: str) -> str:
    """A safe directory name: letters, digits, ``._-``; other runs of characters become ``-``.

    >>> sanitize_name("../my exp/1")
    'my-exp-1'
    """
    cleaned = _NAME_OK.sub("-", str(name)).strip(".-")
    if not cleaned:
        raise ConfigError(f"experiment name {name!r} has no usable characters (use letters, digits, ._-)")
    return cleaned[:120]


def json_safe(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats into JSON-compatible values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return json_safe(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return json_safe(item())
    return repr(value)


def _dumps(obj: Any) -> str:
    return json.dumps(json_safe(obj), sort_keys=False, separators=(",", ":"))


class ExperimentStore:
    """Reads and writes one experiment directory through a :class:`~sparkexp.fs.FileSystem`."""

    def __init__(self, path: str, fs: FileSystem | None = None) -> None:
        self.path = path.rstrip("/")
        self.fs = fs or filesystem_for(path)
        self._tail_checked = False

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def create(cls, root: str, name: str) -> ExperimentStore:
        """Create ``<root>/Experiments/<name>_<run>/`` with the next free run number.

        Concurrent creators never share a directory: each run number is claimed with an
        exclusive mkdir.
        """
        fs = filesystem_for(root)
        safe = sanitize_name(name)
        base = fs.join(root.rstrip("/"), EXPERIMENTS_DIR)
        try:
            fs.mkdirs(base)
            existing = fs.ls(base)
        except OSError as exc:
            raise StorageError(f"cannot create experiments directory {base!r}: {exc}") from exc
        runs = [0]
        for entry in existing:
            head, _, suffix = entry.rpartition("_")
            if head == safe and suffix.isdigit():
                runs.append(int(suffix))
        number = max(runs) + 1
        while True:
            path = fs.join(base, f"{safe}_{number}")
            if fs.mkdir_exclusive(path):
                return cls(path, fs)
            number += 1

    @staticmethod
    def experiments(root: str) -> list[str]:
        """Paths of all experiments under ``root`` (oldest run first within a name)."""
        fs = filesystem_for(root)
        base = fs.join(root.rstrip("/"), EXPERIMENTS_DIR)
        if not fs.exists(base):
            return []

        def order(entry: str) -> tuple[str, int]:
            head, _, run = entry.rpartition("_")
            return (head, int(run) if run.isdigit() else 0)

        return [
            fs.join(base, e)
            for e in sorted(fs.ls(base), key=order)
            if fs.exists(fs.join(base, e, MANIFEST))
        ]

    # -- paths ------------------------------------------------------------------------------
    def trial_dir(self, trial_id: str) -> str:
        """The directory of a trial (its logdir)."""
        return self.fs.join(self.path, trial_id)

    # -- manifest ---------------------------------------------------------------------------
    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Atomically replace ``experiment.json``."""
        self.fs.write_text(self.fs.join(self.path, MANIFEST), json.dumps(json_safe(manifest), indent=2))

    def read_manifest(self) -> dict[str, Any]:
        """The experiment manifest."""
        path = self.fs.join(self.path, MANIFEST)
        try:
            data: dict[str, Any] = json.loads(self.fs.read_text(path))
        except FileNotFoundError as exc:
            raise StorageError(f"{self.path!r} is not a sparkexp experiment (no {MANIFEST})") from exc
        return data

    # -- control endpoint of the running driver -------------------------------------------------
    def write_control(self, endpoint: dict[str, Any]) -> None:
        """Publish the driver's control endpoint and token (readable by the owner only where
        the filesystem has permissions: 0600 on local disks)."""
        from sparkexp.fs import LocalFileSystem, local_path

        path = self.fs.join(self.path, CONTROL)
        data = json.dumps(endpoint).encode("utf-8")
        if isinstance(self.fs, LocalFileSystem):
            import os

            target = local_path(path)
            tmp = f"{target}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        else:
            self.fs.write_bytes(path, data)

    def read_control(self) -> dict[str, Any] | None:
        """The running driver's control endpoint, or None when no driver runs it."""
        path = self.fs.join(self.path, CONTROL)
        try:
            data: dict[str, Any] = json.loads(self.fs.read_text(path))
        except (FileNotFoundError, ValueError):
            return None
        return data

    def remove_control(self) -> None:
        """Withdraw the control endpoint (the driver is ending)."""
        path = self.fs.join(self.path, CONTROL)
        try:
            self.fs.delete(path)
        except FileNotFoundError:
            pass

    # -- journal ----------------------------------------------------------------------------
    def append_events(self, events: Iterable[dict[str, Any]], *, sync: bool = True) -> None:
        """Append events to the journal in one write (group commit)."""
        lines = "".join(_dumps(e) + "\n" for e in events)
        if not lines:
            return
        path = self.fs.join(self.path, JOURNAL)
        if not self._tail_checked:
            # a crash mid-append can leave a torn last line: end it, so our first event is whole
            self._tail_checked = True
            if self.fs.exists(path):
                data = self.fs.read_bytes(path)
                if data and not data.endswith(b"\n"):
                    lines = "\n" + lines
        self.fs.append(path, lines.encode("utf-8"), sync=sync)

    def read_events(self) -> Iterator[dict[str, Any]]:
        """Journal events in order; an incomplete or corrupt trailing line is skipped."""
        path = self.fs.join(self.path, JOURNAL)
        if not self.fs.exists(path):
            return
        data = self.fs.read_bytes(path)
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash mid-append
            if isinstance(event, dict):
                yield event

    # -- trials -----------------------------------------------------------------------------
    def write_trial(self, trial: Trial | dict[str, Any]) -> None:
        """Atomically replace the trial's ``trial.json`` (from a trial or its ``to_dict()``)."""
        record = trial.to_dict() if isinstance(trial, Trial) else trial
        directory = self.trial_dir(str(record["id"]))
        self.fs.mkdirs(directory)
        self.fs.write_text(self.fs.join(directory, TRIAL_RECORD), json.dumps(json_safe(record), indent=1))

    def load_trials(self) -> list[Trial]:
        """Every trial as the journal last recorded it, in index order."""
        return sorted(replay_trials(self.read_events()).values(), key=lambda t: t.index)

    def write_parquet(self, trials: list[Trial]) -> None:
        """Write ``results.parquet`` (one row per trial, params and outputs as columns)."""
        import io

        import pyarrow.parquet as pq

        from sparkexp.result import trials_to_arrow  # result imports store: import at use

        buf = io.BytesIO()
        pq.write_table(trials_to_arrow(trials), buf)
        self.fs.write_bytes(self.fs.join(self.path, RESULTS_PARQUET), buf.getvalue())


def replay_trials(events: Iterable[dict[str, Any]],
                  trials: dict[str, Trial] | None = None) -> dict[str, Trial]:
    """Fold journal events into the latest state of every trial, keyed by id
    (:func:`sparkexp.journal.fold`, the one fold of the journal); ``trials`` continues an
    earlier fold, so a reader that tails the journal folds only the new events."""
    return fold(events, trials)


def now() -> float:
    """Wall-clock epoch seconds (one place, so records agree)."""
    return time.time()
