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
from sparkexp.runner.resources import TrialResources, spark_conf, with_trial_resources

__all__ = ["SparkContextBackend", "spark_context", "default_parallelism"]

log = logging.getLogger("sparkexp")


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
    """

    def __init__(self, spark: Any, *, group: str, description: str,
                 resources: TrialResources | None = None) -> None:
        self.sc = spark_context(spark)
        self.group = group
        self.description = description
        self.resources = resources
        self.app_id = str(self.sc.applicationId)  # a py4j call: asked once
        self.master = str(self.sc.master)
        self.channel_port = 0
        self.connect_timeout = 30.0

    def _tag(self, slot: int) -> str:
        return f"{self.group}-slot-{slot}"

    def start_slot(self, slot: int, task: SlotTask, on_end: SlotEnded) -> None:
        from pyspark import InheritableThread

        sc, group, tag, resources = self.sc, self.group, self._tag(slot), self.resources
        description = f"{self.description}, slot {slot}"

        def job() -> None:
            error: BaseException | None = None
            try:
                sc.setJobGroup(group, description, interruptOnCancel=True)
                sc.addJobTag(tag)
                rdd = with_trial_resources(sc.parallelize([slot], 1), resources)
                rdd.mapPartitionsWithIndex(task).collect()
            except BaseException as exc:  # noqa: BLE001 - reported to the driver
                error = exc
            on_end(slot, error)

        InheritableThread(target=job, name=f"sparkexp-slot-{slot}", daemon=True).start()

    def stop_slot(self, slot: int) -> None:
        with contextlib.suppress(Exception):
            self.sc.cancelJobsWithTag(self._tag(slot))

    def kill_task(self, task_id: int, reason: str, *, slot: int | None = None) -> bool:
        try:
            return bool(self.sc._jsc.sc().killTaskAttempt(int(task_id), True, reason))
        except Exception:  # noqa: BLE001 - the task may be gone already
            return False

    def cancel_all(self) -> None:
        with contextlib.suppress(Exception):
            self.sc.cancelJobGroup(self.group)

    def capacity(self) -> int:
        return int(self.sc.defaultParallelism)

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
