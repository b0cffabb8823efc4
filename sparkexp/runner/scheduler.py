"""The trial scheduler: which trial runs where, when to stop one, when the experiment ends.

Pure Python: no Spark, no sockets, no threads, no clock of its own. The driver feeds it events
(a slot asks for a trial, a trial reports, a slot's task is lost, a slot's job ended, time
passed, a kill or an interrupt) and carries out the :class:`Actions` it returns: replies to
the asking slot, cancellations pushed to running trials, Spark tasks to kill, journal events
and trial records to write, slots to start again. Tests drive it with a fake clock.

It holds the pending queue, the running trials and their deadlines, cancellations, lost
workers and the experiment's :class:`~sparkexp.runner.policy.Phase` (one enum where there were
six flags); its :class:`~sparkexp.runner.trials.TrialBook` keeps the trials and talks to the
search and the stopper, its :class:`~sparkexp.runner.policy.FailurePolicy` counts failures,
retries and restarts. A *worker* is any hashable object with a ``hello`` mapping (``slot``,
``task``, ``host``, ``executor``, ``pid``): the driver passes its connections.

Example:
    >>> from sparkexp.options import RunOptions
    >>> from sparkexp.search import GridSearch
    >>> class Slot:
    ...     hello = {"slot": 0, "task": 7, "host": "h"}
    >>> s = Scheduler(GridSearch({"x": [1, 2]}), options=RunOptions(max_parallel=1),
    ...               trial_dir=lambda tid: "/tmp/" + tid, clock=lambda: 0.0, wall=lambda: 0.0)
    >>> slot = Slot()
    >>> s.on_next(slot).replies[0][1].params
    {'x': 1}
    >>> done = {"id": "trial_00000", "status": "complete", "metric": 0.5, "outputs": {"metric": 0.5}}
    >>> s.on_next(slot, done).replies[0][1].params
    {'x': 2}
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from typing import Any

from sparkexp.errors import SparkexpError
from sparkexp.options import RunOptions
from sparkexp.runner.checkpoints import CheckpointBook
from sparkexp.runner.messages import STOP, Cancel, ReportAck, TrialAssignment
from sparkexp.runner.pausing import Pausing
from sparkexp.runner.policy import Actions, FailurePolicy, KillTask, Phase
from sparkexp.runner.running import RunningTrials, Stopping, describe_worker
from sparkexp.runner.trials import TrialBook
from sparkexp.search import Search
from sparkexp.search.stopping import Stopper
from sparkexp.status import ExperimentState, StopCause, TrialStatus
from sparkexp.trial import Trial

__all__ = ["Scheduler", "Phase", "Actions", "KillTask"]  # the last three from .policy

log = logging.getLogger("sparkexp")


class Scheduler:
    """Trials, slots and policy of one experiment (see the module docstring).

    Args:
        search: Proposes trials (``ask``) and learns from results (``tell``).
        options: The run options (``max_parallel`` already resolved by the entry point).
        trial_dir: A trial's folder from its id.
        stopper: The early-stopping rule, if any.
        gpus: Hands GPU sets to trials (``message(tid)``, ``release(tid)``); None: no GPUs.
        clock: Monotonic seconds, for deadlines.
        wall: Epoch seconds, for records.
        max_lost: How often a trial may lose its worker before it is recorded as an error.
        max_job_restarts: How often slots may fail with no trial to blame before aborting.
        fn_name: The function's name, for messages.
    """

    def __init__(self, search: Search, *, options: RunOptions, trial_dir: Callable[[str], str],
                 stopper: Stopper | None = None, gpus: Any = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 max_lost: int = 2, max_job_restarts: int = 3, fn_name: str = "fn") -> None:
        self.search = search
        self.options = options
        self.gpus = gpus
        self.clock = clock
        self.policy = FailurePolicy(options, max_lost=max_lost, max_job_restarts=max_job_restarts,
                                    fn_name=fn_name)
        self.book = TrialBook(search, options=options, policy=self.policy, trial_dir=trial_dir,
                              wall=wall, stopper=stopper)
        #: trials at once; the driver may change it while the experiment runs (elastic slots)
        self.max_parallel = options.max_parallel or 1
        #: slots to end at their next request, so waiting job groups get task slots (sharing)
        self.yielding = 0
        self.phase = Phase.RUNNING
        self.abort_reason: str | None = None
        self.started = clock()
        self.pending: collections.deque[Trial] = collections.deque()
        #: running trials, their deadlines, the ones being stopped (runner/running.py)
        self.runs = RunningTrials(clock=clock, trial_timeout=options.trial_timeout,
                                  kill_grace=options.kill_grace)
        self.running = self.runs.by_trial  # trial id -> worker
        self.waiting: collections.deque[Any] = collections.deque()
        self._assigned = self.runs.by_worker  # worker -> trial id
        self._out = Actions()
        #: checkpoints per trial, what a trial starts from, the needs-checkpoints check
        self.checkpoints = CheckpointBook(
            keep=options.keep_checkpoints,
            required_by=search.name if getattr(search, "needs_checkpoints", False) else None)
        #: ``sparkexp pause`` / ``resume --trial`` (runner/pausing.py)
        self.pausing = Pausing(self.book, self.pending)

    # -- queries ------------------------------------------------------------------------------
    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial proposed so far, by id."""
        return self.book.trials

    @property
    def asking(self) -> bool:
        """Whether new trials are still proposed."""
        return self.phase is Phase.RUNNING

    def exhausted(self) -> bool:
        """No new trial will be proposed (retries and lost trials may still be queued)."""
        return not self.asking or self.search.is_finished()

    def finished(self) -> bool:
        """Nothing runs, nothing waits, and nothing more will be proposed."""
        return self.exhausted() and not self.pending and not self.running

    def work_left(self) -> float:
        """Trials that still need a slot: queued, running and not yet proposed (inf: unknown)."""
        work = len(self.pending) + len(self.running)
        if self.exhausted():
            return work
        total = self.search.total
        return float("inf") if total is None else work + max(0, total - len(self.trials))

    def next_deadline(self) -> float | None:
        """The clock time of the next deadline (trial or experiment timeout, a kill), or None."""
        deadline = self.runs.next_deadline()
        deadlines = [] if deadline is None else [deadline]
        if self.options.timeout is not None and self.asking:
            deadlines.append(self.started + self.options.timeout)
        return min(deadlines) if deadlines else None

    def needs_loop(self) -> bool:
        """Whether the driver's loop must look at the scheduler after a request: deadlines,
        cancellations or the end are its business; a plain hand-out is not."""
        return (not self.asking or self.finished() or bool(self.runs.stopping)
                or self.options.trial_timeout is not None)

    def outcome(self) -> ExperimentState:
        """How the experiment ended, once :meth:`finished` (the driver handles exceptions)."""
        if self.phase is Phase.ABORTING:
            return ExperimentState.ABORTED
        if self.phase is Phase.KILLED:
            return ExperimentState.KILLED
        if self.phase is Phase.TIMED_OUT and not self.search.is_finished():
            return ExperimentState.TIMEOUT  # resumable: the search had more to propose
        if any(t.status == TrialStatus.PAUSED for t in self.trials.values()):
            return ExperimentState.PAUSED  # resumable: the paused trials continue from checkpoints
        return ExperimentState.FINISHED

    def worker_trial(self, worker: Any) -> str | None:
        """The trial ``worker`` runs, if any."""
        return self._assigned.get(worker)

    # -- events -------------------------------------------------------------------------------
    def on_next(self, worker: Any, result: dict[str, Any] | None = None) -> Actions:
        """``worker`` is free (handing in ``result``, its last trial's outcome) and asks for work."""
        if result is not None:
            self._complete(worker, result)
        if self.phase is Phase.CLOSING:
            self._out.replies.append((worker, STOP))
        elif self.yielding > 0:
            # another job group waits for task slots: this slot's task ends at the trial
            # boundary; the driver queues its replacement behind the waiting jobs
            self.yielding -= 1
            self._out.replies.append((worker, STOP))
        else:
            self.waiting.append(worker)
        self._dispatch()
        return self.take()

    def share(self, n: int) -> Actions:
        """End ``n`` slots for waiting job groups: idle ones now, busy ones at their next request."""
        self.yielding = max(0, n)
        while self.yielding and self.waiting:
            self.yielding -= 1
            self._out.replies.append((self.waiting.popleft(), STOP))
        return self.take()

    def on_report(self, worker: Any, tid: Any, report: Any) -> Actions:
        """A running trial reported (``reporter.log``); the reply says whether it must stop."""
        stop: str | None = None
        cause: StopCause | None = None
        if tid == self._assigned.get(worker) and tid in self.trials and isinstance(report, dict):
            early = self.book.report(self.trials[tid], report)
            missing = self.checkpoints.missing(self.trials[tid])
            if missing is not None and self.abort_reason is None:
                self._abort(missing, "aborted: a trial does not checkpoint")
            if tid in self.runs.stopping:
                stop, cause = self.runs.stopping[tid].reason, self.runs.stopping[tid].cause
            elif early:
                stop = f"early stopping ({self.book.stopper.name})"  # type: ignore[union-attr]
                cause = StopCause.EARLY_STOPPING
                # the reply tells the trial: nothing to push
                self.runs.stop(tid, stop, cause)
        self._out.replies.append((worker, ReportAck(stop, cause)))
        return self.take()

    def on_checkpoint(self, worker: Any, tid: Any, checkpoint: Any) -> Actions:
        """A running trial wrote a checkpoint: list it in the trial's record and journal it."""
        if tid == self._assigned.get(worker) and tid in self.trials and isinstance(checkpoint, dict):
            self.book.checkpointed(self.checkpoints.record(self.trials[tid], checkpoint))
        self._out.replies.append((worker, ReportAck(None)))
        return self.take()

    def pause_control(self, op: str, tid: str, where: str) -> dict[str, Any]:
        """``sparkexp pause``/``resume --trial``: pause a running (or queued) trial, or queue a
        paused one again; the control connection's answer."""
        trial = self.trials.get(tid)
        if trial is None:
            return {"op": "error", "error": f"no trial {tid!r} in {where}"}
        reply, then = self.pausing.control(op, trial, running=tid in self.running, where=where,
                                           ending=self.phase is Phase.CLOSING or self.finished())
        if then == "stop":
            self._stop(tid, "paused (sparkexp pause)", StopCause.PAUSE)
        elif then == "dispatch":
            self._dispatch()
        return reply

    def on_lost(self, worker: Any) -> Actions:
        """``worker``'s connection ended (its Python worker died, or it finished)."""
        try:
            self.waiting.remove(worker)
        except ValueError:
            pass
        if worker in self._assigned:
            self._worker_lost(worker)
        self._dispatch()
        return self.take()

    def on_slot_ended(self, slot: int, error: str | None, *, missing_module: str | None = None) -> Actions:
        """A slot's Spark job ended; start it again when it failed and the experiment goes on.

        Raises:
            ExperimentAborted: see :meth:`FailurePolicy.restart_slot`.
        """
        ending = self.phase is Phase.CLOSING or self.finished()
        if self.policy.restart_slot(slot, error, missing_module, ending=ending):
            self._out.restart_slots.append(slot)
        return self.take()

    def retire_slot(self, slot: int) -> None:
        """The driver stops ``slot`` on purpose (fewer executors): its end is not a failure."""
        self.policy.retire(slot)

    def tick(self) -> Actions:
        """Time passed: apply the experiment's and trials' timeouts and kill overdue trials."""
        clock = self.clock()
        timeout = self.options.timeout
        if timeout is not None and self.asking and clock >= self.started + timeout:
            self._enter(Phase.TIMED_OUT)
            self._stop_running(f"timeout (experiment over {timeout:g}s)", StopCause.EXPERIMENT_TIMEOUT)
        for tid in self.runs.overdue():
            self._stop(tid, f"timeout (trial over {self.options.trial_timeout:g}s)",
                       StopCause.TRIAL_TIMEOUT)
        self._out.kills.extend(self.runs.kills_due())
        self._dispatch()
        return self.take()

    def kill(self) -> Actions:
        """A control client asked to stop the experiment: stop every trial, end ``killed``."""
        if self.phase.value < Phase.KILLED.value:
            self._enter(Phase.KILLED)
            self._stop_running("killed (sparkexp kill)", StopCause.KILL)
        return self.take()

    def close(self, reason: str) -> Actions:
        """Wind down (interrupt, error): hand out nothing more and stop every running trial."""
        self._enter(Phase.CLOSING)
        while self.waiting:
            self._out.replies.append((self.waiting.popleft(), STOP))
        self._stop_running(reason, StopCause.INTERRUPT)
        return self.take()

    def abandon_running(self, reason: str) -> Actions:
        """Record the trials still running as ``stopped`` (their results never came)."""
        for tid in list(self.running):
            self._release(tid)
            self.book.abandon(self.trials[tid], reason)
        return self.take()

    def take(self) -> Actions:
        """The actions gathered since the last call."""
        out, self._out = self._out, Actions()
        book = self.book
        if book.journal:
            out.journal, book.journal = book.journal, []
        if book.records:
            out.records, book.records = book.records, []
        return out

    # -- internals ----------------------------------------------------------------------------
    def _enter(self, phase: Phase) -> None:
        if phase.value > self.phase.value:
            self.phase = phase
        if phase.value >= Phase.TIMED_OUT.value:
            # trials waiting to run again are dropped; after ``target`` they still run
            self.pending.clear()

    def _dispatch(self) -> None:
        while self.waiting and len(self.running) < self.max_parallel and self.phase is not Phase.CLOSING:
            trial = self.pending.popleft() if self.pending else (self.book.propose() if self.asking else None)
            if trial is None:
                break
            self._assign(self.waiting.popleft(), trial)
        if self.finished() or (self.exhausted() and not self.pending):
            # done, or fewer trials left than slots: idle slots end, their task slots go back
            while self.waiting:
                self._out.replies.append((self.waiting.popleft(), STOP))
        elif self.waiting and not self.running and not self.pending and self.asking:
            # free slots, nothing running and the search proposes nothing: it would wait forever
            raise SparkexpError(
                f"search '{self.search.name}' proposed no trial while nothing was running "
                "and it is not finished (a bug in the search strategy)")

    def _assign(self, worker: Any, trial: Trial) -> None:
        self.runs.assign(worker, trial.id)
        self.book.start(trial, worker.hello)
        gpus = self.gpus.message(trial.id).get("gpus") if self.gpus is not None else None
        self._out.replies.append((worker, TrialAssignment(trial.id, trial.index, trial.params,
                                                          trial.logdir, trial.attempt, gpus,
                                                          self.checkpoints.message(trial))))

    def _release(self, tid: str) -> Stopping | None:
        """Forget ``tid`` as running; returns its cancellation, if it was being stopped."""
        if self.gpus is not None:
            self.gpus.release(tid)
        return self.runs.release(tid)

    def _stop(self, tid: str, reason: str, cause: StopCause) -> None:
        """Ask the worker running ``tid`` to stop it now (cooperatively; killed after the grace)."""
        worker = self.runs.stop(tid, reason, cause)
        if worker is not None:
            self._out.cancels.append((worker, Cancel(tid, reason, cause)))

    def _stop_running(self, reason: str, cause: StopCause) -> None:
        for tid in list(self.running):
            self._stop(tid, reason, cause)

    def _complete(self, worker: Any, result: dict[str, Any]) -> None:
        tid = result.get("id")
        if tid is None or tid != self._assigned.get(worker) or tid not in self.trials:
            log.warning("sparkexp: ignoring a result for %r from %s", tid, describe_worker(worker))
            return
        stopping = self._release(tid)
        trial = self.trials[tid]
        self.book.result(trial, result, None if stopping is None else stopping.cause)
        if self.pausing.settle(trial, stopped=trial.status in (TrialStatus.STOPPED, TrialStatus.TIMEOUT)):
            return
        if trial.status == TrialStatus.COMPLETE and self.abort_reason is None:
            missing = self.checkpoints.missing(trial, ended=True)
            if missing is not None:
                self._abort(missing, "aborted: a trial does not checkpoint")
        fatal = result.get("fatal")  # a mistake every trial would repeat: stop, no retry
        if self.asking and not fatal and self.policy.retry(trial):
            self.book.requeue(trial, archive=True)
            self.pending.appendleft(trial)
            return
        self._finish(trial, None if stopping is None else stopping.cause)
        if fatal and self.abort_reason is None:
            self._abort(f"{tid}: {fatal}", "aborted: the first result showed a mistake")

    def _finish(self, trial: Trial, cause: StopCause | None) -> None:
        """Record the finished trial, then what follows: target reached, too many failures."""
        failed = self.book.finish(trial, cause)
        if self.book.reached_target(trial):
            self._enter(Phase.TARGET_REACHED)
        if failed and self.policy.limit_reached() and self.abort_reason is None:
            self._abort(self.policy.abort_reason(), "aborted: too many failed trials")

    def _abort(self, reason: str, cancel_reason: str) -> None:
        """End the experiment: propose nothing more, stop running trials, raise at the end."""
        self.abort_reason = reason
        self._enter(Phase.ABORTING)
        self._stop_running(cancel_reason, StopCause.ABORT)

    def _worker_lost(self, worker: Any) -> None:
        tid = self._assigned[worker]
        self.policy.slot_lost_trial(worker.hello.get("slot"))
        stopping = self._release(tid)
        trial = self.trials[tid]
        if self.pausing.settle(trial, stopped=stopping is not None):
            return  # asked to pause: it continues later from its checkpoint
        if stopping is not None:  # it was being stopped anyway: recorded as stopped
            self.book.stopped_without_result(trial, stopping.reason, stopping.cause)
            self._finish(trial, stopping.cause)
        elif self.policy.give_up_lost(tid):
            trial.status = TrialStatus.ERROR
            trial.finished = self.book.wall()
            trial.error = self.policy.lost_error(tid, describe_worker(worker))
            self._finish(trial, None)
        else:
            log.warning("sparkexp: %s lost with %s; running it again", tid, describe_worker(worker))
            self.book.requeue(trial, archive=False)
            self.pending.appendleft(trial)

