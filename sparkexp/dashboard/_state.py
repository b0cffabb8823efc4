"""What the dashboard knows about a project root, refreshed at most a few times a second.

:class:`Project` lists ``<root>/Experiments/`` (every two seconds at most) and keeps one
:class:`ExperimentState` per experiment: its manifest and a :class:`~sparkexp.dashboard._journal.JournalTail`
that folds only what the journal gained. Requests read these objects; a refresh that is due
happens inside the request, under the experiment's lock, so two browsers polling at once read
the journal once.

Example:
    >>> import tempfile
    >>> project = Project(tempfile.mkdtemp())
    >>> project.experiments()
    []
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from typing import Any

from sparkexp.dashboard._journal import JournalTail
from sparkexp.errors import StorageError
from sparkexp.fs import filesystem_for
from sparkexp.report._data import (
    experiment_info,
    param_specs,
    scalar_outputs,
    status_counts,
    trial_row,
)
from sparkexp.result import Result
from sparkexp.store import CONTROL, EXPERIMENTS_DIR, MANIFEST, ExperimentStore, json_safe
from sparkexp.trial import FINISHED_STATUSES, Trial

__all__ = ["Project", "ExperimentState", "EXPERIMENT_ID", "TRIAL_ID", "trial_record"]

#: An experiment directory name as :func:`sparkexp.store.sanitize_name` makes them, plus ``_<run>``.
EXPERIMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}")
#: A trial id as :func:`sparkexp.trial.trial_id` makes them.
TRIAL_ID = re.compile(r"trial_[0-9]{5,9}")

_LIST_EVERY = 2.0  # seconds between listings of the Experiments directory
_REFRESH_EVERY = 0.4  # seconds between reads of a running experiment's journal and manifest
_REFRESH_ENDED = 3.0  # the same for one that ended (a resume or retry can start it again)
_RELIST_UNKNOWN = 0.5  # an unknown id lists the directory again at most this often


class ExperimentState:
    """One experiment as the dashboard sees it: manifest, trials, and derived views (cached
    until the journal changes)."""

    def __init__(self, exp_id: str, path: str) -> None:
        self.id = exp_id
        self.store = ExperimentStore(path)
        self.tail = JournalTail(self.store)
        self.manifest: dict[str, Any] = {}
        self.live = False
        self.lock = threading.RLock()
        self._checked = 0.0
        self._cache: dict[str, Any] = {}
        self._cache_key: tuple[int, int] = (-1, -1)
        self._manifest_version = 0
        # each trial's chart row as JSON text, with the poll it was made at and the spec it used
        self._rows: dict[str, tuple[int, str]] = {}
        self._rows_spec = ""
        self._records: dict[str, tuple[int, str]] = {}  # each trial's API record as JSON text

    @property
    def path(self) -> str:
        return self.store.path

    def refresh(self, *, force: bool = False) -> None:
        """Read the manifest and what the journal gained, unless done less than 0.4 s ago
        (3 s for an experiment that ended and has no driver)."""
        with self.lock:
            now = time.monotonic()
            ended = self.manifest.get("state", "running") != "running" and not self.live
            if not force and now - self._checked < (_REFRESH_ENDED if ended else _REFRESH_EVERY):
                return
            self._checked = now
            try:
                manifest = self.store.read_manifest()
            except (StorageError, OSError, ValueError):
                manifest = self.manifest  # mid-replace on a filesystem without atomic rename
            if manifest != self.manifest:
                self.manifest = manifest
                self._manifest_version += 1
            self.live = self.store.fs.exists(self.store.fs.join(self.path, CONTROL))
            self.tail.poll()

    def version(self) -> tuple[int, int, int]:
        """What a client has seen when it saw this: (journal polls that changed a trial,
        manifest changes, driver alive as 0/1). Changes exactly when a page has something new
        to show (the event streams send it)."""
        with self.lock:
            return self.tail.seq, self._manifest_version, int(self.live)

    # -- derived views, recomputed only when the journal or the manifest changed ------------
    def _derived(self) -> dict[str, Any]:
        key = (self.tail.seq, self._manifest_version)
        if key != self._cache_key:
            trials = sorted(self.tail.trials.values(), key=lambda t: t.index)
            result = self.result(trials)
            params = param_specs(trials)
            outputs = scalar_outputs(trials, result.metric)
            self._cache = {
                "trials": trials,
                "result": result,
                "best": result.best,
                "objectives": result.objectives,
                "pareto": result.pareto_front if result.objectives is not None else [],
                "counts": status_counts(trials),
                "params": params,
                "outputs": outputs,
                "spec": _spec_key(params, outputs),
            }
            self._cache_key = key
        return self._cache

    def result(self, trials: list[Trial] | None = None) -> Result:
        """The experiment as a :class:`~sparkexp.result.Result` (trials in index order)."""
        if trials is None:
            trials = sorted(self.tail.trials.values(), key=lambda t: t.index)
        return Result(path=self.path, trials=trials,
                      direction=str(self.manifest.get("direction", "max")),
                      metric=str(self.manifest.get("metric") or "metric"), manifest=self.manifest)

    def summary(self) -> dict[str, Any]:
        """The experiments page's row: state, progress, best, strategy, times."""
        with self.lock:
            return self._summary()

    def _summary(self) -> dict[str, Any]:
        d = self._derived()
        m = self.manifest
        counts: dict[str, int] = d["counts"]
        best: Trial | None = d["best"]
        created = _number(m.get("created"))
        finished = _number(m.get("finished"))
        total = len(d["trials"])
        done = sum(n for s, n in counts.items() if s in FINISHED_STATUSES)
        planned = _planned(m.get("search"))
        return {
            "id": self.id,
            "name": m.get("name"),
            "path": self.path,
            "state": m.get("state", "unknown"),
            "live": self.live,
            "strategy": m.get("strategy"),
            "function": m.get("function"),
            "metric": m.get("metric") or "metric",
            "direction": m.get("direction", "max"),
            "trials": total,
            "finished_trials": done,
            "failed": counts.get("error", 0) + counts.get("timeout", 0),
            "running": counts.get("running", 0),
            "counts": counts,
            "planned": planned,
            "progress": done / max(total, planned or 0) if max(total, planned or 0) else 0.0,
            "best": None if best is None else {"id": best.id, "metric": best.metric, "params": best.params},
            "created": created,
            "finished": finished,
            "duration": (finished if finished is not None else time.time()) - created
            if created is not None else None,
        }

    def trials(self, statuses: frozenset[str] | None = None, since: int = 0) -> list[Trial]:
        """Trials (changed after poll ``since``), optionally only those in ``statuses``."""
        with self.lock:
            chosen = self.tail.changed_since(since) if since > 0 else self._derived()["trials"]
        return [t for t in chosen if statuses is None or t.status in statuses]

    def trials_json(self, statuses: frozenset[str] | None = None, since: int = 0) -> tuple[int, list[str]]:
        """The poll cursor and the API records (as JSON text, kept until the trial changes) of
        the trials :meth:`trials` selects."""
        with self.lock:
            texts = []
            for t in self.trials(statuses, since):
                seq = self.tail.changed.get(t.id, 0)
                cached = self._records.get(t.id)
                if cached is None or cached[0] != seq:
                    cached = (seq, _dumps(trial_record(t)))
                    self._records[t.id] = cached
                texts.append(cached[1])
            return self.tail.seq, texts

    def view(self, since: int = 0, spec: str | None = None) -> str:
        """What the experiment page's charts draw (the HTML report's payload) as JSON text, a
        delta: rows changed after poll ``since`` when the client's ``spec`` (parameter kinds
        and output columns) is still current, else every row.

        Each row's JSON is kept until its trial changes, so a full view of 10,000 trials joins
        cached text instead of converting every trial again.
        """
        with self.lock:
            d = self._derived()
            if self._rows_spec != d["spec"]:
                self._rows, self._rows_spec = {}, d["spec"]
            full = since <= 0 or spec != d["spec"]
            changed = d["trials"] if full else self.tail.changed_since(since)
            best: Trial | None = d["best"]
            head = {
                "cursor": self.tail.seq,
                "full": full,
                "spec": d["spec"],
                "experiment": {**experiment_info(d["result"]), "id": self.id, "live": self.live},
                "settings": json_safe(self.manifest),
                "counts": d["counts"],
                "params": d["params"],
                "outputs": d["outputs"],
                "best_id": None if best is None else best.id,
                # several objectives: the front's trials (the report's Pareto section)
                "objectives": None if d["objectives"] is None else d["objectives"].settings(),
                "pareto_ids": [t.id for t in d["pareto"]],
            }
            texts = []
            for t in changed:
                seq = self.tail.changed.get(t.id, 0)
                cached = self._rows.get(t.id)
                if cached is None or cached[0] != seq:
                    cached = (seq, _dumps(trial_row(t, d["params"], d["outputs"])))
                    self._rows[t.id] = cached
                texts.append(cached[1])
            body = json.dumps(head, allow_nan=False, separators=(",", ":"), default=str)
            return body[:-1] + ',"trials":[' + ",".join(texts) + "]}"


def trial_record(t: Trial, *, history: bool = False) -> dict[str, Any]:
    """A trial as the API returns it: every field and ``duration``; without ``history`` (the
    metadata endpoint serves it) the number of ``reports`` instead."""
    data = t.to_dict()
    data["duration"] = t.duration
    if not history:
        data.pop("history", None)
        data["reports"] = len(t.history)
    return data


def _dumps(data: Any) -> str:
    """Strict, compact JSON (non-finite numbers as strings)."""
    try:
        return json.dumps(data, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        return json.dumps(json_safe(data), allow_nan=False, separators=(",", ":"))


def _spec_key(params: list[dict[str, Any]], outputs: list[str]) -> str:
    text = json.dumps([params, outputs], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _planned(search: Any) -> int | None:
    """How many trials the search's recorded settings plan, when they say (grid ``size``,
    random ``samples``, TPE ``trials``, evolution ``generations`` x ``population``, fixed
    ``points``); None for open-ended searches.

    >>> _planned({"size": 12}), _planned({"generations": 3, "population": 8}), _planned({})
    (12, 24, None)
    """
    if not isinstance(search, dict):
        return None
    for key in ("size", "samples", "trials"):
        value = search.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    generations, population = search.get("generations"), search.get("population")
    if isinstance(generations, int) and isinstance(population, int):
        return generations * population
    points = search.get("points")
    return len(points) if isinstance(points, list) else None


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Project:
    """The experiments under one project root, discovered as they appear."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/") or "/"
        self.fs = filesystem_for(self.root)
        self.base = self.fs.join(self.root, EXPERIMENTS_DIR)
        self._states: dict[str, ExperimentState] = {}
        self._listed = 0.0
        self._lock = threading.Lock()

    def _list(self, every: float = _LIST_EVERY) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._listed < every:
                return
            self._listed = now
            try:
                names = self.fs.ls(self.base) if self.fs.exists(self.base) else []
            except OSError:
                return
            for name in names:
                if name in self._states or not EXPERIMENT_ID.fullmatch(name):
                    continue
                path = self.fs.join(self.base, name)
                if self.fs.exists(self.fs.join(path, MANIFEST)):
                    self._states[name] = ExperimentState(name, path)

    def experiments(self) -> list[ExperimentState]:
        """Every experiment, refreshed, newest first."""
        self._list()
        states = list(self._states.values())
        for state in states:
            state.refresh()
        return sorted(states, key=lambda s: (-(_number(s.manifest.get("created")) or 0.0), s.id))

    def get(self, exp_id: str) -> ExperimentState | None:
        """The refreshed experiment called ``exp_id``, or None (also for ids that are not
        plain directory names, so no id reaches outside ``<root>/Experiments``)."""
        if not EXPERIMENT_ID.fullmatch(exp_id) or ".." in exp_id:
            return None
        state = self._states.get(exp_id)
        if state is None:
            self._list(_RELIST_UNKNOWN)  # it may have just been created
            state = self._states.get(exp_id)
        if state is not None:
            state.refresh()
        return state
