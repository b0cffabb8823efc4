"""The trials running now: which worker runs which, their deadlines, and the ones being stopped.

Pure Python with an injected clock, owned by :class:`~sparkexp.runner.scheduler.Scheduler`. A
trial being stopped (a timeout, early stopping, a kill, ``max_failures``) carries its reason,
its :class:`~sparkexp.status.StopCause` and the time its Spark task is killed if it has not
ended by then (``kill_grace`` seconds after the stop).

Example:
    >>> from sparkexp.status import StopCause
    >>> now = [0.0]
    >>> runs = RunningTrials(clock=lambda: now[0], trial_timeout=5.0, kill_grace=2.0)
    >>> runs.assign("slot-0", "trial_00000")
    >>> runs.next_deadline()
    5.0
    >>> now[0] = 5.0
    >>> runs.overdue()
    ['trial_00000']
    >>> runs.stop("trial_00000", "timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT)
    'slot-0'
    >>> runs.next_deadline()  # the kill, no longer the passed timeout
    7.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sparkexp.runner.policy import KillTask
from sparkexp.status import StopCause

__all__ = ["RunningTrials", "Stopping", "describe_worker"]

log = logging.getLogger("sparkexp")


@dataclass
class Stopping:
    """A running trial the driver asked to stop."""

    reason: str
    cause: StopCause
    #: clock time its Spark task is killed if the trial has not ended
    kill_at: float
    killed: bool = False


class RunningTrials:
    """Running trials by id and by worker, their deadlines, and those being stopped.

    Args:
        clock: Monotonic seconds.
        trial_timeout: Seconds a trial may run (None: no limit).
        kill_grace: Seconds a stopped trial has to end before its task is killed.
    """

    def __init__(self, *, clock: Callable[[], float], trial_timeout: float | None,
                 kill_grace: float) -> None:
        self.clock = clock
        self.trial_timeout = trial_timeout
        self.kill_grace = kill_grace
        #: trial id -> the worker running it
        self.by_trial: dict[str, Any] = {}
        #: worker -> the trial it runs
        self.by_worker: dict[Any, str] = {}
        #: trial id -> its stop, for trials asked to stop that have not ended
        self.stopping: dict[str, Stopping] = {}
        self._deadlines: dict[str, float] = {}

    def assign(self, worker: Any, tid: str) -> None:
        """``worker`` runs ``tid`` from now (its trial timeout starts)."""
        self.by_worker[worker] = tid
        self.by_trial[tid] = worker
        if self.trial_timeout is not None:
            self._deadlines[tid] = self.clock() + self.trial_timeout

    def release(self, tid: str) -> Stopping | None:
        """Forget ``tid`` as running; returns its stop, if it was being stopped."""
        worker = self.by_trial.pop(tid, None)
        if worker is not None:
            self.by_worker.pop(worker, None)
        self._deadlines.pop(tid, None)
        return self.stopping.pop(tid, None)

    def stop(self, tid: str, reason: str, cause: StopCause) -> Any:
        """Mark ``tid`` as being stopped; the worker to tell, or None when ``tid`` does not
        run or is being stopped already."""
        worker = self.by_trial.get(tid)
        if worker is None or tid in self.stopping:
            return None
        self.stopping[tid] = Stopping(reason, cause, self.clock() + self.kill_grace)
        return worker

    def overdue(self) -> list[str]:
        """Running trials past their trial timeout that are not being stopped yet."""
        now = self.clock()
        return [tid for tid, deadline in self._deadlines.items()
                if now >= deadline and tid not in self.stopping]

    def kills_due(self) -> list[KillTask]:
        """The Spark tasks of stopped trials whose grace ran out (each killed once)."""
        now = self.clock()
        kills = []
        for tid, stopping in self.stopping.items():
            if not stopping.killed and now >= stopping.kill_at:
                stopping.killed = True
                worker = self.by_trial.get(tid)
                task = worker.hello.get("task") if worker is not None else None
                log.warning("sparkexp: %s did not stop within %gs; killing its Spark task %s",
                            tid, self.kill_grace, task)
                slot = worker.hello.get("slot") if worker is not None else None
                kills.append(KillTask(tid, task, stopping.reason, slot))
        return kills

    def next_deadline(self) -> float | None:
        """The clock time of the next trial timeout or kill, or None."""
        # a trial being stopped has its kill as next deadline, not its passed timeout
        deadlines = [d for tid, d in self._deadlines.items() if tid not in self.stopping]
        deadlines.extend(s.kill_at for s in self.stopping.values() if not s.killed)
        return min(deadlines) if deadlines else None


def describe_worker(worker: Any) -> str:
    """The worker as log lines and error messages name it (its own ``describe()`` if any).

    >>> class Slot:
    ...     hello = {"host": "h1", "executor": "3", "pid": 42}
    >>> describe_worker(Slot())
    'task on h1 (executor 3, pid 42)'
    """
    describe = getattr(worker, "describe", None)
    if callable(describe):
        return str(describe())
    h = worker.hello
    return f"task on {h.get('host')} (executor {h.get('executor')}, pid {h.get('pid')})"
