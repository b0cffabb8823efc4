"""The classic :class:`~sparkexp.runner.backend.Backend`: slots as jobs of a SparkContext.

One single-task Spark job per trial slot, all in the experiment's job group (each also tagged
with its own slot, so one slot can be cancelled alone). A job per slot rather than one job of
``max_parallel`` tasks: when a trial kills its Python worker (out of memory, a segfault), only
that slot's job fails (in ``local[N]`` a single task failure fails its whole job), so the
trials in the other slots run on undisturbed, the loss is charged to the right trial, and only
that slot restarts.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from sparkexp.runner.backend import SlotEnded, SlotTask
from sparkexp.runner.cluster import spark_conf
from sparkexp.runner.elastic import Look, group_tasks_running, look
from sparkexp.runner.resources import TrialResources, with_trial_resources

__all__ = ["SparkContextBackend", "spark_context", "default_parallelism"]

log = logging.getLogger("sparkexp")

#: the local property naming a job's FAIR scheduler pool
_POOL = "spark.scheduler.pool"


def spark_context(spark: Any) -> Any:
    """The SparkContext of a SparkSession (or the SparkContext itself)."""
    return getattr(spark, "sparkContext", spark)


def default_parallelism(spark: Any) -> int:
    """Task slots the session offers (Spark's default parallelism)."""
    return int(spark_context(spark).defaultParallelism)


class SparkContextBackend:
    """Slots as single-task jobs on a classic SparkContext (py4j).

    Args:
        spark: A SparkSession or SparkContext.
        group: The experiment's job group (every slot job is in it).
        description: Job description prefix; `` slot <k>`` is appended (the Spark UI shows it).
        resources: The trial resources plan (a stage-level resource profile, if it needs one).
        pool: The FAIR scheduler pool of the slot jobs (None: the calling thread's
            ``spark.scheduler.pool``, else the group's name; FIFO mode ignores pools).
    """

    def __init__(self, spark: Any, *, group: str, description: str,
                 resources: TrialResources | None = None, pool: str | None = None) -> None:
        self.sc = spark_context(spark)
        self.group = group
        self.description = description
        self.resources = resources
        self.pool = pool or self.sc.getLocalProperty(_POOL) or group
        #: each slot's job thread, and the slots whose job reported its end
        self._threads: dict[int, Any] = {}
        self._ended: set[int] = set()
        self.app_id = str(self.sc.applicationId)  # a py4j call: asked once
        self.master = str(self.sc.master)
        self.channel_port = 0
        self.connect_timeout = 30.0

    def _tag(self, slot: int) -> str:
        return f"{self.group}-slot-{slot}"

    def start_slot(self, slot: int, task: SlotTask, on_end: SlotEnded) -> None:
        from pyspark import InheritableThread

        sc, group, tag, resources, pool = self.sc, self.group, self._tag(slot), self.resources, self.pool
        description = f"{self.description}, slot {slot}"

        def job() -> None:
            error: BaseException | None = None
            try:
                # no thread interrupts (see kill_task): cancelling marks the task killed and
                # PySpark ends its Python worker
                sc.setJobGroup(group, description, interruptOnCancel=False)
                sc.setLocalProperty(_POOL, pool)  # FAIR scheduling: a pool per experiment
                sc.addJobTag(tag)
                rdd = with_trial_resources(sc.parallelize([slot], 1), resources)
                rdd.mapPartitionsWithIndex(task).collect()
            except BaseException as exc:  # noqa: BLE001 - reported to the driver
                error = exc
            ended.add(slot)
            on_end(slot, error)

        ended = self._ended
        ended.discard(slot)
        thread = InheritableThread(target=job, name=f"sparkexp-slot-{slot}", daemon=True)
        self._threads[slot] = thread
        thread.start()

    def join_ended(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s each) for the threads of slots whose job ended to exit."""
        for slot, thread in list(self._threads.items()):
            if slot in self._ended:
                thread.join(timeout)

    def stop_slot(self, slot: int) -> None:
        with contextlib.suppress(Exception):
            self.sc.cancelJobsWithTag(self._tag(slot))

    def kill_task(self, task_id: int, reason: str, *, slot: int | None = None) -> bool:
        try:
            # interruptThread=False: marked killed, the task's Python worker is ended by PySpark's
            # monitor after spark.python.task.killTimeout and the task ends on its EOF. An
            # interrupted task thread would instead spin in Spark 4's Python-runner socket
            # selector (a full core) for those seconds: an interrupt is never cleared there.
            return bool(self.sc._jsc.sc().killTaskAttempt(int(task_id), False, reason))
        except Exception:  # noqa: BLE001 - the task may be gone already
            return False

    def cancel_all(self) -> None:
        with contextlib.suppress(Exception):
            self.sc.cancelJobGroup(self.group)

    def capacity(self) -> int:
        return self.look().capacity

    def tasks_running(self) -> int | None:
        """The experiment's slot tasks running on executors now (launched, not ended); None
        when the task scheduler cannot be read."""
        try:
            return group_tasks_running(self.sc, self.group)
        except Exception as exc:  # noqa: BLE001 - private scheduler API: the caller cancels
            log.debug("sparkexp: cannot read the task scheduler's queue: %s", exc)
            return None

    def look(self) -> Look:
        """Capacity for the trials' resources, executors, job groups waiting for task slots."""
        plan = self.resources
        return look(self.sc, self.group, cpus_per_trial=plan.task_cpus if plan else 1,
                    gpus_per_trial=plan.task_gpus if plan else 0.0)

    def bind_address(self) -> str:
        if self.master.startswith("local"):
            return "127.0.0.1"
        conf = spark_conf(self.sc)
        return str(conf.get("spark.driver.bindAddress", None) or conf.get("spark.driver.host", "0.0.0.0"))

    def advertised_address(self) -> str:
        if self.master.startswith("local"):
            return "127.0.0.1"
        return str(spark_conf(self.sc).get("spark.driver.host", "127.0.0.1"))

    def missing_module(self, error: BaseException | None) -> str | None:
        found = re.search(r"ModuleNotFoundError: No module named '([^']+)'", str(error or ""))
        return found.group(1) if found else None

    def unreachable(self, error: BaseException | None) -> str | None:
        found = re.search(r"DriverUnreachable: ([^\n]+)", str(error or ""))
        if found is None:
            return None
        return (f"{found.group(1).strip()}; set spark.driver.host to an address of this machine "
                "that executors can reach")
