"""Resume: rebuild a scheduler's state from an interrupted run's journal.

The journal is folded by :class:`sparkexp.journal.Fold`, as every reader folds it; this
subclass also replays the search's asks and tells and the stopper's reports in their recorded
order, so the search ends in the state it had (grid position, DE population, TPE history,
random stream) and each proposal is checked against the one recorded. Trials that were
proposed but never finished are queued to run again; completed ones stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.journal import (
    Fold,
    Resumed,
    TrialAttempt,
    TrialFinished,
    TrialProposed,
    TrialReported,
    parse,
    record_of,
)
from sparkexp.runner.scheduler import Scheduler
from sparkexp.status import TrialStatus
from sparkexp.store import json_safe

__all__ = ["replay"]


class _Replay(Fold):
    """The journal's fold, also driving the scheduler's search, stopper and failure count."""

    def __init__(self, scheduler: Scheduler, where: str) -> None:
        super().__init__()
        self.scheduler = scheduler
        self.where = where
        self._told: set[str] = set()

    def on_proposed(self, event: TrialProposed) -> None:
        search = self.scheduler.search
        candidates = search.ask(1)
        expected = (event.index, json_safe(event.params))
        got = (candidates[0].key, json_safe(candidates[0].params)) if candidates else None
        if got != expected:
            raise ConfigError(
                f"cannot resume {self.where}: the rebuilt '{search.name}' search proposes {got} "
                f"where the journal recorded {event.id} {expected} "
                "(was the space, seed or strategy changed?)")
        super().on_proposed(event)
        trial = self.trials[event.id]
        trial.logdir = trial.logdir or self.scheduler.book.trial_dir(event.id)

    def on_reported(self, event: TrialReported) -> None:
        super().on_reported(event)
        book = self.scheduler.book
        loss = book.loss_of(event.r)
        step = event.r.get("step")
        if book.stopper is not None and loss is not None and isinstance(step, int):
            book.stopper.report(self.trials[event.id].index, step, loss)

    def on_attempt(self, event: TrialAttempt) -> None:
        super().on_attempt(event)
        self.scheduler.policy.retries[event.id] += 1
        self.trials[event.id].attempt += 1

    def on_finished(self, event: TrialFinished) -> None:
        if event.id not in self.trials:
            return
        super().on_finished(event)
        trial = self.trials[event.id]
        book = self.scheduler.book
        if event.id not in self._told:  # a retried trial's second result: told once, as live
            self._told.add(event.id)
            loss = book.tell(trial)
        else:
            loss = book.search_loss(trial)
        book.complete_stopper(trial, loss)
        if event.counts_as_failure:
            self.scheduler.policy.failures += 1


def replay(scheduler: Scheduler, manifest: Mapping[str, Any], events: Iterable[Mapping[str, Any]],
           *, rerun: Iterable[str] = (), where: str = "the experiment") -> None:
    """Bring a fresh ``scheduler`` to where the recorded run stopped.

    ``rerun`` names finished trials to run again (``sparkexp retry``): their finished attempt
    is archived in the journal. The resume is journalled; the scheduler's next
    :meth:`~Scheduler.take` hands those events to the driver.

    Raises:
        ConfigError: the rebuilt search proposes something else than the journal recorded.
    """
    book = scheduler.book
    if book.metric_name is None and manifest.get("metric"):
        book.metric_name = str(manifest["metric"])
    folder = _Replay(scheduler, where)
    for event in events:
        folder.apply(parse(event))
    book.trials.update(folder.trials)
    retry = sorted(set(rerun))
    for tid in retry:
        trial = book.trials.get(tid)
        if trial is None or not trial.done:
            continue
        # a retry: archive the finished attempt beside the new one, then run it again
        book.journal.append(TrialAttempt(tid, record_of(trial)))
        book.told.add(tid)
        trial.status = TrialStatus.CREATED
    unfinished = sorted((t for t in book.trials.values() if not t.done), key=lambda t: t.index)
    for trial in unfinished:
        # it was running, queued or paused when the driver died: run it again, from its
        # latest checkpoint if it wrote one (its reports up to there stay)
        trial.status = TrialStatus.QUEUED
        trial.attempt += 1
        trial.history = trial.history_until_checkpoint()
        scheduler.pending.append(trial)
    book.journal.append(Resumed(book.wall(), [t.id for t in unfinished], retry))
