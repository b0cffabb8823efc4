"""The driver loop: keeps up to ``max_parallel`` trials in flight and records every result.

One Spark job of ``max_parallel`` long-lived tasks runs for the whole experiment. Each task
pulls a trial over the channel as soon as it is free, so no slot idles while trials wait, and
there is no per-trial job and no polling: the loop sleeps on an event queue fed by the
connection threads. The loop is the single owner of the search and the records.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import queue
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from sparkexp import __version__
from sparkexp.errors import ExperimentAborted, SparkexpError
from sparkexp.result import Result
from sparkexp.runner import gpus
from sparkexp.runner.recorder import Recorder
from sparkexp.runner.resources import TrialResources, with_trial_resources
from sparkexp.runner.server import Connection, Event, TrialServer
from sparkexp.runner.worker import TaskSpec, run_task
from sparkexp.search import Search
from sparkexp.store import ExperimentStore, now
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
    """How an experiment runs (validated by :mod:`sparkexp.experiment`)."""

    direction: str
    metric: str | None
    max_parallel: int
    project_root: str
    fn_name: str = "fn"
    target: float | None = None
    #: how often a trial may be lost with its executor/worker before it is recorded as an error
    max_lost: int = 2
    #: how often the Spark job may be restarted after it failed (lost workers, local mode)
    max_job_restarts: int = 3
    echo_output: bool = True
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    #: what each trial gets (GPUs, CPUs, resource profile); None: the session's defaults
    resources: TrialResources | None = None


def _missing_module(error: BaseException | None) -> str | None:
    """The module name of a ModuleNotFoundError raised while executors unpickled the task."""
    import re

    found = re.search(r"ModuleNotFoundError: No module named '([^']+)'", str(error or ""))
    return found.group(1) if found else None


class ExperimentRunner:
    """Runs one search on Spark and records it under ``store``."""

    def __init__(self, spark: Any, fn: Any, search: Search, store: ExperimentStore, settings: RunSettings) -> None:
        self.sc = spark_context(spark)
        self.fn = fn
        self.search = search
        self.store = store
        self.settings = settings
        self.sign = -1.0 if settings.direction == "max" else 1.0
        self.metric_name = settings.metric
        self.group = f"sparkexp-{store.path.rstrip('/').rsplit('/', 1)[-1]}-{id(self):x}"
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._trials: dict[str, Trial] = {}
        self._pending: collections.deque[Trial] = collections.deque()
        self._running: dict[str, Connection] = {}
        self._waiting: collections.deque[Connection] = collections.deque()
        self._lost_count: collections.Counter[str] = collections.Counter()
        self._journal: list[dict[str, Any]] = []
        self._dirty: list[Trial] = []
        self._stop_asking = False
        self._jobs_running = 0
        self._job_restarts = 0
        self._created = now()
        self._state = "running"
        self._recorder = Recorder(store)
        self._gpus = gpus.pool_for(settings.resources)

    # -- public -----------------------------------------------------------------------------
    def run(self) -> Result:
        """Run to completion and return the result (records are complete when it returns)."""
        from sparkexp.runner.channel import new_secret

        secret = new_secret()
        server = TrialServer(secret, self._events, bind=self._bind_address())
        spec = TaskSpec(
            host=self._advertised_address(),
            port=server.port,
            secret=secret,
            fn=self.fn,
            metric=self.settings.metric,
            project_root=self.settings.project_root,
            experiment_path=self.store.path,
            echo_output=self.settings.echo_output,
        )
        self._write_manifest()
        try:
            self._start_job(spec)
            self._loop(spec)
            self._state = "finished"
        except KeyboardInterrupt:
            self._state = "interrupted"
            self._stop_running("stopped", "interrupted by the user (KeyboardInterrupt)")
            raise
        except BaseException:
            self._state = "aborted"
            self._stop_running("stopped", "the experiment was aborted")
            raise
        finally:
            self._shutdown(server)
        return self.result()

    def result(self) -> Result:
        """The experiment's result as recorded so far."""
        return Result(
            path=self.store.path,
            trials=sorted(self._trials.values(), key=lambda t: t.index),
            direction=self.settings.direction,
            metric=self.metric_name or "metric",
            manifest=self._manifest(),
        )

    # -- the loop ---------------------------------------------------------------------------
    def _loop(self, spec: TaskSpec) -> None:
        while not self._finished():
            self._dispatch()
            self._flush()
            if self._finished():
                break
            batch = [self._events.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < 256:
                    batch.append(self._events.get_nowait())
            for event in batch:
                self._handle(event, spec)

    def _finished(self) -> bool:
        exhausted = self._stop_asking or self.search.is_finished()
        return exhausted and not self._pending and not self._running

    def _handle(self, event: Event, spec: TaskSpec) -> None:
        conn = event.conn
        if event.kind == "next" and conn is not None:
            result = event.payload.get("result")
            if isinstance(result, dict):
                self._complete(conn, result)
            self._waiting.append(conn)
        elif event.kind == "lost" and conn is not None:
            with contextlib.suppress(ValueError):
                self._waiting.remove(conn)
            if conn.trial_id is not None:
                self._lost(conn)
        elif event.kind == "job_end":
            self._jobs_running -= 1
            error = event.payload
            if not self._finished() and self._jobs_running == 0:
                missing = _missing_module(error)
                if missing:
                    raise ExperimentAborted(
                        f"executors cannot import module '{missing}' needed by "
                        f"{self.settings.fn_name}(): install it in the executors' Python, or ship "
                        "it with spark-submit --py-files / spark.sparkContext.addPyFile(...)"
                    )
                if self._job_restarts >= self.settings.max_job_restarts:
                    raise ExperimentAborted(
                        f"the Spark job running the trials failed {self._job_restarts + 1} times; last error: {error}"
                    )
                self._job_restarts += 1
                log.warning("sparkexp: trial job ended early (%s); starting a new one", error)
                self._start_job(spec)

    def _dispatch(self) -> None:
        while self._waiting and len(self._running) < self.settings.max_parallel:
            trial = self._next_trial()
            if trial is None:
                break
            conn = self._waiting.popleft()
            conn.trial_id = trial.id
            self._running[trial.id] = conn
            trial.status = "running"
            trial.host = conn.hello.get("host")
            trial.executor = conn.hello.get("executor")
            self._journal.append(
                {"e": "start", "id": trial.id, "t": now(), "host": trial.host,
                 "executor": trial.executor, "attempt": trial.attempt}
            )
            conn.replies.put({"op": "trial", "id": trial.id, "index": trial.index,
                              "params": trial.params, "logdir": trial.logdir, "attempt": trial.attempt,
                              **self._gpus.message(trial.id)})
        if self._finished():
            while self._waiting:
                self._waiting.popleft().replies.put({"op": "stop"})
        elif self._waiting and not self._running and not self._pending:
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
        trial = Trial(id=tid, index=cand.key, params=dict(cand.params), status="queued",
                      logdir=self.store.trial_dir(tid))
        self._trials[tid] = trial
        self._journal.append({"e": "trial", "id": tid, "index": cand.key, "params": trial.params,
                              "logdir": trial.logdir, "t": now()})
        return trial

    def _complete(self, conn: Connection, result: dict[str, Any]) -> None:
        tid = result.get("id")
        if tid != conn.trial_id or tid not in self._trials:
            log.warning("sparkexp: ignoring a result for %r from %s", tid, conn.describe())
            return
        conn.trial_id = None
        self._running.pop(tid, None)
        self._gpus.release(tid)
        trial = self._trials[tid]
        trial.status = str(result.get("status", "error"))
        trial.error = result.get("error")
        trial.outputs = result.get("outputs") or {}
        trial.metric = result.get("metric") if trial.status == "complete" else None
        trial.started = result.get("started")
        trial.finished = result.get("finished")
        trial.host = result.get("host", trial.host)
        trial.executor = result.get("executor", trial.executor)
        trial.gpus = list(result.get("gpus") or [])
        trial.pid = result.get("pid")
        if self.metric_name is None and result.get("metric_name"):
            self.metric_name = str(result["metric_name"])
        self._record(trial)

    def _record(self, trial: Trial) -> None:
        loss = None if trial.metric is None else self.sign * float(trial.metric)
        self.search.tell(trial.index, loss, trial.status)
        self._journal.append({"e": "result", "id": trial.id, "trial": trial.to_dict()})
        self._dirty.append(trial)
        target = self.settings.target
        if target is not None and trial.metric is not None and self.sign * (trial.metric - target) <= 0:
            self._stop_asking = True

    def _lost(self, conn: Connection) -> None:
        tid = conn.trial_id
        conn.trial_id = None
        if tid is None or tid not in self._running:
            return
        del self._running[tid]
        self._gpus.release(tid)
        trial = self._trials[tid]
        self._lost_count[tid] += 1
        if self._lost_count[tid] >= self.settings.max_lost:
            trial.status = "error"
            trial.finished = now()
            trial.error = (
                f"the Python worker running this trial died {self._lost_count[tid]} times without "
                f"returning (last on {conn.describe()}): killed by the OS (out of memory?), "
                "os._exit/segfault in the function, or its executor was lost"
            )
            self._record(trial)
        else:
            log.warning("sparkexp: %s lost with %s; running it again", tid, conn.describe())
            trial.attempt += 1
            trial.status = "queued"
            self._pending.appendleft(trial)

    def _stop_running(self, status: str, reason: str) -> None:
        for tid in list(self._running):
            self._gpus.release(tid)
            trial = self._trials[tid]
            trial.status = status
            trial.finished = now()
            trial.error = reason
            self._journal.append({"e": "result", "id": tid, "trial": trial.to_dict()})
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
        return {
            "name": self.store.path.rstrip("/").rsplit("/", 1)[-1],
            "strategy": self.search.name,
            "search": self.search.settings(),
            "function": self.settings.fn_name,
            "direction": self.settings.direction,
            "metric": self.metric_name,
            "max_parallel": self.settings.max_parallel,
            "target": self.settings.target,
            "project_root": self.settings.project_root,
            "app_id": self.sc.applicationId,
            "master": self.sc.master,
            "versions": {"sparkexp": __version__, "pyspark": spark_version,
                         "python": platform.python_version()},
            "state": self._state,
            "created": self._created,
            "finished": None if self._state == "running" else now(),
            "counts": dict(counts),
            **self.settings.manifest_extra,
        }

    def _write_manifest(self) -> None:
        self.store.write_manifest(self._manifest())

    # -- Spark ------------------------------------------------------------------------------
    def _bind_address(self) -> str:
        conf = self.sc.getConf()
        if str(self.sc.master).startswith("local"):
            return "127.0.0.1"
        return str(conf.get("spark.driver.bindAddress", None) or conf.get("spark.driver.host", "0.0.0.0"))

    def _advertised_address(self) -> str:
        if str(self.sc.master).startswith("local"):
            return "127.0.0.1"
        return str(self.sc.getConf().get("spark.driver.host", "127.0.0.1"))

    def _start_job(self, spec: TaskSpec) -> None:
        from pyspark import InheritableThread

        remaining = self.search.total
        n_tasks = self.settings.max_parallel
        if remaining is not None:
            done = sum(1 for t in self._trials.values() if t.done)
            n_tasks = max(1, min(n_tasks, remaining - done))
        sc = self.sc
        group = self.group
        events = self._events
        resources = self.settings.resources
        description = f"sparkexp {self.store.path.rstrip('/').rsplit('/', 1)[-1]}: {self.settings.fn_name}"

        def job() -> None:
            error: BaseException | None = None
            try:
                sc.setJobGroup(group, description, interruptOnCancel=True)
                rdd = with_trial_resources(sc.parallelize(range(n_tasks), n_tasks), resources)
                rdd.mapPartitionsWithIndex(functools.partial(run_task, spec)).collect()
            except BaseException as exc:  # noqa: BLE001 - reported to the loop
                error = exc
            events.put(Event("job_end", payload=error))

        self._jobs_running += 1
        InheritableThread(target=job, name="sparkexp-job", daemon=True).start()

    def _shutdown(self, server: TrialServer) -> None:
        for conn in list(self._waiting):
            conn.replies.put({"op": "stop"})
        self._waiting.clear()
        if self._jobs_running:
            deadline = time.monotonic() + 10.0
            # trials still running (interrupt, abort): cancel their Spark job
            if self._state != "finished":
                with contextlib.suppress(Exception):
                    self.sc.cancelJobGroup(self.group)
            while self._jobs_running and time.monotonic() < deadline:
                try:
                    event = self._events.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if event.kind == "job_end":
                    self._jobs_running -= 1
                elif event.kind == "next" and event.conn is not None:
                    event.conn.replies.put({"op": "stop"})
        server.close()
        try:
            self._flush()
            self._recorder.close()
            self._write_manifest()
            if self._trials:
                self.store.write_parquet(sorted(self._trials.values(), key=lambda t: t.index))
        except Exception as exc:  # noqa: BLE001 - never hide the original error
            print(f"sparkexp: could not finish writing records: {exc}", file=sys.stderr)
            if sys.exc_info()[0] is None:
                raise

