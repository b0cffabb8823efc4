"""The driver loop: keeps up to ``max_parallel`` trials in flight and records every result.

``max_parallel`` long-lived Spark tasks (one single-task job per slot) run for the whole
experiment. Each task pulls a trial over the channel as soon as it is free, so no slot idles
while trials wait, and there is no per-trial job and no polling. A task's request is answered
in its connection's thread under the runner's lock (no hand-off); the loop sleeps on an event
queue and wakes only for what it owns: deadlines (trial or experiment timeout, the grace
period of a cancelled trial), lost connections, ended slot jobs, kill requests, progress.

Stopping a running trial (early stopping, timeout, Ctrl-C/SIGTERM, ``max_failures``) is
cooperative first: the task is told at once over the channel, which interrupts the function
(``KeyboardInterrupt`` in the trial) or makes its next ``reporter.log`` raise ``TrialStopped``.
A trial that does not end within ``kill_grace`` seconds has its Spark task attempt killed.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sparkexp import __version__
from sparkexp.errors import (
    ConfigError,
    DriverUnreachable,
    ExperimentAborted,
    SparkexpError,
    TrialError,
)
from sparkexp.options import RunOptions
from sparkexp.outputs import interpret
from sparkexp.result import Result
from sparkexp.runner import connect, gpus
from sparkexp.runner.recorder import Recorder
from sparkexp.runner.resources import TrialResources, spark_conf, with_trial_resources
from sparkexp.runner.server import Connection, Event, TrialServer
from sparkexp.runner.worker import TaskSpec, run_task, takes_reporter
from sparkexp.search import Search
from sparkexp.search.stopping import Stopper
from sparkexp.status import FAILED, ExperimentState, StopCause, TrialStatus
from sparkexp.store import ExperimentStore, json_safe, now
from sparkexp.trial import Trial, trial_id

__all__ = ["RunSettings", "ExperimentRunner", "spark_context", "default_parallelism"]

log = logging.getLogger("sparkexp")


def spark_context(spark: Any) -> Any:
    """The SparkContext of a SparkSession (or the SparkContext itself)."""
    return getattr(spark, "sparkContext", spark)


def default_parallelism(spark: Any) -> int:
    """Task slots the session offers (Spark's default parallelism)."""
    return int(spark_context(spark).defaultParallelism)


@dataclass
class RunSettings:
    """The validated options and what the entry point resolved for this run."""

    options: RunOptions
    project_root: str
    fn_name: str = "fn"
    stopper: Stopper | None = None
    progress: Any = None
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    #: what each trial gets (GPUs, CPUs, resource profile); None: the session's defaults
    resources: TrialResources | None = None
    #: a function that returns nothing completes without a metric (hops' launch)
    metric_optional: bool = False
    #: how often a trial may be lost with its executor/worker before it is recorded as an error
    max_lost: int = 2
    #: how often trial slots may fail without a trial to blame before the experiment aborts
    max_job_restarts: int = 3

    @property
    def max_parallel(self) -> int:
        return self.options.max_parallel or 1


class _Terminated(KeyboardInterrupt):
    """SIGTERM during an experiment (spark-submit, a scheduler): handled like Ctrl-C."""


def _missing_module(error: BaseException | None) -> str | None:
    """The module name of a ModuleNotFoundError raised while executors unpickled the task."""
    import re

    found = re.search(r"ModuleNotFoundError: No module named '([^']+)'", str(error or ""))
    return found.group(1) if found else None


@dataclass
class _Cancel:
    reason: str
    kill_at: float
    cause: StopCause
    killed: bool = False


class ExperimentRunner:
    """Runs one search on Spark and records it under ``store``."""

    def __init__(self, spark: Any, fn: Any, search: Search, store: ExperimentStore, settings: RunSettings,
                 *, previous: dict[str, Any] | None = None) -> None:
        self.fn = fn
        self.search = search
        self.store = store
        self.settings = settings
        self.sign = -1.0 if settings.options.direction == "max" else 1.0
        self.metric_name = settings.options.metric
        self.name = store.path.rstrip("/").rsplit("/", 1)[-1]
        self.group = f"sparkexp-{self.name}-{id(self):x}"
        #: slots as tagged DataFrame jobs (runner.connect): always on Spark Connect, on a
        #: classic session only with spark.sparkexp.slotJobs=dataframe (measured: see docs)
        self._frames: connect.DataFrameSlots | None = None
        self._remote = connect.is_connect(spark)
        if self._remote or connect.slot_jobs(spark) == "dataframe":
            self._frames = connect.DataFrameSlots(spark, group=self.group, resources=settings.resources)
        if self._remote:
            self.sc: Any = None
            assert self._frames is not None
            self._app_id, self._master = self._frames.app_id, self._frames.master
        else:
            self.sc = spark_context(spark)
            self._app_id = str(self.sc.applicationId)  # a py4j call: asked once
            self._master = str(self.sc.master)
        #: a slot task connected at least once (executors can reach this process)
        self._reached = False
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._trials: dict[str, Trial] = {}
        self._pending: collections.deque[Trial] = collections.deque()
        self._running: dict[str, Connection] = {}
        self._deadline: dict[str, float] = {}
        self._cancels: dict[str, _Cancel] = {}
        self._waiting: collections.deque[Connection] = collections.deque()
        self._lost_count: collections.Counter[str] = collections.Counter()
        self._retries: collections.Counter[str] = collections.Counter()
        self._failures = 0
        self._journal: list[dict[str, Any]] = []
        self._dirty: list[Trial] = []
        self._stop_asking = False
        self._closing = False
        self._abort: str | None = None
        self._jobs_running = 0
        self._job_restarts = 0
        #: slots whose task died while running a trial (explains that slot's job failure)
        self._slot_lost_trial: dict[int, bool] = {}
        self._created = now()
        self._started = time.monotonic()
        self._state: ExperimentState = ExperimentState.RUNNING
        self._recorder = Recorder(store)
        self._progress = settings.progress
        self._resumed: list[float] = []
        #: guards every piece of state below: requests are handled in connection threads
        self._lock = threading.RLock()
        self._spec: TaskSpec | None = None
        self._timed_out = False
        self._killed = False
        #: re-run trials the search was already told about (retries): not told again
        self._told: set[str] = set()
        if previous is not None:
            self._replay(previous)
        self._gpus = gpus.pool_for(settings.resources)

    # -- public -----------------------------------------------------------------------------
    def run(self) -> Result:
        """Run to completion and return the result (records are complete when it returns).

        Raises:
            KeyboardInterrupt: Ctrl-C or SIGTERM; running trials were stopped and recorded.
            ExperimentAborted: ``max_failures``/``fail_fast`` or a Spark job that keeps failing;
                everything is recorded and ``exc.result`` holds the result so far.
        """
        from sparkexp.runner.channel import new_secret

        secret = new_secret()
        control_secret = new_secret()
        server = TrialServer(secret, self._events, bind=self._bind_address(),
                             port=self._frames.port() if self._frames is not None and self._remote else 0,
                             control_secret=control_secret, on_request=self._on_request)
        spec = TaskSpec(
            host=self._advertised_address(),
            port=server.port,
            secret=secret,
            fn=self.fn,
            metric=self.settings.options.metric,
            project_root=self.settings.project_root,
            experiment_path=self.store.path,
            echo_output=self.settings.options.echo_output,
            inject_reporter=takes_reporter(self.fn),
            local_logdir=self.settings.options.local_logdir,
            metric_optional=self.settings.metric_optional,
            connect_timeout=(self._frames.connect_timeout if self._frames is not None and self._remote
                             else 30.0),
        )
        self._spec = spec
        self._write_manifest()
        self.store.write_control({"host": spec.host, "port": server.port, "token": control_secret,
                                  "pid": os.getpid(), "app_id": self._app_id})
        previous_sigterm = self._install_sigterm()
        try:
            self._start_slots(spec)
            self._loop(spec)
            if self._abort:
                self._state = ExperimentState.ABORTED
            elif self._killed:
                self._state = ExperimentState.KILLED
            elif self._timed_out and not self.search.is_finished():
                self._state = ExperimentState.TIMEOUT  # resumable: the search had more to propose
            else:
                self._state = ExperimentState.FINISHED
        except KeyboardInterrupt:
            self._state = ExperimentState.INTERRUPTED
            self._wind_down("interrupted")
            raise
        except BaseException:
            self._state = ExperimentState.ABORTED
            self._wind_down("the experiment was aborted")
            raise
        finally:
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
            self._shutdown(server)
        result = self.result()
        if self._abort:
            error = ExperimentAborted(f"{self._abort}; everything so far is recorded in {self.store.path}")
            error.result = result  # type: ignore[attr-defined]
            raise error
        return result

    def result(self) -> Result:
        """The experiment's result as recorded so far."""
        return Result(
            path=self.store.path,
            trials=sorted(self._trials.values(), key=lambda t: t.index),
            direction=self.settings.options.direction,
            metric=self.metric_name or "metric",
            manifest=self._manifest(),
        )

    # -- resume ---------------------------------------------------------------------------
    def _replay(self, previous: dict[str, Any]) -> None:
        """Rebuild the search's and the records' state from an interrupted run's journal.

        Asks and tells are replayed in their recorded order, so the search ends in the state
        it had (grid position, DE population, TPE history, random stream); trials that were
        proposed but never finished are queued to run again, completed ones are kept as they
        are.
        """
        manifest = previous.get("manifest") or {}
        own = set(self._manifest())
        for key, value in manifest.items():  # keep what callers recorded (CLI spec, resources)
            if key not in own:
                self.settings.manifest_extra[key] = value
        self._created = manifest.get("created", self._created)
        self._resumed = [*manifest.get("resumed", []), now()]
        if self.metric_name is None and manifest.get("metric"):
            self.metric_name = str(manifest["metric"])
        stopper = self.settings.stopper
        for event in previous.get("events", []):
            kind, tid = event.get("e"), event.get("id")
            if kind == "trial":
                candidates = self.search.ask(1)
                expected = (event.get("index"), json_safe(event.get("params")))
                got = (candidates[0].key, json_safe(candidates[0].params)) if candidates else None
                if got != expected:
                    raise ConfigError(
                        f"cannot resume {self.store.path}: the rebuilt '{self.search.name}' search "
                        f"proposes {got} where the journal recorded {tid} {expected} "
                        "(was the space, seed or strategy changed?)"
                    )
                self._trials[tid] = Trial(id=tid, index=int(event["index"]), params=dict(event["params"]),
                                          status=TrialStatus.QUEUED, logdir=event.get("logdir") or self.store.trial_dir(tid))
            elif kind == "report" and tid in self._trials and isinstance(event.get("r"), dict):
                trial = self._trials[tid]
                trial.history.append(event["r"])
                loss = self._loss_of(event["r"])
                step = event["r"].get("step")
                if stopper is not None and loss is not None and isinstance(step, int):
                    stopper.report(trial.index, step, loss)
            elif kind == "attempt" and tid in self._trials:
                self._retries[tid] += 1
                self._trials[tid].attempt += 1
            elif kind == "result" and tid in self._trials and isinstance(event.get("trial"), dict):
                history = self._trials[tid].history
                trial = Trial.from_dict(event["trial"])
                trial.history = history
                self._trials[tid] = trial
                loss = None if trial.metric is None else self.sign * float(trial.metric)
                self.search.tell(trial.index, loss, trial.status)
                if stopper is not None:
                    stopper.complete(trial.index, loss, trial.status)
                if event.get("failed", trial.status in FAILED):
                    self._failures += 1
        for tid in sorted(previous.get("rerun") or []):
            rerun = self._trials.get(tid)
            if rerun is None or not rerun.done:
                continue
            trial = rerun
            # a retry: archive the finished attempt beside the new one, then run it again
            self._journal.append({"e": "attempt", "id": tid, "trial": _without_history(trial)})
            self._told.add(tid)
            trial.status = TrialStatus.CREATED
        unfinished = sorted((t for t in self._trials.values() if not t.done), key=lambda t: t.index)
        for trial in unfinished:
            # it was running (or queued) when the driver died: run it again from the start
            trial.status = TrialStatus.QUEUED
            trial.attempt += 1
            trial.history = []
            self._pending.append(trial)
        self._journal.append({"e": "resume", "t": now(), "rerun": [t.id for t in unfinished],
                              "retry": sorted(previous.get("rerun") or [])})

    # -- the loop ---------------------------------------------------------------------------
    def _loop(self, spec: TaskSpec) -> None:
        while True:
            with self._lock:
                self._dispatch()
                self._flush()
                if self._finished():
                    break
                wakeup = self._next_wakeup()
            if self._progress is not None:
                with self._lock:  # its snapshot reads state the connection threads change
                    self._progress.update(self)
                interval = self._progress.interval
                wakeup = interval if wakeup is None else min(wakeup, interval)
            self._process(spec, wakeup)
            with self._lock:
                self._check_deadlines()

    def _on_request(self, conn: Connection, message: dict[str, Any]) -> None:
        """An executor's ``next``/``report``, handled in its connection's thread."""
        try:
            with self._lock:
                self._handle(Event(str(message.get("op")), conn, message), self._spec)
                self._dispatch()
                self._flush()
                # the loop only needs to wake for what it owns: the end, deadlines, stopping
                wake = (self._closing or self._finished() or self._stop_asking or bool(self._cancels)
                        or self.settings.options.trial_timeout is not None)
        except BaseException as exc:  # noqa: BLE001 - the driver loop raises it
            conn.replies.put({"op": "stop"} if message.get("op") == "next" else {"op": "ok", "stop": "aborting"})
            self._events.put(Event("error", payload=exc))
            return
        if wake:
            self._events.put(Event("wake"))

    def _process(self, spec: TaskSpec | None, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds (None: forever) for events, then handle them all."""
        try:
            batch = [self._events.get(timeout=timeout) if timeout is None or timeout > 0
                     else self._events.get_nowait()]
        except queue.Empty:
            return
        with contextlib.suppress(queue.Empty):
            while len(batch) < 256:
                batch.append(self._events.get_nowait())
        with self._lock:
            for event in batch:
                if event.kind == "error":
                    raise event.payload
                self._handle(event, spec)

    def _finished(self) -> bool:
        exhausted = self._stop_asking or self.search.is_finished()
        return exhausted and not self._pending and not self._running

    def _next_wakeup(self) -> float | None:
        deadlines = list(self._deadline.values())
        deadlines.extend(c.kill_at for c in self._cancels.values() if not c.killed)
        if self.settings.options.timeout is not None and not self._stop_asking:
            deadlines.append(self._started + self.settings.options.timeout)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic()) + 0.001

    def _check_deadlines(self) -> None:
        clock = time.monotonic()
        timeout = self.settings.options.timeout
        if timeout is not None and not self._stop_asking and clock >= self._started + timeout:
            self._stop_asking = True
            self._timed_out = True
            self._pending.clear()
            for tid in list(self._running):
                self._cancel(tid, f"timeout (experiment over {timeout:g}s)", StopCause.EXPERIMENT_TIMEOUT)
        for tid, deadline in list(self._deadline.items()):
            if clock >= deadline and tid not in self._cancels:
                self._cancel(tid, f"timeout (trial over {self.settings.options.trial_timeout:g}s)",
                             StopCause.TRIAL_TIMEOUT)
        for tid, cancel in list(self._cancels.items()):
            if not cancel.killed and clock >= cancel.kill_at:
                cancel.killed = True
                self._kill_task(tid, cancel.reason)

    def _handle(self, event: Event, spec: TaskSpec | None) -> None:
        conn = event.conn
        if event.kind == "next" and conn is not None:
            self._reached = True
            result = event.payload.get("result")
            if isinstance(result, dict):
                self._complete(conn, result)
            if self._closing:
                conn.replies.put({"op": "stop"})
            else:
                self._waiting.append(conn)
        elif event.kind == "control" and conn is not None:
            if event.payload.get("op") == "kill" and not self._killed:
                log.warning("sparkexp: %s killed by a control request from %s", self.name, conn.hello.get("host"))
                self._killed = True
                self._stop_asking = True
                self._pending.clear()
                for tid in list(self._running):
                    self._cancel(tid, "killed (sparkexp kill)", StopCause.KILL)
            conn.replies.put({"op": "ok", "state": "killing" if self._killed else self._state,
                              "running": len(self._running)})
        elif event.kind == "report" and conn is not None:
            conn.replies.put({"op": "ok", "stop": self._report(conn, event.payload)})
        elif event.kind == "lost" and conn is not None:
            with contextlib.suppress(ValueError):
                self._waiting.remove(conn)
            if conn.trial_id is not None:
                self._lost(conn)
        elif event.kind == "job_end":
            self._jobs_running -= 1
            slot, error = event.payload
            if spec is None or self._closing or self._finished() or error is None:
                return
            missing = _missing_module(error)
            if missing:
                ship = ("spark.addArtifacts(path, pyfile=True)" if self._remote
                        else "spark-submit --py-files / spark.sparkContext.addPyFile(...)")
                raise ExperimentAborted(
                    f"executors cannot import module '{missing}' needed by "
                    f"{self.settings.fn_name}(): install it in the executors' Python, or ship "
                    f"it with {ship}"
                )
            unreachable = _unreachable(error)
            if unreachable and not self._reached:
                # no slot ever connected: nothing can run; say where they tried and what to set
                how = (self._frames.describe_setting() if self._frames is not None and self._remote
                       else "set spark.driver.host to an address of this machine executors can reach")
                raise ExperimentAborted(f"{unreachable}; {how}")
            if not self._slot_lost_trial.pop(slot, False):
                # a failure no trial explains (lost executor, broken environment): bounded
                if self._job_restarts >= self.settings.max_job_restarts:
                    raise ExperimentAborted(
                        f"the Spark jobs running the trials failed {self._job_restarts + 1} times "
                        f"without a trial to blame; last error: {error}"
                    )
                self._job_restarts += 1
            log.warning("sparkexp: trial slot %s ended early (%s); starting it again", slot,
                        str(error).splitlines()[0] if str(error) else type(error).__name__)
            self._start_slot(spec, slot)

    def _dispatch(self) -> None:
        while self._waiting and len(self._running) < self.settings.max_parallel and not self._closing:
            trial = self._next_trial()
            if trial is None:
                break
            conn = self._waiting.popleft()
            conn.trial_id = trial.id
            self._running[trial.id] = conn
            if self.settings.options.trial_timeout is not None:
                self._deadline[trial.id] = time.monotonic() + self.settings.options.trial_timeout
            trial.status = TrialStatus.RUNNING
            trial.host = conn.hello.get("host")
            trial.executor = conn.hello.get("executor")
            trial.slot = conn.hello.get("slot")
            trial.spark_task = conn.hello.get("task")
            self._journal.append(
                {"e": "start", "id": trial.id, "t": now(), "host": trial.host,
                 "executor": trial.executor, "slot": trial.slot, "task": trial.spark_task,
                 "attempt": trial.attempt}
            )
            conn.replies.put({"op": "trial", "id": trial.id, "index": trial.index,
                              "params": trial.params, "logdir": trial.logdir, "attempt": trial.attempt,
                              **self._gpus.message(trial.id)})
        if self._finished():
            while self._waiting:
                self._waiting.popleft().replies.put({"op": "stop"})
        elif self._waiting and not self._running and not self._pending and not self._stop_asking:
            # free slots, nothing running and the search proposes nothing: it would wait forever
            raise SparkexpError(
                f"search '{self.search.name}' proposed no trial while nothing was running "
                "and it is not finished (a bug in the search strategy)"
            )

    def _next_trial(self) -> Trial | None:
        if self._pending:
            return self._pending.popleft()
        if self._stop_asking:
            return None
        candidates = self.search.ask(1)
        if not candidates:
            return None
        cand = candidates[0]
        tid = trial_id(cand.key)
        trial = Trial(id=tid, index=cand.key, params=dict(cand.params), status=TrialStatus.QUEUED,
                      logdir=self.store.trial_dir(tid))
        self._trials[tid] = trial
        self._journal.append({"e": "trial", "id": tid, "index": cand.key, "params": trial.params,
                              "logdir": trial.logdir, "t": now()})
        return trial

    # -- trial events -----------------------------------------------------------------------
    def _loss_of(self, values: dict[str, Any]) -> float | None:
        metrics = {k: v for k, v in values.items() if k not in ("step", "_time")}
        try:
            _outputs, metric, name = interpret(metrics, self.settings.options.metric or self.metric_name)
        except TrialError:
            return None
        if self.metric_name is None:
            self.metric_name = name
        return self.sign * metric

    def _report(self, conn: Connection, message: dict[str, Any]) -> str | None:
        tid = message.get("id")
        report = message.get("report")
        if tid != conn.trial_id or tid not in self._trials or not isinstance(report, dict):
            return None
        trial = self._trials[tid]
        trial.history.append(report)
        self._journal.append({"e": "report", "id": tid, "r": report})
        if tid in self._cancels:
            return self._cancels[tid].reason
        stopper = self.settings.stopper
        if stopper is not None:
            loss = self._loss_of(report)
            step = report.get("step")
            if loss is not None and isinstance(step, int) and stopper.report(trial.index, step, loss):
                reason = f"early stopping ({stopper.name})"
                self._cancels[tid] = _Cancel(reason, time.monotonic() + self.settings.options.kill_grace,
                                             StopCause.EARLY_STOPPING)
                return reason
        return None

    def _cancel(self, tid: str, reason: str, cause: StopCause) -> None:
        """Ask the task running ``tid`` to stop it now (cooperatively, then by force)."""
        conn = self._running.get(tid)
        if conn is None or tid in self._cancels:
            return
        self._cancels[tid] = _Cancel(reason, time.monotonic() + self.settings.options.kill_grace, cause)
        conn.push({"op": "cancel", "id": tid, "reason": reason})

    def _kill_task(self, tid: str, reason: str) -> None:
        conn = self._running.get(tid)
        task = conn.hello.get("task") if conn is not None else None
        if task is None:
            return
        log.warning("sparkexp: %s did not stop within %gs; killing its Spark task %s",
                    tid, self.settings.options.kill_grace, task)
        with contextlib.suppress(Exception):
            if self._frames is not None:
                self._frames.kill_task(task, reason, slot=conn.hello.get("slot") if conn else None)
                return
            self.sc._jsc.sc().killTaskAttempt(int(task), True, f"sparkexp: {tid} {reason}")

    def _complete(self, conn: Connection, result: dict[str, Any]) -> None:
        tid = result.get("id")
        if tid != conn.trial_id or tid not in self._trials:
            log.warning("sparkexp: ignoring a result for %r from %s", tid, conn.describe())
            return
        conn.trial_id = None
        self._running.pop(tid, None)
        self._deadline.pop(tid, None)
        cancel = self._cancels.pop(tid, None)
        self._gpus.release(tid)
        trial = self._trials[tid]
        trial.status = str(result.get("status", "error"))
        if cancel is not None and trial.status in (TrialStatus.STOPPED, TrialStatus.TIMEOUT):
            trial.status = cancel.cause.status
        trial.error = result.get("error")
        trial.outputs = result.get("outputs") or {}
        trial.metric = result.get("metric")
        trial.started = result.get("started")
        trial.finished = result.get("finished")
        trial.host = result.get("host", trial.host)
        trial.executor = result.get("executor", trial.executor)
        trial.gpus = list(result.get("gpus") or [])
        trial.pid = result.get("pid")
        if self.metric_name is None and result.get("metric_name"):
            self.metric_name = str(result["metric_name"])
        fatal = result.get("fatal")  # a mistake every trial would repeat: stop, no retry
        if (trial.status == "error" and self._retries[tid] < self.settings.options.max_trial_retries
                and not self._stop_asking and not fatal):
            self._retries[tid] += 1
            self._journal.append({"e": "attempt", "id": tid, "trial": _without_history(trial)})
            trial.attempt += 1
            trial.status = TrialStatus.QUEUED
            self._pending.appendleft(trial)
            return
        self._record(trial, None if cancel is None else cancel.cause)
        if fatal and self._abort is None:
            self._abort_all(f"{tid}: {fatal}", "aborted: the first result showed a mistake")

    def _record(self, trial: Trial, cause: StopCause | None) -> None:
        """Tell the search and the stopper, journal the result, apply the failure policy.

        A trial counts toward ``max_failures`` when it failed on its own (an error, its own
        ``trial_timeout``), not when the experiment stopped it (``cause``).
        """
        loss = None if trial.metric is None else self.sign * float(trial.metric)
        if trial.id not in self._told:
            self.search.tell(trial.index, loss, trial.status)
        if self.settings.stopper is not None:
            self.settings.stopper.complete(trial.index, loss, trial.status)
        failed = trial.status in FAILED and (cause is None or cause.is_failure)
        self._journal.append({"e": "result", "id": trial.id, "trial": _without_history(trial),
                              "failed": failed})
        self._dirty.append(trial)
        target = self.settings.options.target
        if target is not None and trial.metric is not None and self.sign * (trial.metric - target) <= 0:
            self._stop_asking = True
        if failed:
            self._failures += 1
            limit = self.settings.options.max_failures
            if limit is not None and self._failures >= limit and self._abort is None:
                self._abort_all(f"{self._failures} trial(s) failed (max_failures={limit})",
                                "aborted: too many failed trials")

    def _abort_all(self, reason: str, cancel_reason: str) -> None:
        """End the experiment: propose nothing more, stop running trials, raise at the end."""
        self._abort = reason
        self._stop_asking = True
        self._pending.clear()
        for tid in list(self._running):
            self._cancel(tid, cancel_reason, StopCause.ABORT)

    def _lost(self, conn: Connection) -> None:
        tid = conn.trial_id
        conn.trial_id = None
        if tid is None or tid not in self._running:
            return
        self._slot_lost_trial[int(conn.hello.get("slot", -1))] = True
        del self._running[tid]
        self._deadline.pop(tid, None)
        self._gpus.release(tid)
        trial = self._trials[tid]
        cancel = self._cancels.pop(tid, None)
        if cancel is not None:
            # it was being stopped anyway: record it as stopped, with its last reported metric
            trial.status = cancel.cause.status
            trial.finished = now()
            trial.error = f"stopped: {cancel.reason} (its task was killed)"
            trial.metric = None
            for report in reversed(trial.history):
                loss = self._loss_of(report)
                if loss is not None:
                    trial.metric = self.sign * loss
                    break
            self._record(trial, cancel.cause)
            return
        self._lost_count[tid] += 1
        if self._lost_count[tid] >= self.settings.max_lost:
            trial.status = TrialStatus.ERROR
            trial.finished = now()
            trial.error = (
                f"the Python worker running this trial died {self._lost_count[tid]} times without "
                f"returning (last on {conn.describe()}): killed by the OS (out of memory?), "
                "os._exit/segfault in the function, or its executor was lost"
            )
            self._record(trial, None)
        else:
            log.warning("sparkexp: %s lost with %s; running it again", tid, conn.describe())
            trial.attempt += 1
            trial.status = TrialStatus.QUEUED
            self._pending.appendleft(trial)

    def _wind_down(self, reason: str) -> None:
        """Stop every running trial after an interrupt or abort; record them within ~1 s."""
        with self._lock:
            self._closing = True
            self._stop_asking = True
            self._pending.clear()
            for conn in list(self._waiting):
                conn.replies.put({"op": "stop"})
            self._waiting.clear()
            for tid in list(self._running):
                self._cancel(tid, reason, StopCause.INTERRUPT)
        deadline = time.monotonic() + 1.0
        with contextlib.suppress(Exception, KeyboardInterrupt):  # results of the cancelled trials
            while self._running and time.monotonic() < deadline:
                self._process(None, deadline - time.monotonic())
        with self._lock:
            self._record_leftovers(reason)

    def _record_leftovers(self, reason: str) -> None:
        for tid in list(self._running):
            self._gpus.release(tid)
            trial = self._trials[tid]
            trial.status = TrialStatus.STOPPED
            trial.finished = now()
            trial.error = f"stopped: {reason}"
            self._journal.append({"e": "result", "id": tid, "trial": _without_history(trial)})
            self._dirty.append(trial)
        self._running.clear()

    # -- records ----------------------------------------------------------------------------
    def _flush(self) -> None:
        if self._journal or self._dirty:
            events, self._journal = self._journal, []
            dirty, self._dirty = self._dirty, []
            self._recorder.submit(events, dirty)

    def _manifest(self) -> dict[str, Any]:
        import platform

        try:
            import pyspark

            spark_version = pyspark.__version__
        except ImportError:  # pragma: no cover
            spark_version = None
        counts = collections.Counter(t.status for t in self._trials.values())
        stopper = self.settings.stopper
        return {
            "name": self.name,
            "strategy": self.search.name,
            "search": self.search.settings(),
            "function": self.settings.fn_name,
            "function_ref": _function_ref(self.fn),
            **self.settings.options.to_manifest(stopper),
            "metric": self.metric_name,
            "project_root": self.settings.project_root,
            "app_id": self._app_id,
            "master": self._master,
            "job_group": self.group,
            "versions": {"sparkexp": __version__, "pyspark": spark_version,
                         "python": platform.python_version()},
            "state": self._state,
            "abort_reason": self._abort,
            "created": self._created,
            "resumed": self._resumed,
            "finished": None if self._state == ExperimentState.RUNNING else now(),
            "counts": dict(counts),
            **self.settings.manifest_extra,
        }

    def _write_manifest(self) -> None:
        self.store.write_manifest(self._manifest())

    # -- Spark and process ------------------------------------------------------------------
    def _install_sigterm(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_sigterm(signum: int, frame: Any) -> None:
            raise _Terminated("SIGTERM")

        try:
            return signal.signal(signal.SIGTERM, on_sigterm)
        except ValueError:  # not in the main interpreter
            return None

    def _bind_address(self) -> str:
        if self._frames is not None and self._remote:
            return self._frames.bind_address()
        conf = spark_conf(self.sc)
        if str(self.sc.master).startswith("local"):
            return "127.0.0.1"
        return str(conf.get("spark.driver.bindAddress", None) or conf.get("spark.driver.host", "0.0.0.0"))

    def _advertised_address(self) -> str:
        if self._frames is not None and self._remote:
            return self._frames.advertised_address()
        if str(self.sc.master).startswith("local"):
            return "127.0.0.1"
        return str(spark_conf(self.sc).get("spark.driver.host", "127.0.0.1"))

    def _start_slots(self, spec: TaskSpec) -> None:
        """One single-task Spark job per trial slot, all in the experiment's job group.

        A job per slot rather than one job of ``max_parallel`` tasks: when a trial kills its
        Python worker (out of memory, a segfault), only that slot's job fails (in ``local[N]``
        a single task failure fails its whole job), so the trials in the other slots run on
        undisturbed, the loss is charged to the right trial, and only that slot restarts.
        """
        remaining = self.search.total
        n_slots = self.settings.max_parallel
        if remaining is not None:
            done = sum(1 for t in self._trials.values() if t.done)
            n_slots = max(1, min(n_slots, remaining - done))
        for slot in range(n_slots):
            self._start_slot(spec, slot)

    def _start_slot(self, spec: TaskSpec, slot: int) -> None:
        if self._frames is not None:
            self._jobs_running += 1
            self._frames.start_slot(slot, functools.partial(run_task, spec, slot=slot),
                                    lambda s, e: self._events.put(Event("job_end", payload=(s, e))))
            return
        from pyspark import InheritableThread

        sc = self.sc
        group = self.group
        events = self._events
        resources = self.settings.resources
        description = f"sparkexp experiment {self.name}: {self.settings.fn_name}() trials, slot {slot}"
        task = functools.partial(run_task, spec, slot=slot)

        def job() -> None:
            error: BaseException | None = None
            try:
                sc.setJobGroup(group, description, interruptOnCancel=True)
                rdd = with_trial_resources(sc.parallelize([slot], 1), resources)
                rdd.mapPartitionsWithIndex(task).collect()
            except BaseException as exc:  # noqa: BLE001 - reported to the loop
                error = exc
            events.put(Event("job_end", payload=(slot, error)))

        self._jobs_running += 1
        InheritableThread(target=job, name=f"sparkexp-slot-{slot}", daemon=True).start()

    def _shutdown(self, server: TrialServer) -> None:
        if self._frames is not None:
            self._frames.close()
        with self._lock:
            self._closing = True
            for conn in list(self._waiting):
                conn.replies.put({"op": "stop"})
            self._waiting.clear()
        if self._jobs_running and self._state != ExperimentState.FINISHED:
            # trials still running (interrupt, abort): cancel their Spark job
            with contextlib.suppress(Exception):
                if self._frames is not None:
                    self._frames.cancel_all()
                else:
                    self.sc.cancelJobGroup(self.group)
        if self._progress is not None:
            with contextlib.suppress(Exception), self._lock:
                self._progress.close(self)
        error: BaseException | None = None
        try:  # final records while the tasks wind down
            with self._lock:
                self._flush()
            self._recorder.close()
            self._write_manifest()
            if self._trials:
                self.store.write_parquet(sorted(self._trials.values(), key=lambda t: t.index))
        except Exception as exc:  # noqa: BLE001 - never hide the original error
            error = exc
        deadline = time.monotonic() + (10.0 if self._state == ExperimentState.FINISHED else 2.0)
        while self._jobs_running and time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event.kind == "job_end":
                self._jobs_running -= 1
            elif event.kind in ("next", "report") and event.conn is not None:
                event.conn.replies.put({"op": "stop"} if event.kind == "next" else {"op": "ok", "stop": "closing"})
        server.close()
        with contextlib.suppress(Exception):
            self.store.remove_control()
        if error is not None:
            if sys.exc_info()[0] is None:
                raise error
            print(f"sparkexp: could not finish writing records: {error}", file=sys.stderr)


def _unreachable(error: BaseException | None) -> str | None:
    """The message of a slot that could not reach the driver (raised in its task, or returned
    by a DataFrame slot job), else None."""
    import re

    if isinstance(error, DriverUnreachable):
        return str(error)
    found = re.search(r"DriverUnreachable: ([^\n]+)", str(error or ""))
    return found.group(1).strip() if found else None


def _function_ref(fn: Any) -> str | None:
    """``module:qualname`` when the function can be imported again later (retry), else None."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def _without_history(trial: Trial) -> dict[str, Any]:
    """A trial's record for the journal: its reports are journalled as they arrive."""
    record = trial.to_dict()
    record.pop("history", None)
    return record
