"""One vocabulary: the statuses of a trial and the states of an experiment, and what follows.

Both are ``str``-valued enums: a member *is* its string (``TrialStatus.COMPLETE == "complete"``,
same hash, prints as ``complete``), so records keep their format and code reading old records
or plain strings compares them directly. The finished set, the failed set and the best trial
are defined here and nowhere else.

Example:
    >>> TrialStatus.COMPLETE == "complete", f"{TrialStatus.TIMEOUT}"
    (True, 'timeout')
    >>> "stopped" in FINISHED, "timeout" in FAILED, "stopped" in FAILED
    (True, True, False)
    >>> from sparkexp.trial import Trial
    >>> trials = [Trial("trial_00000", 0, {}, status="complete", metric=0.5),
    ...           Trial("trial_00001", 1, {}, status="complete", metric=0.7),
    ...           Trial("trial_00002", 2, {}, status="error")]
    >>> best_trial(trials, "max").id, best_trial(trials, "min").id
    ('trial_00001', 'trial_00000')
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sparkexp.trial import Trial

__all__ = ["TrialStatus", "ExperimentState", "StopCause", "FINISHED", "FAILED", "best_trial", "completed",
           "loss_sign"]


class _StrEnum(str, Enum):
    """A str-valued enum whose members behave as their string everywhere (print, repr, hash, JSON)."""

    __str__ = str.__str__
    # a trial's repr shows ``status='complete'`` whether it was loaded or set by the runner
    __repr__ = str.__repr__

    def __format__(self, format_spec: str) -> str:
        return str.__format__(str(self), format_spec)

    def __hash__(self) -> int:
        # Enum hashes the member's *name*; a member must hash like the string it equals, or
        # ``"complete" in {TrialStatus.COMPLETE}`` would be False
        return str.__hash__(self)


class TrialStatus(_StrEnum):
    """Where a trial is in its life; the last four are final (:data:`FINISHED`)."""

    CREATED = "created"
    QUEUED = "queued"
    RUNNING = "running"
    #: stopped by ``sparkexp pause``; continues from its checkpoint when resumed (not final)
    PAUSED = "paused"
    COMPLETE = "complete"
    ERROR = "error"
    STOPPED = "stopped"
    TIMEOUT = "timeout"


class ExperimentState(_StrEnum):
    """The manifest's ``state``: ``running`` while the driver runs it, then how it ended."""

    RUNNING = "running"
    FINISHED = "finished"
    #: the experiment's ``timeout`` ended it while the search had more to propose (resumable)
    TIMEOUT = "timeout"
    ABORTED = "aborted"
    KILLED = "killed"
    INTERRUPTED = "interrupted"
    #: nothing was left to run but paused trials (resumable: they continue from checkpoints)
    PAUSED = "paused"


#: Statuses after which a trial never runs again in this experiment.
FINISHED: frozenset[TrialStatus] = frozenset(
    {TrialStatus.COMPLETE, TrialStatus.ERROR, TrialStatus.STOPPED, TrialStatus.TIMEOUT})
#: Statuses of trials that failed (``Result.failed``, ``sparkexp retry``).
FAILED: frozenset[TrialStatus] = frozenset({TrialStatus.ERROR, TrialStatus.TIMEOUT})


def loss_sign(direction: str) -> float:
    """``-1.0`` for ``"max"`` (losses are minimised), ``1.0`` for ``"min"``.

    >>> loss_sign("max") * 0.9
    -0.9
    """
    return -1.0 if direction == "max" else 1.0


def completed(trials: Iterable[Trial]) -> list[Trial]:
    """Trials that completed with a metric."""
    return [t for t in trials if t.status == TrialStatus.COMPLETE and t.metric is not None]


def best_trial(trials: Iterable[Trial], direction: str) -> Trial | None:
    """The feasible completed trial with the best metric (the first proposed on ties), or None.

    Infeasibility is not a status: a trial violating ``constraints`` completed (its status is
    ``complete``) and has ``feasible`` False; it is never the best.
    """
    done = [t for t in completed(trials) if t.feasible is not False]
    if not done:
        return None
    sign = loss_sign(direction)
    return min(done, key=lambda t: (sign * float(t.metric), t.index))  # type: ignore[arg-type]


class StopCause(_StrEnum):
    """Why the driver stopped a running trial; decides its status and whether it failed."""

    EARLY_STOPPING = "early stopping"
    TRIAL_TIMEOUT = "trial timeout"
    EXPERIMENT_TIMEOUT = "experiment timeout"
    #: ``max_failures`` (or ``fail_fast``) ended the experiment
    ABORT = "abort"
    #: ``sparkexp kill`` / ``control.kill``
    KILL = "kill"
    #: Ctrl-C, SIGTERM, or an error in the driver
    INTERRUPT = "interrupt"
    #: ``sparkexp pause`` / ``control.pause``: recorded ``paused``, continues when resumed
    PAUSE = "pause"

    @property
    def status(self) -> TrialStatus:
        """The status a trial stopped for this cause is recorded with.

        >>> StopCause.EXPERIMENT_TIMEOUT.status, StopCause.KILL.status
        ('timeout', 'stopped')
        """
        timed_out = self in (StopCause.TRIAL_TIMEOUT, StopCause.EXPERIMENT_TIMEOUT)
        return TrialStatus.TIMEOUT if timed_out else TrialStatus.STOPPED

    @property
    def is_failure(self) -> bool:
        """Only a trial over its own ``trial_timeout`` failed; the others were stopped by the
        experiment (its timeout, an abort, a kill, an interrupt) or by early stopping, and do
        not count toward ``max_failures``."""
        return self is StopCause.TRIAL_TIMEOUT
