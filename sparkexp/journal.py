"""The journal's events as typed records, and the one fold that turns them into trials.

``journal.jsonl`` holds one JSON object a line, its kind under ``"e"`` (docs/records.md). The
driver builds these classes and the recorder writes :meth:`to_json` of each; readers parse
lines with :func:`parse` and fold them with :class:`Fold`, the only reader of the journal's
meaning: :func:`sparkexp.result.load`, ``sparkexp status`` and ``resume`` all use it (resume
subclasses it to replay the search's asks and tells in the recorded order).

Example:
    >>> events = [TrialProposed("trial_00000", 0, {"lr": 0.1}, "/x/trial_00000", 1.0),
    ...           TrialStarted("trial_00000", 2.0, host="h", slot=0),
    ...           TrialReported("trial_00000", {"step": 1, "loss": 0.5})]
    >>> [e.to_json()["e"] for e in events]
    ['trial', 'start', 'report']
    >>> trials = fold(parse(e.to_json()) for e in events)
    >>> t = trials["trial_00000"]
    >>> t.status, t.host, t.history
    ('running', 'h', [{'step': 1, 'loss': 0.5}])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sparkexp.status import FAILED, TrialStatus
from sparkexp.trial import Trial, feasible

__all__ = ["TrialProposed", "TrialStarted", "TrialReported", "TrialAttempt", "TrialFinished",
           "Resumed", "TrialCheckpointed", "TrialPaused", "TrialUnpaused", "JournalEvent", "parse",
           "Fold", "fold", "record_of"]


def record_of(trial: Trial) -> dict[str, Any]:
    """A trial's record for the journal: its reports are journalled as they arrive."""
    record = trial.to_dict()
    record.pop("history", None)
    return record


@dataclass(slots=True)
class TrialProposed:
    """``trial``: the search proposed a trial."""

    id: str
    index: int
    params: dict[str, Any]
    logdir: str | None
    t: float
    #: where a trial that starts from another trial's checkpoint comes from (PBT's lineage)
    origin: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"e": "trial", "id": self.id, "index": self.index, "params": self.params,
                "logdir": self.logdir, "t": self.t}
        if self.origin is not None:
            data["origin"] = self.origin
        return data


@dataclass(slots=True)
class TrialStarted:
    """``start``: the trial was handed to a slot's task (``task``: Spark's task attempt id)."""

    id: str
    t: float
    host: str | None = None
    executor: str | None = None
    slot: int | None = None
    task: int | None = None
    attempt: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"e": "start", "id": self.id, "t": self.t, "host": self.host,
                "executor": self.executor, "slot": self.slot, "task": self.task,
                "attempt": self.attempt}


@dataclass(slots=True)
class TrialReported:
    """``report``: the trial called ``reporter.log``."""

    id: str
    r: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"e": "report", "id": self.id, "r": self.r}


@dataclass(slots=True)
class TrialAttempt:
    """``attempt``: a finished attempt archived because the trial runs again (retry)."""

    id: str
    trial: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"e": "attempt", "id": self.id, "trial": self.trial}


@dataclass(slots=True)
class TrialFinished:
    """``result``: the trial reached a final state; ``failed``: it counts toward
    ``max_failures`` (None in journals written before it was recorded). ``trial`` is the full
    record: its ``outputs`` (every objective's value) and ``constraints`` (each ``<= 0`` when
    satisfied), which the fold keeps, so readers see :attr:`Trial.feasible`."""

    id: str
    trial: dict[str, Any]
    failed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"e": "result", "id": self.id, "trial": self.trial}
        if self.failed is not None:
            data["failed"] = self.failed
        return data

    @property
    def feasible(self) -> bool | None:
        """The trial's feasibility, from the ``constraints`` values its record carries (False
        when one is violated, None without constraints); objective values are its ``outputs``."""
        return feasible(self.trial.get("constraints"))

    @property
    def counts_as_failure(self) -> bool:
        """``failed``, or for older journals: the status is a failure."""
        if self.failed is not None:
            return self.failed
        return self.trial.get("status") in FAILED


@dataclass(slots=True)
class Resumed:
    """``resume``: the experiment was resumed; ``rerun`` run again from the start, ``retry``
    re-run on request (``sparkexp retry``)."""

    t: float
    rerun: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"e": "resume", "t": self.t, "rerun": self.rerun, "retry": self.retry}


@dataclass(slots=True)
class TrialCheckpointed:
    """``checkpoint``: the trial wrote a checkpoint (``c``: ``{"step", "path", "time"}``)."""

    id: str
    c: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"e": "checkpoint", "id": self.id, "c": self.c}


@dataclass(slots=True)
class TrialPaused:
    """``pause``: the trial was paused (``sparkexp pause``); ``trial`` its record."""

    id: str
    t: float
    trial: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"e": "pause", "id": self.id, "t": self.t, "trial": self.trial}


@dataclass(slots=True)
class TrialUnpaused:
    """``unpause``: a paused trial was queued again (it continues from its checkpoint)."""

    id: str
    t: float

    def to_json(self) -> dict[str, Any]:
        return {"e": "unpause", "id": self.id, "t": self.t}


JournalEvent = (TrialProposed | TrialStarted | TrialReported | TrialAttempt | TrialFinished | Resumed
                | TrialCheckpointed | TrialPaused | TrialUnpaused)


def parse(data: Mapping[str, Any]) -> JournalEvent | None:
    """The typed event of one journal line, or None for a line it cannot read (unknown kind,
    a missing field): a reader skips those as it skips a torn last line."""
    kind = data.get("e")
    try:
        if kind == "resume":
            return Resumed(data.get("t", 0.0), list(data.get("rerun") or []), list(data.get("retry") or []))
        tid = data["id"]
        if not isinstance(tid, str):
            return None
        if kind == "trial":
            origin = data.get("origin")
            return TrialProposed(tid, int(data["index"]), dict(data.get("params") or {}),
                                 data.get("logdir"), data.get("t", 0.0),
                                 origin if isinstance(origin, dict) else None)
        if kind == "start":
            return TrialStarted(tid, data.get("t", 0.0), data.get("host"), data.get("executor"),
                                data.get("slot"), data.get("task"), int(data.get("attempt", 1)))
        if kind == "report" and isinstance(data.get("r"), dict):
            return TrialReported(tid, data["r"])
        if kind == "attempt" and isinstance(data.get("trial"), dict):
            return TrialAttempt(tid, data["trial"])
        if kind == "result" and isinstance(data.get("trial"), dict):
            return TrialFinished(tid, data["trial"], data.get("failed"))
        if kind == "checkpoint" and isinstance(data.get("c"), dict):
            return TrialCheckpointed(tid, data["c"])
        if kind == "pause" and isinstance(data.get("trial"), dict):
            return TrialPaused(tid, data.get("t", 0.0), data["trial"])
        if kind == "unpause":
            return TrialUnpaused(tid, data.get("t", 0.0))
    except (KeyError, TypeError, ValueError):
        return None
    return None


class Fold:
    """Folds events, in journal order, into the latest state of every trial (:attr:`trials`).

    Subclasses extend the ``on_*`` methods (calling ``super()``) to do more per event; resume
    does, to replay the search.
    """

    def __init__(self, trials: dict[str, Trial] | None = None) -> None:
        #: ``trials`` continues an earlier fold (a reader tailing the journal folds only new lines)
        self.trials: dict[str, Trial] = {} if trials is None else trials

    def apply(self, event: JournalEvent | None) -> None:
        """Fold one event (None, an unreadable line, is skipped)."""
        if isinstance(event, TrialProposed):
            self.on_proposed(event)
        elif isinstance(event, TrialReported):
            if event.id in self.trials:
                self.on_reported(event)
        elif isinstance(event, TrialStarted):
            if event.id in self.trials:
                self.on_started(event)
        elif isinstance(event, TrialAttempt):
            if event.id in self.trials:
                self.on_attempt(event)
        elif isinstance(event, TrialFinished):
            self.on_finished(event)
        elif isinstance(event, Resumed):
            self.on_resumed(event)
        elif isinstance(event, TrialCheckpointed):
            if event.id in self.trials:
                self.on_checkpointed(event)
        elif isinstance(event, TrialPaused):
            if event.id in self.trials:
                self.on_paused(event)
        elif isinstance(event, TrialUnpaused):
            if event.id in self.trials:
                self.on_unpaused(event)

    def on_proposed(self, event: TrialProposed) -> None:
        self.trials[event.id] = Trial(id=event.id, index=event.index, params=event.params,
                                      status=TrialStatus.QUEUED, logdir=event.logdir,
                                      origin=event.origin)

    def on_started(self, event: TrialStarted) -> None:
        t = self.trials[event.id]
        t.status = TrialStatus.RUNNING
        t.started = event.t
        t.host, t.executor, t.slot, t.spark_task = event.host, event.executor, event.slot, event.task
        if event.attempt > t.attempt and t.checkpoints:  # a re-run continues from its checkpoint
            t.history = t.history_until_checkpoint()
        t.attempt = event.attempt

    def on_reported(self, event: TrialReported) -> None:
        self.trials[event.id].history.append(event.r)

    def on_attempt(self, event: TrialAttempt) -> None:
        pass  # the archived attempt; the trial's next ``start`` carries its new number

    def on_finished(self, event: TrialFinished) -> None:
        previous = self.trials.get(event.id)
        trial = Trial.from_dict(event.trial)
        if previous is not None:
            if not trial.history:
                trial.history = previous.history
            if not trial.checkpoints:
                trial.checkpoints = previous.checkpoints
        self.trials[event.id] = trial

    def on_resumed(self, event: Resumed) -> None:
        for tid in event.rerun:
            if tid in self.trials:  # the re-run reports again from its latest checkpoint
                self.trials[tid].history = self.trials[tid].history_until_checkpoint()
                self.trials[tid].status = TrialStatus.QUEUED

    def on_checkpointed(self, event: TrialCheckpointed) -> None:
        t = self.trials[event.id]
        t.checkpoints = [c for c in t.checkpoints if c.get("step") != event.c.get("step")]
        t.checkpoints.append(event.c)

    def on_paused(self, event: TrialPaused) -> None:
        previous = self.trials[event.id]
        trial = Trial.from_dict(event.trial)
        trial.history = previous.history
        if not trial.checkpoints:
            trial.checkpoints = previous.checkpoints
        trial.status = TrialStatus.PAUSED
        self.trials[event.id] = trial

    def on_unpaused(self, event: TrialUnpaused) -> None:
        t = self.trials[event.id]
        t.status = TrialStatus.QUEUED
        t.history = t.history_until_checkpoint()


def fold(events: Iterable[JournalEvent | Mapping[str, Any] | None],
         trials: dict[str, Trial] | None = None) -> dict[str, Trial]:
    """The latest state of every trial, keyed by id, from typed events or journal lines.

    ``trials`` continues an earlier fold: it is updated in place and returned.
    """
    folder = Fold(trials)
    for event in events:
        folder.apply(parse(event) if isinstance(event, Mapping) else event)
    return folder.trials
