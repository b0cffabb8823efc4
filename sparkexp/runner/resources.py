"""What each trial gets and how many run at once, planned against what the session offers.

:func:`plan_trials` turns an experiment's request (``max_parallel``, ``gpus_per_trial``,
``cpus_per_trial``) into :class:`TrialResources`, failing before anything starts when the
request can never be met (it would otherwise wait forever), and :func:`with_trial_resources`
applies it to the trial job with stage-level scheduling. What the session offers is read by
:mod:`sparkexp.runner.cluster` (:func:`inspect_session`, :class:`ClusterInfo`; re-exported
here, where callers have always found them).

Example:
    >>> parse_memory("512m"), parse_memory("4g"), parse_memory(2048)
    ('512m', '4g', '2048m')
    >>> memory_mib("4g")
    4096
    >>> parse_memory("4gb")
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: memory must be a whole number with an optional unit k, m, g or t (like '512m' or '4g'), got '4gb'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.runner.cluster import (
    ClusterInfo,
    check_workers,
    conf_int,
    executor_ask,
    inspect_session,
    memory_mib,
    parse_memory,
    registered_executors,
    session_conf,
    spark_conf,
    task_slots,
    worker_fit,
    worker_offers,
)
from sparkexp.validate import whole_number

__all__ = [
    "check_picklable",
    "parse_memory",
    "memory_mib",
    "ClusterInfo",
    "TrialResources",
    "inspect_session",
    "plan_trials",
    "registered_executors",
    "session_conf",
    "trial_profile",
    "with_trial_resources",
    "worker_fit",
    "worker_offers",
    "executor_ask",
    "check_workers",
    "spark_conf",
]

log = logging.getLogger("sparkexp")


def check_picklable(fn: Any) -> None:
    """Fail early, with the function's name, if Spark cannot ship ``fn`` to executors."""
    from pyspark import cloudpickle

    try:
        cloudpickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means the same to the user
        name = getattr(fn, "__name__", repr(fn))
        raise ConfigError(
            f"{name}() cannot be sent to executors: {type(exc).__name__}: {exc}. "
            "Move unpicklable objects (open files, sockets, locks, SparkSession) inside the function"
        ) from exc


def _count(name: str, value: Any, *, minimum: int) -> int | None:
    return None if value is None else whole_number(name, value, minimum=minimum, none_ok=True)


@dataclass(frozen=True)
class TrialResources:
    """Resources of each trial and how many run at once (see :func:`plan_trials`)."""

    #: trials at once when the experiment starts
    max_parallel: int
    gpus_per_trial: int | None = None
    cpus_per_trial: int | None = None
    #: hard ceiling on trials at once (``max_parallel`` given, or what local mode fits, or the
    #: planned count with dynamic allocation); None: as many as the executors offer over time
    ceiling: int | None = None
    #: dynamic allocation: slot jobs need not wait for capacity (their tasks ask for executors)
    dynamic: bool = False
    #: CPUs and GPUs one trial takes from an executor (what counts the capacity)
    task_cpus: int = 1
    task_gpus: float = 0.0
    #: local mode: the GPU ids the driver hands to trials (empty: Spark assigns GPUs, or none)
    local_gpus: tuple[str, ...] = ()
    #: apply a stage-level resource profile to the trial job
    use_profile: bool = False
    #: the profile also asks for executors (dynamic allocation on)
    executor_profile: bool = False
    executor_memory: str | None = None
    executor_cores: int | None = None
    discovery_script: str | None = None
    summary: str = ""



# -- planning an experiment ----------------------------------------------------------------------
def plan_trials(
    spark: Any,
    *,
    max_parallel: int | None = None,
    gpus_per_trial: int | None = None,
    cpus_per_trial: int | None = None,
    info: ClusterInfo | None = None,
) -> TrialResources:
    """Decide what each trial gets and how many run at once; fail fast on impossible requests.

    ``None`` keeps the session's defaults (``spark.task.cpus``, ``spark.task.resource.gpu.amount``,
    and in local sessions made by :func:`sparkexp.session` its ``task_gpus``).

    Raises:
        ConfigError: more GPUs or CPUs per trial than any executor has, GPUs per trial on a
            session without GPUs, bad values.

    Example:
        >>> plan = plan_trials(spark, gpus_per_trial=1)                           # doctest: +SKIP
        >>> plan.max_parallel, plan.use_profile                                   # doctest: +SKIP
        (4, True)
    """
    gpus = _count("gpus_per_trial", gpus_per_trial, minimum=0)
    cpus = _count("cpus_per_trial", cpus_per_trial, minimum=1)
    parallel = _count("max_parallel", max_parallel, minimum=1)
    info = info if info is not None else inspect_session(spark)
    conf = session_conf(spark)
    if parallel is None:
        parallel = info.max_parallel
    if gpus is None and info.mode == "local":
        default = conf.get("spark.sparkexp.gpusPerTrial", None)
        gpus = int(default) if default else None
    if info.mode == "local":
        return _plan_local(info, parallel, gpus, cpus)
    return _plan_cluster(info, conf, parallel, gpus, cpus)


def _finish(info: ClusterInfo, slots: int, parallel: int | None, what: str) -> tuple[int, str]:
    if parallel is None:
        parallel = max(1, slots)
        if info.mode != "local" and not info.dynamic_allocation:
            return parallel, (f"{info.summary()}; {what} -> max_parallel={parallel} now, more as "
                              "executors register")
    elif parallel > slots and info.mode == "local":
        log.warning("sparkexp: max_parallel=%d is more than the %d trial slots of this session "
                    "(%s); at most %d trials will run at once", parallel, slots, info.summary(), slots)
    elif parallel > slots and not info.dynamic_allocation:
        log.warning("sparkexp: max_parallel=%d is more than the %d trial slots of this session "
                    "now (%s); more trials run as executors register", parallel, slots, info.summary())
    return parallel, f"{info.summary()}; {what} -> max_parallel={parallel}"


def _plan_local(info: ClusterInfo, parallel: int | None, gpus: int | None,
                cpus: int | None) -> TrialResources:
    cores = sum(info.executor_cores.values())
    if cpus is not None and cpus > cores:
        raise ConfigError(f"cpus_per_trial={cpus} but this {info.master} session has {cores} cores")
    cap = cores // (cpus or info.task_cpus)
    handout: tuple[str, ...] = ()
    if gpus:
        if not info.local_gpus:
            raise ConfigError(
                f"gpus_per_trial={gpus} but this {info.master} session has no GPUs: no "
                "spark.driver.resource.gpu.* resources, no GPU discovery script in the conf and "
                "no nvidia-smi (sparkexp.session(executor_gpus=N, gpu_discovery_script=...) sets them)")
        if gpus > len(info.local_gpus):
            raise ConfigError(f"gpus_per_trial={gpus} but this machine has {len(info.local_gpus)} "
                              f"GPUs ({', '.join(info.local_gpus)})")
        cap = min(cap, len(info.local_gpus) // gpus)
        handout = tuple(info.local_gpus)
    if parallel is not None and parallel > cap:
        log.warning("sparkexp: max_parallel=%d but %s fits %d trials of %s at once; running %d",
                    parallel, info.master, cap, _what(gpus, cpus), cap)
        parallel = cap
    parallel, summary = _finish(info, cap, parallel, f"trials get {_what(gpus, cpus)}")
    return TrialResources(max_parallel=parallel, gpus_per_trial=gpus or None,
                          cpus_per_trial=cpus, local_gpus=handout, summary=summary,
                          ceiling=parallel, task_cpus=cpus or info.task_cpus)


def _what(gpus: float | None, cpus: int | None) -> str:
    return f"{cpus or 1} CPU(s), {gpus or 0:g} GPU(s)"


def _plan_cluster(info: ClusterInfo, conf: Any, parallel: int | None, gpus: int | None,
                  cpus: int | None) -> TrialResources:
    exec_cores = min(info.executor_cores.values()) if info.executor_cores else \
        conf_int(conf, "spark.executor.cores", 1)
    if gpus and not info.executor_gpus:
        raise ConfigError(
            f"gpus_per_trial={gpus} but the executors of {info.master} have no GPUs: start the "
            "session with spark.executor.resource.gpu.amount (and a discovery script), e.g. "
            "sparkexp.session(master, executor_gpus=2)")
    if gpus and gpus > info.executor_gpus:
        raise ConfigError(
            f"gpus_per_trial={gpus} but each executor of {info.master} has {info.executor_gpus} "
            f"GPUs, so no trial could ever start; ask for at most {info.executor_gpus}, or start "
            "executors with more GPUs (spark.executor.resource.gpu.amount)")
    if cpus and info.executor_cores and cpus > exec_cores:
        raise ConfigError(
            f"cpus_per_trial={cpus} but executors of {info.master} have {exec_cores} cores; ask for "
            "at most that many, or raise spark.executor.cores")
    task_gpus = info.task_gpus if gpus is None else gpus
    task_cpus = info.task_cpus if cpus is None else cpus
    use_profile = (gpus is not None and gpus != info.task_gpus) or \
        (cpus is not None and cpus != info.task_cpus)
    if use_profile:
        if info.executors:
            slots = sum(task_slots(c, len(info.gpu_addresses.get(e, [])) or info.executor_gpus,
                               task_cpus, task_gpus) for e, c in info.executor_cores.items())
        else:
            slots = max(1, info.slots // max(1, task_cpus // max(1, info.task_cpus)))
    else:
        slots = info.slots
    given = parallel
    parallel, summary = _finish(info, slots, parallel, f"trials get {_what(task_gpus, task_cpus)}")
    return TrialResources(
        max_parallel=min(parallel, max(1, slots)) if not info.dynamic_allocation else parallel,
        ceiling=given if given is not None or not info.dynamic_allocation else parallel,
        dynamic=info.dynamic_allocation, task_cpus=task_cpus, task_gpus=float(task_gpus),
        gpus_per_trial=gpus, cpus_per_trial=cpus, use_profile=use_profile,
        executor_profile=use_profile and info.dynamic_allocation,
        executor_memory=info.executor_memory,
        executor_cores=conf_int(conf, "spark.executor.cores", 0) or None,
        discovery_script=conf.get("spark.executor.resource.gpu.discoveryScript", None),
        summary=summary)


def trial_profile(plan: TrialResources) -> Any:
    """The stage-level resource profile for the plan's trial jobs (classic or Connect session).

    With dynamic allocation off (standalone, YARN, Kubernetes) the profile holds only task
    requests and tasks run on the existing executors; with it on, it also asks for executors.
    """
    from pyspark.resource import (
        ExecutorResourceRequests,
        ResourceProfileBuilder,
        TaskResourceRequests,
    )

    tasks = TaskResourceRequests().cpus(plan.cpus_per_trial or 1)
    if plan.gpus_per_trial:
        tasks = tasks.resource("gpu", plan.gpus_per_trial)
    builder = ResourceProfileBuilder().require(tasks)
    if plan.executor_profile:
        executor = ExecutorResourceRequests()
        if plan.executor_memory:
            executor = executor.memory(plan.executor_memory)
        executor = executor.cores(max(plan.executor_cores or 1, plan.cpus_per_trial or 1))
        if plan.gpus_per_trial:
            executor = executor.resource("gpu", plan.gpus_per_trial, plan.discovery_script or "")
        builder = builder.require(executor)
    return builder.build


def with_trial_resources(rdd: Any, plan: TrialResources | None) -> Any:
    """Attach the plan's stage-level resource profile to the trial job's RDD (if it needs one)."""
    if plan is None or not plan.use_profile:
        return rdd
    return rdd.withResources(trial_profile(plan))


