"""Slot tasks that follow the cluster: how many an experiment wants, and how it shares.

An experiment runs its trials in long-lived slot tasks (one single-task Spark job each). How
many it should have changes over its life: executors register late (one by one, or a worker
joins), are lost and come back, dynamic allocation adds and removes them, fewer trials remain
towards the end, and another experiment (another notebook cell, another thread) may want the
same executors. The driver asks :func:`look` every second or so and :func:`wanted_slots` /
:func:`yields` turn the answer into decisions; Spark does the placing:

* **Static executors** (standalone, YARN without dynamic allocation): as many slot jobs as task
  slots the executors offer now, up to the ceiling (``max_parallel``) and the trials left. A
  later executor's slots get slot jobs at the next look (about a second).
* **Dynamic allocation**: as many slot jobs as the ceiling and the trials left allow, whatever
  runs now: their pending tasks are what makes Spark's ``ExecutorAllocationManager`` ask the
  cluster manager for executors (up to ``spark.dynamicAllocation.maxExecutors``), and executors
  left without a slot task are released after ``spark.dynamicAllocation.executorIdleTimeout``.
* **Sharing**: while another job group waits for task slots, an experiment keeps at most its
  fair share (task slots / job groups that want them) running and ends the others at a trial
  boundary; their replacement jobs queue behind the waiting jobs, so Spark's scheduler (FIFO,
  or FAIR between pools) hands the freed slots over. No trial is ever interrupted for this.

Example:
    >>> wanted_slots(ceiling=8, work=20, capacity=4, dynamic=False)
    4
    >>> wanted_slots(ceiling=8, work=20, capacity=0, dynamic=True)   # pending tasks ask for executors
    8
    >>> wanted_slots(ceiling=None, work=3, capacity=4, dynamic=False)  # fewer trials than slots
    3
    >>> yields(running=4, capacity=4, contenders=1)   # another experiment waits: keep half
    2
    >>> yields(running=2, capacity=4, contenders=0)
    0
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Look", "look", "wanted_slots", "yields", "capacity_of", "group_tasks_running"]

log = logging.getLogger("sparkexp")


@dataclass(frozen=True)
class Look:
    """What the driver sees of the application at one moment."""

    #: trials the registered executors can run at once (with the trials' resources)
    capacity: int
    #: executors registered
    executors: int
    #: job groups other than the experiment's with tasks waiting for a task slot
    contenders: int


def wanted_slots(*, ceiling: int | None, work: int | float, capacity: int, dynamic: bool) -> int:
    """Slot jobs an experiment should have: ceiling, trials left and (static) what is offered."""
    want = work if ceiling is None else min(ceiling, work)
    if not dynamic:
        want = min(want, capacity)
    return max(0, int(want))


def yields(*, running: int, capacity: int, contenders: int) -> int:
    """Running slots to end at their next trial boundary so waiting job groups get a share."""
    if contenders <= 0 or capacity <= 0:
        return 0
    share = max(1, capacity // (contenders + 1))
    return max(0, running - share)


def capacity_of(executors: list[dict[str, Any]], cpus_per_trial: int, gpus_per_trial: float) -> int:
    """Trials that fit at once on ``executors`` (id, cores, gpus as listed by resources)."""
    total = 0
    for e in executors:
        fits = int(e["cores"]) // max(1, cpus_per_trial)
        if gpus_per_trial > 0:
            fits = min(fits, int(len(e["gpus"]) // gpus_per_trial))
        total += fits
    return total


def look(sc: Any, group: str, *, cpus_per_trial: int, gpus_per_trial: float) -> Look:
    """Executors, capacity and contention now (a few py4j calls: meant for about once a second)."""
    from sparkexp.runner.cluster import registered_executors

    if str(sc.master).startswith("local"):  # one executor, the driver: fixed capacity
        return Look(capacity=int(sc.defaultParallelism) // max(1, cpus_per_trial), executors=1,
                    contenders=_contenders(sc, group))
    executors = registered_executors(sc)
    return Look(capacity=capacity_of(executors, cpus_per_trial, gpus_per_trial),
                executors=len(executors), contenders=_contenders(sc, group))


def _contenders(sc: Any, group: str) -> int:
    """Job groups (a job without one counts alone) other than ``group`` with tasks waiting for a
    task slot now.

    Read from the task scheduler's own queue of active task sets, which changes the moment a job
    ends. The UI's status store (the fallback, for a scheduler without that queue) is fed by the
    listener bus: on a busy driver it lags by seconds and keeps jobs whose end events were
    dropped "running" for ever, which made experiments yield slots to jobs long gone (measured:
    one slot of two, late in the test suite's long-lived session)."""
    try:
        return _waiting_task_set_groups(sc, group)
    except Exception as exc:  # noqa: BLE001 - private scheduler API: try the status store
        log.debug("sparkexp: cannot read the task scheduler's queue: %s", exc)
    waiting: set[str] = set()
    try:
        jvm = sc._jvm
        statuses = jvm.java.util.ArrayList()
        statuses.add(jvm.org.apache.spark.JobExecutionStatus.RUNNING)
        jobs = sc._jsc.sc().statusStore().jobsList(statuses)
        for i in range(jobs.size()):
            job = jobs.apply(i)
            owner = job.jobGroup()
            name = str(owner.get()) if owner.isDefined() else f"job {job.jobId()}"
            if name == group:
                continue
            pending = (job.numTasks() - job.numActiveTasks() - job.numCompletedTasks()
                       - job.numSkippedTasks())
            if pending > 0:
                waiting.add(name)
    except Exception as exc:  # noqa: BLE001 - private status API: no sharing rather than a failure
        log.debug("sparkexp: cannot list running jobs: %s", exc)
    return len(waiting)


def _task_sets(sc: Any) -> Iterator[tuple[str, Any]]:
    """``(job group, task set manager)`` of every active task set, walking the task scheduler's
    pools (its sorted queue would list only task sets with tasks still to launch); a job without
    a group is named ``job <priority>``."""
    pools = [sc._jsc.sc().taskScheduler().rootPool()]
    while pools:
        for item in pools.pop().schedulableQueue().toArray():
            if item.getClass().getSimpleName() == "Pool":
                pools.append(item)
            elif not item.isZombie():  # zombie: cancelled or done, launches nothing more
                task_set = item.taskSet()
                properties = task_set.properties()
                owner = properties.getProperty("spark.jobGroup.id") if properties else None
                yield (str(owner) if owner is not None else f"job {task_set.priority()}"), item


def _waiting_task_set_groups(sc: Any, group: str) -> int:
    """Job groups other than ``group`` whose active task sets have tasks not yet running."""
    return len({name for name, manager in _task_sets(sc)
                if name != group and manager.numTasks() - manager.runningTasks() - manager.tasksSuccessful() > 0})


def group_tasks_running(sc: Any, group: str) -> int:
    """Tasks of job group ``group`` running on executors now (launched, not ended)."""
    return sum(int(manager.runningTasks()) for name, manager in _task_sets(sc) if name == group)
