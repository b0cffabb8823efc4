"""The book of trials: what is known about each trial, and what the search and stopper learn.

Pure Python, owned by :class:`~sparkexp.runner.scheduler.Scheduler`, which decides *where* and
*when* trials run; the book keeps *what* happened to them: it asks the search for new trials,
records starts, reports and results, evaluates the experiment's constraints on a completed
trial's outputs, tells the search (constraints first, then the loss, or one loss per objective
with several) and the early-stopping rule, and keeps the journal events and changed records
until the scheduler hands them to the driver.

Example:
    >>> from sparkexp.options import RunOptions
    >>> from sparkexp.runner.policy import FailurePolicy
    >>> from sparkexp.search import GridSearch
    >>> options = RunOptions(direction="min")
    >>> book = TrialBook(GridSearch({"x": [3, 1]}), options=options, policy=FailurePolicy(options),
    ...                  trial_dir=lambda tid: tid, wall=lambda: 0.0)
    >>> trial = book.propose()
    >>> trial.id, [e.to_json()["e"] for e in book.journal]
    ('trial_00000', ['trial'])
    >>> book.loss_of({"step": 1, "loss": 0.25}), book.metric_name
    (0.25, 'loss')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sparkexp.errors import TrialError
from sparkexp.journal import (
    JournalEvent,
    TrialAttempt,
    TrialCheckpointed,
    TrialFinished,
    TrialPaused,
    TrialProposed,
    TrialReported,
    TrialStarted,
    TrialUnpaused,
    record_of,
)
from sparkexp.objectives import Constraints, Objectives
from sparkexp.options import RunOptions
from sparkexp.outputs import interpret
from sparkexp.runner.checkpoints import lineage
from sparkexp.runner.policy import FailurePolicy
from sparkexp.search import Search
from sparkexp.search.stopping import Stopper
from sparkexp.status import StopCause, TrialStatus, loss_sign
from sparkexp.trial import Trial, trial_id

__all__ = ["TrialBook"]


class TrialBook:
    """Every trial of one experiment and the learning side of its life (module docstring)."""

    def __init__(self, search: Search, *, options: RunOptions, policy: FailurePolicy,
                 trial_dir: Callable[[str], str], wall: Callable[[], float],
                 stopper: Stopper | None = None) -> None:
        self.search = search
        self.options = options
        self.policy = policy
        self.stopper = stopper
        self.trial_dir = trial_dir
        self.wall = wall
        self.sign = loss_sign(options.main_direction)
        self.metric_name = options.main_metric
        # built once from the options (the user's constraints function runs for every trial)
        self.objectives: Objectives | None = options.objectives
        self.constraints: Constraints | None = options.constraint_rule
        self.trials: dict[str, Trial] = {}
        #: re-run trials the search was already told about (retries): not told again
        self.told: set[str] = set()
        #: journal events and changed records not yet handed to the driver
        self.journal: list[JournalEvent] = []
        self.records: list[Trial] = []

    def propose(self) -> Trial | None:
        """A new trial from the search, or None when it proposes nothing now."""
        candidates = self.search.ask(1)
        if not candidates:
            return None
        cand = candidates[0]
        tid = trial_id(cand.key)
        trial = Trial(id=tid, index=cand.key, params=dict(cand.params), status=TrialStatus.QUEUED,
                      logdir=self.trial_dir(tid))
        if cand.parent is not None:  # starts from another trial's checkpoint (PBT's exploit)
            trial.origin = lineage(self.trials.get(trial_id(cand.parent)), trial.params)
        self.trials[tid] = trial
        self.journal.append(TrialProposed(tid, cand.key, trial.params, trial.logdir, self.wall(),
                                          trial.origin))
        return trial

    def start(self, trial: Trial, hello: dict[str, Any]) -> None:
        """``trial`` was handed to the slot that said ``hello``."""
        trial.status = TrialStatus.RUNNING
        trial.host, trial.executor = hello.get("host"), hello.get("executor")
        trial.slot, trial.spark_task = hello.get("slot"), hello.get("task")
        self.journal.append(TrialStarted(trial.id, self.wall(), trial.host, trial.executor,
                                         trial.slot, trial.spark_task, trial.attempt))

    def loss_of(self, values: dict[str, Any]) -> float | None:
        """The loss (to minimise) in a report or outputs, or None when there is no metric."""
        metrics = {k: v for k, v in values.items() if k not in ("step", "_time")}
        try:
            _outputs, metric, name = interpret(metrics, self.options.main_metric or self.metric_name)
        except TrialError:
            return None
        if self.metric_name is None:
            self.metric_name = name
        return self.sign * metric

    def report(self, trial: Trial, report: dict[str, Any]) -> bool:
        """Record a report; True when the early-stopping rule says: stop this trial now."""
        trial.history.append(report)
        self.journal.append(TrialReported(trial.id, report))
        if self.stopper is None:
            return False
        loss = self.loss_of(report)
        step = report.get("step")
        return loss is not None and isinstance(step, int) and self.stopper.report(trial.index, step, loss)

    def result(self, trial: Trial, result: dict[str, Any], cause: StopCause | None) -> None:
        """Copy a worker's result into ``trial``; a trial the driver stopped gets its cause's status."""
        trial.status = str(result.get("status", TrialStatus.ERROR))
        if cause is not None and trial.status in (TrialStatus.STOPPED, TrialStatus.TIMEOUT):
            trial.status = cause.status
        trial.error = result.get("error")
        trial.outputs = result.get("outputs") or {}
        trial.metric = result.get("metric")
        trial.started = result.get("started")
        trial.finished = result.get("finished")
        trial.host = result.get("host", trial.host)
        trial.executor = result.get("executor", trial.executor)
        trial.gpus = list(result.get("gpus") or [])
        trial.pid = result.get("pid")
        trial.restored = result.get("restored")
        if self.constraints is not None and trial.status == TrialStatus.COMPLETE:
            try:
                trial.constraints = self.constraints.evaluate(trial.outputs)
            except Exception as exc:  # noqa: BLE001 - the user's function: the trial's error
                trial.status, trial.metric = TrialStatus.ERROR, None
                trial.error = f"constraints: {type(exc).__name__}: {exc}"
        if self.metric_name is None and result.get("metric_name"):
            self.metric_name = str(result["metric_name"])

    def requeue(self, trial: Trial, *, archive: bool) -> None:
        """``trial`` runs again from the start (``archive``: journal the finished attempt)."""
        if archive:
            self.journal.append(TrialAttempt(trial.id, record_of(trial)))
        trial.attempt += 1
        trial.status = TrialStatus.QUEUED
        if trial.checkpoints:  # it continues from its latest checkpoint: reports after it come again
            trial.history = trial.history_until_checkpoint()

    def checkpointed(self, event: TrialCheckpointed) -> None:
        """Journal a checkpoint a trial wrote (its record already lists it)."""
        self.journal.append(event)

    def pause(self, trial: Trial) -> None:
        """Record ``trial`` as paused (``sparkexp pause``): not finished, not told to the search."""
        trial.status = TrialStatus.PAUSED
        trial.error = None
        self.journal.append(TrialPaused(trial.id, self.wall(), record_of(trial)))
        self.records.append(trial)

    def unpause(self, trial: Trial) -> None:
        """Queue a paused trial again: it continues from its latest checkpoint."""
        trial.status = TrialStatus.QUEUED
        trial.attempt += 1
        trial.history = trial.history_until_checkpoint()
        self.journal.append(TrialUnpaused(trial.id, self.wall()))

    def stopped_without_result(self, trial: Trial, reason: str, cause: StopCause) -> None:
        """A trial being stopped lost its task: stopped, with its last reported metric."""
        trial.status = cause.status
        trial.finished = self.wall()
        trial.error = f"stopped: {reason} (its task was killed)"
        trial.metric = None
        for report in reversed(trial.history):
            loss = self.loss_of(report)
            if loss is not None:
                trial.metric = self.sign * loss
                break

    def search_loss(self, trial: Trial) -> float | list[float] | None:
        """What the search is told: the loss to minimise (one per objective with several)."""
        if trial.metric is None:
            return None
        if self.objectives is not None:
            return self.objectives.losses(trial.outputs) if trial.status == TrialStatus.COMPLETE else None
        return self.sign * float(trial.metric)

    def tell(self, trial: Trial) -> float | list[float] | None:
        """Tell the search how ``trial`` ended (its constraints first); return the loss told."""
        loss = self.search_loss(trial)
        if trial.constraints is not None:
            self.search.tell_constraints(trial.index, trial.constraints)
        if self.objectives is not None:
            self.search.tell_objectives(trial.index, loss if isinstance(loss, list) else None, trial.status)
        else:
            self.search.tell(trial.index, None if isinstance(loss, list) else loss, trial.status)
        return loss

    def complete_stopper(self, trial: Trial, loss: float | list[float] | None) -> None:
        """Tell the early-stopping rule (one objective only: it is refused with several)."""
        if self.stopper is not None and not isinstance(loss, list):
            self.stopper.complete(trial.index, loss, trial.status)

    def finish(self, trial: Trial, cause: StopCause | None) -> bool:
        """Record a finished trial: tell the search and the stopper, journal it; True when it
        counts as a failure (see :meth:`FailurePolicy.count_failure`)."""
        loss = self.tell(trial) if trial.id not in self.told else self.search_loss(trial)
        self.complete_stopper(trial, loss)
        failed = self.policy.count_failure(trial.status, cause)
        self.journal.append(TrialFinished(trial.id, record_of(trial), failed))
        self.records.append(trial)
        return failed

    def abandon(self, trial: Trial, reason: str) -> None:
        """Record ``trial`` as stopped without a result (the driver is ending)."""
        trial.status = TrialStatus.STOPPED
        trial.finished = self.wall()
        trial.error = f"stopped: {reason}"
        self.journal.append(TrialFinished(trial.id, record_of(trial), False))
        self.records.append(trial)

    def reached_target(self, trial: Trial) -> bool:
        """Whether ``trial``'s metric is at least as good as ``target`` (an infeasible trial,
        never the best, never reaches it)."""
        target = self.options.target
        return (target is not None and trial.metric is not None and trial.feasible is not False
                and self.sign * (trial.metric - target) <= 0)
