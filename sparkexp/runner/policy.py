"""The failure policy and the vocabulary of the scheduler's decisions.

Pure Python, owned by :class:`~sparkexp.runner.scheduler.Scheduler`:

* :class:`Phase`, the experiment's state while it runs (one enum where there were six flags);
* :class:`Actions`, what the scheduler asks the driver to do after an event;
* :class:`FailurePolicy`, the counters and limits: retries of a failed trial
  (``max_trial_retries``), trials lost with their worker (``max_lost``), failed trials
  (``max_failures``) and slots failing with no trial to blame (``max_job_restarts``).

Example:
    >>> from sparkexp.options import RunOptions
    >>> from sparkexp.status import StopCause
    >>> policy = FailurePolicy(RunOptions(max_failures=2))
    >>> policy.count_failure("error", None), policy.count_failure("timeout", StopCause.EXPERIMENT_TIMEOUT)
    (True, False)
    >>> policy.failures, policy.limit_reached()
    (1, False)
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sparkexp.errors import ExperimentAborted
from sparkexp.journal import JournalEvent
from sparkexp.options import RunOptions
from sparkexp.runner.messages import Cancel, Reply
from sparkexp.status import FAILED, StopCause, TrialStatus
from sparkexp.trial import Trial

__all__ = ["Phase", "Actions", "KillTask", "FailurePolicy"]

log = logging.getLogger("sparkexp")


class Phase(Enum):
    """Where the experiment is; it only moves down this list (a later phase wins)."""

    #: proposing and running trials
    RUNNING = 0
    #: a trial reached ``target``: no new trials, running ones finish
    TARGET_REACHED = 1
    #: the experiment's ``timeout`` passed: no new trials, running ones stopped (``timeout``)
    TIMED_OUT = 2
    #: a control client asked to stop: running trials stopped
    KILLED = 3
    #: ``max_failures`` reached: running trials stopped, the experiment raises
    ABORTING = 4
    #: the driver is winding down (interrupt, error): nothing is handed out any more
    CLOSING = 5


@dataclass
class KillTask:
    """Kill the Spark task attempt ``task`` that runs ``trial`` (it ignored its cancellation)."""

    trial: str
    task: int | None
    reason: str
    #: the slot whose task it is (a Spark Connect backend kills by slot: its job's tag)
    slot: int | None = None


@dataclass
class Actions:
    """What the driver does after an event: write journal and records, kill tasks, push
    cancellations, send replies, start slots again."""

    replies: list[tuple[Any, Reply]] = field(default_factory=list)
    cancels: list[tuple[Any, Cancel]] = field(default_factory=list)
    kills: list[KillTask] = field(default_factory=list)
    journal: list[JournalEvent] = field(default_factory=list)
    records: list[Trial] = field(default_factory=list)
    restart_slots: list[int] = field(default_factory=list)


class FailurePolicy:
    """Counts what went wrong and says what follows (see the module docstring)."""

    def __init__(self, options: RunOptions, *, max_lost: int = 2, max_job_restarts: int = 3,
                 fn_name: str = "fn") -> None:
        self.options = options
        self.max_lost = max_lost
        self.max_job_restarts = max_job_restarts
        self.fn_name = fn_name
        self.failures = 0
        self.retries: collections.Counter[str] = collections.Counter()
        self.lost: collections.Counter[str] = collections.Counter()
        self.job_restarts = 0
        self._slot_lost_trial: set[int] = set()
        self._retired: set[int] = set()

    def retry(self, trial: Trial) -> bool:
        """Whether a trial whose function raised runs again (``max_trial_retries``); counts it."""
        if trial.status != TrialStatus.ERROR or self.retries[trial.id] >= self.options.max_trial_retries:
            return False
        self.retries[trial.id] += 1
        return True

    def count_failure(self, status: str, cause: StopCause | None) -> bool:
        """Whether a finished trial failed on its own (an error, its own ``trial_timeout``); counts it.

        A trial the experiment stopped (``cause``: its timeout, an abort, a kill, an interrupt,
        early stopping) did not fail, whatever its status.
        """
        failed = status in FAILED and (cause is None or cause.is_failure)
        if failed:
            self.failures += 1
        return failed

    def limit_reached(self) -> bool:
        """``max_failures`` trials failed."""
        limit = self.options.max_failures
        return limit is not None and self.failures >= limit

    def abort_reason(self) -> str:
        return f"{self.failures} trial(s) failed (max_failures={self.options.max_failures})"

    def give_up_lost(self, tid: str) -> bool:
        """A trial lost its worker: True when it has now been lost ``max_lost`` times."""
        self.lost[tid] += 1
        return self.lost[tid] >= self.max_lost

    def lost_error(self, tid: str, where: str) -> str:
        """The error of a trial given up after its worker died ``max_lost`` times (last on
        ``where``)."""
        return (f"the Python worker running this trial died {self.lost[tid]} times without "
                f"returning (last on {where}): killed by the OS (out of memory?), "
                "os._exit/segfault in the function, or its executor was lost")

    def slot_lost_trial(self, slot: Any) -> None:
        """A trial running in ``slot`` died with its task: that explains the slot's job failure."""
        self._slot_lost_trial.add(int(slot if slot is not None else -1))

    def retire(self, slot: int) -> None:
        """``slot`` is being stopped on purpose: its end is not a failure."""
        self._retired.add(slot)

    def restart_slot(self, slot: int, error: str | None, missing_module: str | None,
                     *, ending: bool) -> bool:
        """Whether a slot whose Spark job ended starts again.

        Raises:
            ExperimentAborted: executors cannot import a module the function needs, or slots
                keep failing with no trial to blame (``max_job_restarts``).
        """
        if slot in self._retired:
            self._retired.discard(slot)
            return False
        if error is None or ending:
            return False
        if missing_module:
            raise ExperimentAborted(
                f"executors cannot import module '{missing_module}' needed by {self.fn_name}(): "
                "install it in the executors' Python, or ship it with spark-submit --py-files / "
                "spark.sparkContext.addPyFile(...) (Spark Connect: spark.addArtifacts(path, pyfile=True))")
        if slot in self._slot_lost_trial:
            self._slot_lost_trial.discard(slot)
        else:  # a failure no trial explains (lost executor, broken environment): bounded
            if self.job_restarts >= self.max_job_restarts:
                raise ExperimentAborted(
                    f"the Spark jobs running the trials failed {self.job_restarts + 1} times "
                    f"without a trial to blame; last error: {error}")
            self.job_restarts += 1
        log.warning("sparkexp: trial slot %s ended early (%s); starting it again", slot,
                    error.splitlines()[0] if error else "no detail")
        return True
