"""Trial slots as tagged single-task DataFrame jobs: the backend of every Spark Connect session.

Each slot is one job, ``spark.range(1, numPartitions=1).mapInArrow(slot_body, ...)``, whose
Python function runs the slot task's loop (:func:`~sparkexp.runner.worker.run_task`) and
connects back to the trial channel in the client process. Every slot job carries two job tags,
the experiment's and its own, so ``interruptTag`` cancels the whole experiment or kills exactly
one stuck trial (its slot job is then started again, as Spark reschedules a killed task
attempt on a classic session). Per-trial GPUs and CPUs travel in the job's stage-level resource
profile (``mapInArrow(..., profile=...)``). The session side (detecting a Connect session,
its conf, what it offers) is :mod:`sparkexp.runner.connect`.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

from sparkexp.errors import ConfigError, DriverUnreachable
from sparkexp.runner.backend import SlotEnded, SlotTask
from sparkexp.runner.connect import (
    CLIENT_HOST_CONF,
    CLIENT_HOST_ENV,
    CLIENT_PORT_CONF,
    CLIENT_PORT_ENV,
    CONNECT_TIMEOUT_CONF,
    conf_get,
    conf_snapshot,
    default_parallelism,
    is_connect,
    is_local_host,
    route_address,
    session_app_id,
    session_master,
)

__all__ = ["DataFrameSlots"]


def _slot_body(task: SlotTask, slot: int, batches: Iterator[Any]) -> Iterator[Any]:
    """The Python function of a slot job: the worker loop ``task``, then one row (trials run,
    error)."""
    import pyarrow as pa

    done, unreachable = 0, ""
    try:
        for count in task(slot, batches):
            done = int(count)
    except DriverUnreachable as exc:
        # a row, not a task failure: Spark would retry the task (and wait again) 4 times
        unreachable = str(exc)
    yield pa.RecordBatch.from_pydict({"done": [done], "unreachable": [unreachable]})


def _slot_schema() -> Any:
    """The row a slot job returns, as a StructType: a DDL string would cost a round trip to the
    server (it parses it) for each slot job."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType([StructField("done", LongType()), StructField("unreachable", StringType())])


class DataFrameSlots:
    """Trial slots as tagged single-task DataFrame jobs (every Spark Connect session).

    Shaped as the runner's slot backend: ``start_slot(slot, task, on_end)``, ``stop_slot``,
    ``kill_task``, ``cancel_all``, ``capacity``, ``bind_address``/``advertised_address``,
    ``missing_module``, ``app_id`` and ``master``; ``look()`` answers None (a Connect client
    cannot list executors or other applications' waiting jobs, so the experiment keeps the
    slots it planned: no elastic top-up, no yielding) and ``join_ended`` waits for the threads
    of ended slots.

    Args:
        spark: The Connect session (or a classic one, with ``spark.sparkexp.slotJobs=dataframe``).
        group: The experiment's job tag (cancels every slot job at once).
        resources: The trial plan (its resource profile, if it needs one).
        pool: Kept for the record only: a Connect client cannot choose its jobs' FAIR scheduler
            pool (the server's ``spark.scheduler.pool`` applies).
    """

    def __init__(self, spark: Any, *, group: str, resources: Any = None,
                 pool: str | None = None) -> None:
        self.spark = spark
        self.group = group
        self.pool = pool
        #: each slot's thread, and the slots whose job reported its end
        self._threads: dict[int, threading.Thread] = {}
        self._ended: set[int] = set()
        self._lock = threading.Lock()
        self._closing = False
        #: slot -> the job tag of its current job, and the slots killed on purpose
        self._tags: dict[int, str] = {}
        self._killed: set[str] = set()
        self._counter = itertools.count()
        self.remote = is_connect(spark)
        # the session's conf, read once (each key would be a round trip to the server)
        self._conf = conf_snapshot(spark) if self.remote else None
        self.master = session_master(spark, self._conf)
        self.app_id = session_app_id(spark, self._conf)
        self._profile = _trial_profile(resources)
        #: seconds a slot task keeps trying to reach the channel (Connect: configurable)
        self.connect_timeout = float((conf_get(spark, CONNECT_TIMEOUT_CONF, self._conf)
                                      if self.remote else None) or 30.0)
        #: the channel's port (0: any free one)
        self.channel_port = self.port() if self.remote else 0

    # -- addresses ----------------------------------------------------------------------------
    def _server_address(self) -> tuple[str, int]:
        """Host and port of the Connect server (a Connect session only)."""
        client = self.spark.client
        host = str(getattr(client, "host", "") or "localhost")
        builder = getattr(client, "_builder", None)
        port = int(getattr(builder, "_port", 0) or 15002)
        return host, port

    @property
    def server_is_local(self) -> bool:
        """The Connect server runs on this machine (its executors reach us on loopback)."""
        return is_local_host(self._server_address()[0])

    def advertised_address(self) -> str:
        """The address slot tasks connect to (see the module docstring)."""
        if not self.remote:
            return _classic_address(self.spark, bind=False)
        configured = os.environ.get(CLIENT_HOST_ENV) or conf_get(self.spark, CLIENT_HOST_CONF, self._conf)
        if configured:
            return configured
        if self.server_is_local:
            return "127.0.0.1"
        return route_address(*self._server_address())

    def bind_address(self) -> str:
        """Where the trial channel listens."""
        if not self.remote:
            return _classic_address(self.spark, bind=True)
        configured = os.environ.get(CLIENT_HOST_ENV) or conf_get(self.spark, CLIENT_HOST_CONF, self._conf)
        if self.server_is_local and not configured:
            return "127.0.0.1"
        return "0.0.0.0"

    def port(self) -> int:
        """A fixed channel port if one is configured, else 0 (any free port)."""
        value = os.environ.get(CLIENT_PORT_ENV) or conf_get(self.spark, CLIENT_PORT_CONF, self._conf)
        if not value:
            return 0
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise ConfigError(f"{CLIENT_PORT_CONF} / {CLIENT_PORT_ENV} must be a port number, got {value!r}")
        return int(value)

    def describe_setting(self) -> str:
        """How to point executors at another address (for error messages)."""
        return (f"set {CLIENT_HOST_CONF} (spark.conf.set) or {CLIENT_HOST_ENV} to an address of "
                "this machine that executors can reach, or run the client where they can reach "
                "it (on Databricks: a notebook on the cluster's driver node)")

    # -- slot jobs ----------------------------------------------------------------------------
    def start_slot(self, slot: int, task: SlotTask, on_end: SlotEnded) -> None:
        """Submit slot ``slot``'s job running ``task`` and return; ``on_end(slot, error)`` is
        called once when it ends (not when it was killed on purpose and started again)."""
        thread = threading.Thread(target=self._run_slot, args=(slot, task, on_end),
                                  name=f"sparkexp-slot-{slot}", daemon=True)
        with self._lock:
            self._ended.discard(slot)
            self._threads[slot] = thread
        thread.start()

    def join_ended(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s each) for the threads of slots whose job ended to exit."""
        with self._lock:
            ended = [t for slot, t in self._threads.items() if slot in self._ended]
        for thread in ended:
            thread.join(timeout)

    @staticmethod
    def look() -> None:
        """None: the executors cannot be seen from here, so slots do not follow them."""
        return None

    def _run_slot(self, slot: int, task: SlotTask, on_end: SlotEnded) -> None:
        error: BaseException | None = None
        try:
            self.spark.addTag(self.group)  # tags belong to this thread's operations
            while True:
                tag = f"{self.group}-slot{slot}-{next(self._counter)}"
                with self._lock:
                    self._tags[slot] = tag
                error = self._run_job(slot, task, tag)
                with self._lock:
                    killed = tag in self._killed
                    self._killed.discard(tag)
                    restart = killed and not self._closing
                if not restart:
                    break
                # killed on purpose (a stuck trial): a fresh task serves the slot, as Spark
                # reschedules a killed task attempt on a classic session
        except BaseException as exc:  # noqa: BLE001 - reported to the driver
            error = exc
        finally:
            with contextlib.suppress(Exception):
                self.spark.removeTag(self.group)
        with self._lock:
            self._ended.add(slot)
        on_end(slot, error)

    def _run_job(self, slot: int, task: SlotTask, tag: str) -> BaseException | None:
        """One slot job, tagged ``tag``; what ended it (None: the task was told to stop)."""
        spark = self.spark
        spark.addTag(tag)
        try:
            frame = spark.range(1, numPartitions=1)
            body = functools.partial(_slot_body, task, slot)
            schema = _slot_schema()
            mapped = (frame.mapInArrow(body, schema, profile=self._profile)
                      if self._profile is not None else frame.mapInArrow(body, schema))
            unreachable = next((r["unreachable"] for r in mapped.collect() if r["unreachable"]), None)
            return DriverUnreachable(unreachable) if unreachable else None
        except BaseException as exc:  # noqa: BLE001 - reported to the driver
            return exc
        finally:
            with contextlib.suppress(Exception):
                spark.removeTag(tag)

    def stop_slot(self, slot: int) -> None:
        """Cancel slot ``slot``'s job (not started again; its ``on_end`` follows)."""
        with self._lock:
            tag = self._tags.get(slot)
        if tag is not None:
            with contextlib.suppress(Exception):
                self.spark.interruptTag(tag)

    def kill_task(self, task_id: int | None, reason: str, *, slot: int | None = None) -> bool:
        """Kill the task running a trial that ignored its stop: a DataFrame job's task cannot
        be killed alone, so its slot's job is cancelled and started again (a fresh task serves
        the slot, as Spark reschedules a killed task attempt). False if the slot has no job."""
        if slot is None:
            return False
        with self._lock:
            tag = self._tags.get(slot)
            if tag is None or self._closing:
                return False
            self._killed.add(tag)
        interrupted = self.spark.interruptTag(tag)
        return bool(interrupted)

    def cancel_all(self) -> None:
        """Cancel every slot job of the experiment (they are not started again)."""
        with self._lock:
            self._closing = True
        with contextlib.suppress(Exception):
            self.spark.interruptTag(self.group)

    def capacity(self) -> int:
        """Trial slots the session offers (Spark's default parallelism, read without a
        SparkContext)."""
        return default_parallelism(self.spark, self.master)

    def unreachable(self, error: BaseException | None) -> str | None:
        """One line naming the address a slot task could not reach and the setting that
        changes it, when that is why its job ended."""
        if isinstance(error, DriverUnreachable):
            text = str(error)
        else:
            found = re.search(r"DriverUnreachable: ([^\n]+)", str(error or ""))
            if found is None:
                return None
            text = found.group(1).strip()
        how = (self.describe_setting() if self.remote else
               "set spark.driver.host to an address of this machine that executors can reach")
        return f"{text}; {how}"

    @staticmethod
    def missing_module(error: BaseException | None) -> str | None:
        """The module executors could not import, when a slot job's error says so."""
        found = re.search(r"ModuleNotFoundError: No module named '([^']+)'", str(error or ""))
        return found.group(1) if found else None

    def close(self) -> None:
        """No more restarts: slot jobs end when their tasks are told to stop."""
        with self._lock:
            self._closing = True


def _classic_address(spark: Any, *, bind: bool) -> str:
    """A classic session's channel address (as its RDD backend computes it)."""
    from sparkexp.runner.cluster import spark_conf

    sc = getattr(spark, "sparkContext", spark)
    if str(sc.master).startswith("local"):
        return "127.0.0.1"
    conf = spark_conf(sc)
    if bind:
        return str(conf.get("spark.driver.bindAddress", None) or conf.get("spark.driver.host", "0.0.0.0"))
    return str(conf.get("spark.driver.host", "127.0.0.1"))


def _trial_profile(plan: Any) -> Any:
    """The stage-level resource profile of the trial jobs (None: the session's defaults)."""
    if plan is None or not plan.use_profile:
        return None
    from sparkexp.runner.resources import trial_profile

    profile = trial_profile(plan)
    _ = profile.id  # registered with the server now, from the session's thread
    return profile
