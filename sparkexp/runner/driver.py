"""The driver: wires the channel's server, the scheduler, a Spark backend and the recorder.

``max_parallel`` long-lived slot tasks (one single-task Spark job each, started through the
:class:`~sparkexp.runner.backend.Backend`) run for the whole experiment. Each task pulls a
trial over the channel as soon as it is free, so no slot idles while trials wait, and there
is no per-trial job and no polling. A task's request is answered in its connection's thread
under the runner's lock (no hand-off): the :class:`~sparkexp.runner.scheduler.Scheduler`
decides, the driver carries out its :class:`~sparkexp.runner.policy.Actions`. The loop sleeps
on an event queue and wakes only for what it owns: deadlines (trial or experiment timeout,
the grace of a cancelled trial), lost connections, ended slot jobs, kill requests, progress.

Stopping a running trial (early stopping, timeout, Ctrl-C/SIGTERM, ``max_failures``) is
cooperative first: the task is told at once over the channel, which interrupts the function
(``KeyboardInterrupt`` in the trial) or makes its next ``reporter.log`` raise ``TrialStopped``.
A trial that does not end within ``kill_grace`` seconds has its Spark task attempt killed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import sys
import threading
import time
from typing import Any

from sparkexp.errors import ExperimentAborted
from sparkexp.result import Result
from sparkexp.runner import connect, gpus
from sparkexp.runner.backend import Backend
from sparkexp.runner.cluster import spark_conf
from sparkexp.runner.elastic import yields
from sparkexp.runner.manifest import RunSettings, build_manifest
from sparkexp.runner.messages import (
    STOP,
    CheckpointRequest,
    ControlReply,
    NextRequest,
    ReportAck,
    parse_request,
)
from sparkexp.runner.policy import Actions, Phase
from sparkexp.runner.process import frozen_heap, install_sigterm, restore_sigterm
from sparkexp.runner.recorder import Recorder
from sparkexp.runner.replay import replay
from sparkexp.runner.scheduler import Scheduler
from sparkexp.runner.server import Connection, Event, TrialServer
from sparkexp.runner.slots import SlotKeeper
from sparkexp.runner.worker import TaskSpec, run_task, takes_reporter
from sparkexp.search import Search
from sparkexp.status import ExperimentState
from sparkexp.store import ExperimentStore, now
from sparkexp.trial import Trial

__all__ = ["ExperimentRunner", "RunSettings"]

log = logging.getLogger("sparkexp")


class ExperimentRunner:
    """Runs one search on Spark and records it under ``store``."""

    def __init__(self, spark: Any, fn: Any, search: Search, store: ExperimentStore, settings: RunSettings,
                 *, previous: dict[str, Any] | None = None, backend: Backend | None = None) -> None:
        self.fn = fn
        self.search = search
        self.store = store
        self.settings = settings
        self.name = store.path.rstrip("/").rsplit("/", 1)[-1]
        self.group = f"sparkexp-{self.name}-{id(self):x}"
        # from the session: classic (RDD slot jobs) or Spark Connect (DataFrame slot jobs)
        self.backend: Backend = backend or connect.backend_for(
            spark, group=self.group, resources=settings.resources, pool=_pool(spark, self.name),
            description=f"sparkexp experiment {self.name}: {settings.fn_name}() trials")
        pool = gpus.pool_for(settings.resources)
        self.scheduler = Scheduler(search, options=settings.options, trial_dir=store.trial_dir,
                                   stopper=settings.stopper, gpus=pool, fn_name=settings.fn_name,
                                   max_lost=settings.max_lost, max_job_restarts=settings.max_job_restarts)
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        #: guards the scheduler and the buffers: requests are handled in connection threads
        self._lock = threading.RLock()
        self._recorder = Recorder(store, settings.on_events)
        self._state = ExperimentState.RUNNING
        self._created = now()
        self._resumed: list[float] = []
        # elastic slots and sharing (runner/elastic.py): the scheduler's cap on running trials
        # is the hard ceiling (max_parallel given); without one, the slot count is the limit
        if settings.max_slots is None:
            self.scheduler.max_parallel = sys.maxsize
        sc = getattr(self.backend, "sc", None)
        every = spark_conf(sc).get("spark.sparkexp.slotPollSeconds", None) if sc is not None else None
        resources = settings.resources
        self.slots = SlotKeeper(self.backend, self._events, ceiling=settings.max_slots,
                                fallback=settings.options.max_parallel or 1,
                                dynamic=bool(resources and resources.dynamic),
                                look_every=float(every or 1.0))
        if previous is not None:
            self._resume(previous)

    # -- public -------------------------------------------------------------------------------
    def run(self) -> Result:
        """Run to completion and return the result (records are complete when it returns).

        Raises:
            KeyboardInterrupt: Ctrl-C or SIGTERM; running trials were stopped and recorded.
            ExperimentAborted: ``max_failures``/``fail_fast`` or a Spark job that keeps failing;
                everything is recorded and ``exc.result`` holds the result so far.
        """
        from sparkexp.runner.channel import new_secret

        secret, control_secret = new_secret(), new_secret()
        server = TrialServer(secret, self._events, bind=self.backend.bind_address(),
                             port=self.backend.channel_port, control_secret=control_secret, on_request=self._on_request)
        spec = _task_spec(self, server.port, secret)
        self.slots.task = functools.partial(run_task, spec)
        self._write_manifest()
        self.store.write_control({"host": spec.host, "port": server.port, "token": control_secret,
                                  "pid": os.getpid(), "app_id": self.backend.app_id})
        previous_sigterm = install_sigterm()
        try:
            with frozen_heap():
                self._start_slots()
                self._loop()
            self._state = self.scheduler.outcome()
        except KeyboardInterrupt:
            self._state = ExperimentState.INTERRUPTED
            self._wind_down("interrupted")
            raise
        except BaseException:
            self._state = ExperimentState.ABORTED
            self._wind_down("the experiment was aborted")
            raise
        finally:
            restore_sigterm(previous_sigterm)
            self._shutdown(server)
        result = self.result()
        if self._state is ExperimentState.ABORTED:
            error = ExperimentAborted(f"{self.scheduler.abort_reason}; everything so far is recorded "
                                      f"in {self.store.path}")
            error.result = result  # type: ignore[attr-defined]
            raise error
        return result

    def result(self) -> Result:
        """The experiment's result as recorded so far."""
        return Result(path=self.store.path, trials=self._trials(), direction=self.settings.options.main_direction,
                      metric=self.scheduler.book.metric_name or "metric", manifest=self._manifest())

    def progress_view(self) -> dict[str, Any]:
        """What a progress display shows (read under the runner's lock)."""
        sched = self.scheduler
        return {"name": self.name, "total": self.search.total, "trials": list(sched.trials.values()),
                "running": [sched.trials[tid] for tid in sched.running],
                "metric": sched.book.metric_name or "metric",
                "direction": self.settings.options.main_direction,
                "elapsed": time.monotonic() - sched.started}

    # -- resume -------------------------------------------------------------------------------
    def _resume(self, previous: dict[str, Any]) -> None:
        manifest = previous.get("manifest") or {}
        own = set(self._manifest())
        for key, value in manifest.items():  # keep what callers recorded (CLI spec, resources)
            if key not in own:
                self.settings.manifest_extra[key] = value
        self._created = manifest.get("created", self._created)
        self._resumed = [*manifest.get("resumed", []), now()]
        replay(self.scheduler, manifest, previous.get("events", []),
               rerun=previous.get("rerun") or (), where=self.store.path)
        self._apply(self.scheduler.take())

    # -- the loop -----------------------------------------------------------------------------
    def _loop(self) -> None:
        progress = self.settings.progress
        while True:
            if time.monotonic() >= self.slots.look_at:
                self._look()
            with self._lock:
                self._apply(self.scheduler.tick())
                self._recorder.commit()
                if self.scheduler.finished():
                    break
                deadline = self.scheduler.next_deadline()
            look_at = self.slots.look_at
            deadline = look_at if deadline is None else min(deadline, look_at)
            wakeup = max(0.0, deadline - time.monotonic()) + 0.001
            if progress is not None:
                with self._lock:  # its view reads state the connection threads change
                    progress.update(self)
                wakeup = progress.interval if wakeup is None else min(wakeup, progress.interval)
            self._process(wakeup)

    def _on_request(self, conn: Connection, message: dict[str, Any]) -> None:
        """An executor's ``next``/``report``, handled in its connection's thread."""
        try:
            request = parse_request(message)
            with self._lock:
                if isinstance(request, NextRequest):
                    self.slots.task_connected(int(conn.hello.get("slot", -1)))
                    actions = self.scheduler.on_next(conn, request.result)
                elif isinstance(request, CheckpointRequest):
                    actions = self.scheduler.on_checkpoint(conn, request.id, request.checkpoint)
                else:
                    actions = self.scheduler.on_report(conn, request.id, request.report)
                self._apply(actions)
                self._recorder.commit()
                wake = self.scheduler.needs_loop()
        except BaseException as exc:  # noqa: BLE001 - the driver loop raises it
            reply = STOP if message.get("op") == "next" else ReportAck("aborting")
            conn.replies.put(reply.to_wire())
            self._events.put(Event("error", payload=exc))
            return
        if wake:
            self._events.put(Event("wake"))

    def _process(self, timeout: float | None) -> None:
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
                self._handle(event)

    def _handle(self, event: Event) -> None:
        conn, sched = event.conn, self.scheduler
        if event.kind == "control" and conn is not None and event.payload.get("op") in ("pause", "resume"):
            conn.replies.put(sched.pause_control(str(event.payload["op"]), str(event.payload.get("trial")),
                                                 self.store.path))
            self._apply(sched.take())
        elif event.kind == "control" and conn is not None:
            if event.payload.get("op") == "kill" and sched.phase is not Phase.KILLED:
                log.warning("sparkexp: %s killed by a control request from %s", self.name,
                            conn.hello.get("host"))
                self._apply(sched.kill())
            state = "killing" if sched.phase is Phase.KILLED else str(self._state)
            conn.replies.put(ControlReply(state, len(sched.running)).to_wire())
        elif event.kind == "lost" and conn is not None:
            if sched.worker_trial(conn) is not None:  # its task died: run again, or its job ends
                self.slots.task_lost(int(conn.hello.get("slot", -1)))
            self._apply(sched.on_lost(conn))
        elif event.kind == "job_end":
            slot, error = event.payload
            self.slots.ended(slot)
            unreachable = self.backend.unreachable(error)
            if unreachable and not self.slots.reached:
                # no slot ever connected: nothing can run; say where they tried and what to set
                raise ExperimentAborted(unreachable)
            self._apply(sched.on_slot_ended(slot, None if error is None else str(error),
                                            missing_module=self.backend.missing_module(error)))
            if not sched.finished() and sched.phase is not Phase.CLOSING:
                self._top_up()  # released or yielded: replaced if the experiment wants it

    def _apply(self, actions: Actions) -> None:
        """Carry out what the scheduler decided (under the lock)."""
        self._recorder.stage(actions.journal, actions.records)
        for kill in actions.kills:
            if kill.task is not None:
                self.backend.kill_task(kill.task, f"sparkexp: {kill.trial} {kill.reason}",
                                       slot=kill.slot)
        for conn, cancel in actions.cancels:
            conn.push(cancel.to_wire())
        for conn, reply in actions.replies:
            conn.replies.put(reply.to_wire())
        for slot in actions.restart_slots:
            self.slots.start(slot)

    # -- slots ----------------------------------------------------------------------------------
    def _start_slots(self) -> None:
        """The first slot jobs; then they follow the cluster (:meth:`_look`, :meth:`_top_up`)."""
        if self.slots.local:  # local: capacity is fixed
            self.slots.look_at = time.monotonic() + self.slots.look_every
        else:
            self._look()
        with self._lock:
            self._top_up()

    def _top_up(self) -> None:
        """Start slot jobs until the experiment has as many as it wants (see runner/elastic.py)."""
        if self.scheduler.phase is not Phase.CLOSING:
            self.slots.top_up(self.scheduler.work_left())

    def _look(self) -> None:
        """About once a second: follow the executors, share with waiting job groups (a backend
        whose ``look()`` answers None, Spark Connect's, keeps the slots it planned)."""
        seen = self.slots.look()  # py4j calls: outside the lock, so trials are handed out meanwhile
        with self._lock:
            self.slots.look_at = time.monotonic() + self.slots.look_every
            if seen is None:
                return
            self.slots.see(seen)
            sched = self.scheduler
            self._apply(sched.share(yields(running=len(sched.running) + len(sched.waiting),
                                           capacity=seen.capacity, contenders=seen.contenders)))
            if not sched.finished() and sched.phase is not Phase.CLOSING:
                self._top_up()

    def _wind_down(self, reason: str) -> None:
        """Stop every running trial after an interrupt or abort; record them within ~1 s."""
        with self._lock:
            self._apply(self.scheduler.close(reason))
        deadline = time.monotonic() + 1.0
        with contextlib.suppress(Exception, KeyboardInterrupt):  # results of the cancelled trials
            while self.scheduler.running and time.monotonic() < deadline:
                self._process(deadline - time.monotonic())
        with self._lock:
            self._apply(self.scheduler.abandon_running(reason))

    def _shutdown(self, server: TrialServer) -> None:
        if self.slots.jobs_running and self._state is not ExperimentState.FINISHED:
            self.backend.cancel_all()  # trials still running (interrupt, abort)
        progress = self.settings.progress
        if progress is not None:
            with contextlib.suppress(Exception), self._lock:
                progress.close(self)
        error: BaseException | None = None
        try:  # final records while the tasks wind down
            with self._lock:
                self._recorder.commit()
            self._recorder.close()
            self._write_manifest()
            if self.scheduler.trials:
                self.store.write_parquet(self._trials())
        except Exception as exc:  # noqa: BLE001 - never hide the original error
            error = exc
        finished = self._state is ExperimentState.FINISHED
        self.slots.wind_up(10.0 if finished else 2.0, finished=finished)
        server.close()
        with contextlib.suppress(Exception):
            self.store.remove_control()
        if error is not None:
            if sys.exc_info()[0] is None:
                raise error
            print(f"sparkexp: could not finish writing records: {error}", file=sys.stderr)

    # -- records --------------------------------------------------------------------------------
    def _trials(self) -> list[Trial]:
        return sorted(self.scheduler.trials.values(), key=lambda t: t.index)

    def _manifest(self) -> dict[str, Any]:
        running = self._state is ExperimentState.RUNNING
        return build_manifest(
            name=self.name, search=self.search, fn=self.fn, settings=self.settings,
            metric=self.scheduler.book.metric_name, app_id=self.backend.app_id,
            master=self.backend.master, job_group=self.group, state=self._state,
            abort_reason=self.scheduler.abort_reason, created=self._created, resumed=self._resumed,
            finished=None if running else now(), trials=list(self.scheduler.trials.values()))

    def _write_manifest(self) -> None:
        self.store.write_manifest(self._manifest())


def _task_spec(runner: ExperimentRunner, port: int, secret: str) -> TaskSpec:
    """What each slot task needs (shipped in the Spark closure): where the channel listens, the
    function, and what the task reads from its outputs (every objective's name with several)."""
    settings, objectives = runner.settings, runner.scheduler.book.objectives
    metric = list(objectives.metrics) if objectives is not None else settings.options.main_metric
    return TaskSpec(host=runner.backend.advertised_address(), port=port, secret=secret,
                    fn=runner.fn, metric=metric, project_root=settings.project_root,
                    experiment_path=runner.store.path, echo_output=settings.echo_output,
                    inject_reporter=takes_reporter(runner.fn),
                    local_logdir=settings.options.local_logdir,
                    metric_optional=settings.metric_optional,
                    connect_timeout=runner.backend.connect_timeout)


def _pool(spark: Any, name: str) -> str | None:
    """The FAIR pool of the experiment's slot jobs: the calling thread's, else its own (None on
    Spark Connect: a client has no local properties and cannot pick a pool)."""
    if connect.is_connect(spark):
        return None
    sc = getattr(spark, "sparkContext", spark)
    return str(sc.getLocalProperty("spark.scheduler.pool") or f"sparkexp-{name}")
