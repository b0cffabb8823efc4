"""What a live session offers trials: executors, cores, memory, GPUs, task slots.

:func:`inspect_session` reads a session's real settings (registered executors, their cores and
GPUs, the conf) into a :class:`ClusterInfo`; :func:`worker_offers` sets each standalone
worker's offer against one executor's ask (what :mod:`sparkexp.runner.doctor` prints, and what
an impossible request fails with). Planning an experiment on it is
:mod:`sparkexp.runner.resources`.

Example:
    >>> parse_memory("512m"), parse_memory("4g"), parse_memory(2048)
    ('512m', '4g', '2048m')
    >>> memory_mib("4g")
    4096
    >>> mode_of("spark://m:7077"), mode_of("local[2]")
    ('standalone', 'local')
"""

from __future__ import annotations

import logging
import numbers
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sparkexp.errors import ConfigError
from sparkexp.runner.standalone import master_view, worker_gpus

__all__ = [
    "DEFAULT_EXECUTOR_WAIT",
    "ClusterInfo",
    "check_workers",
    "conf_float",
    "conf_int",
    "executor_ask",
    "inspect_session",
    "memory_mib",
    "mode_of",
    "parse_memory",
    "registered_executors",
    "session_conf",
    "spark_conf",
    "task_slots",
    "worker_fit",
    "worker_offers",
]

log = logging.getLogger("sparkexp")
_N = TypeVar("_N", int, float)

_MEMORY = re.compile(r"(\d+)([kmgt]?)", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024, "": 1}
#: seconds to wait for executors to register (conf spark.sparkexp.executorWaitSeconds)
DEFAULT_EXECUTOR_WAIT = 30.0


def parse_memory(value: Any, *, name: str = "memory") -> str:
    """A Spark memory amount in canonical form (``"512m"``, ``"4g"``); plain numbers are MiB.

    Raises:
        ConfigError: anything else (``"4gb"``, ``"-1"``, ``"lots"``, ``0``).
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        text = f"{int(value)}m"
    elif isinstance(value, str):
        text = value.strip().lower()
    else:
        text = ""
    found = _MEMORY.fullmatch(text)
    if not found or int(found.group(1)) == 0:
        raise ConfigError(f"{name} must be a whole number with an optional unit k, m, g or t "
                          f"(like '512m' or '4g'), got {value!r}")
    return found.group(1) + (found.group(2) or "m")


def memory_mib(value: Any, *, name: str = "memory") -> int:
    """Mebibytes in a Spark memory amount (``"4g"`` -> 4096)."""
    found = _MEMORY.fullmatch(parse_memory(value, name=name))
    assert found is not None  # parse_memory only returns matching text
    return int(int(found.group(1)) * _MIB[found.group(2)])


def mode_of(master: str) -> str:
    """``local``, ``local-cluster``, ``standalone``, ``yarn``, ``k8s`` or ``other``."""
    if master.startswith("local-cluster"):
        return "local-cluster"
    if master.startswith("local"):
        return "local"
    if master.startswith("spark://"):
        return "standalone"
    if master.startswith("yarn"):
        return "yarn"
    if master.startswith("k8s://"):
        return "k8s"
    return "other"


@dataclass
class ClusterInfo:
    """What a session offers trials (see :func:`inspect_session`)."""

    master: str
    mode: str
    #: registered executors (local mode: 1, the driver)
    executors: int
    #: task slots per executor, as Spark counts them (cores, by executor id)
    executor_cores: dict[str, int]
    #: memory of each executor (local mode: the driver's), e.g. ``"1g"``
    executor_memory: str
    #: GPUs per executor (conf, or what registered executors really have)
    executor_gpus: int
    #: GPUs Spark gives each task by default (``spark.task.resource.gpu.amount``)
    task_gpus: float
    task_cpus: int
    #: tasks that can run at once with the default resources
    slots: int
    default_parallelism: int
    dynamic_allocation: bool = False
    max_executors: int | None = None
    #: local mode: GPU ids sparkexp may hand to trials itself
    local_gpus: list[str] = field(default_factory=list)
    #: GPU ids per executor id, for registered executors that have GPUs
    gpu_addresses: dict[str, list[str]] = field(default_factory=dict)
    #: standalone: the master's view of its workers (None when the master did not answer)
    workers: list[dict[str, Any]] | None = None
    #: standalone: the master's web UI and REST addresses, as the master itself reports them
    master_web_ui: str | None = None
    master_rest: str | None = None
    #: standalone: what could not be reached while asking the master
    master_unreachable: list[str] = field(default_factory=list)
    #: conf spark.sparkexp.maxParallel (set by sparkexp.session(max_parallel=...))
    max_parallel: int | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: master, executors, cores, memory, GPUs, slots."""
        cores = sorted(set(self.executor_cores.values()))
        per = "/".join(str(c) for c in cores) or "?"
        gpus = (f", {len(self.local_gpus)} local GPUs" if self.mode == "local"
                else f", {self.executor_gpus} GPUs each" if self.executor_gpus else "")
        dyn = f", dynamic allocation up to {self.max_executors}" if self.dynamic_allocation else ""
        return (f"{self.master}: {self.executors} executor(s) x {per} cores, "
                f"{self.executor_memory}{gpus}{dyn}; {self.slots} task slots")


# -- reading a session ---------------------------------------------------------------------------
def spark_conf(sc: Any) -> Any:
    """The context's SparkConf for single lookups (one py4j call each)."""
    # the context's own conf answers single lookups (one py4j call each); getConf() copies the
    # whole conf key by key (~15 ms), which every experiment would pay at start-up
    return getattr(sc, "_conf", None) or sc.getConf()


def session_conf(spark: Any) -> Any:
    """Single conf lookups (``.get(key, default)``) on a classic or Spark Connect session."""
    from sparkexp.runner.connect import is_connect

    if is_connect(spark):
        return spark.conf  # RuntimeConfig.get(key, default): one round trip to the server
    return spark_conf(getattr(spark, "sparkContext", spark))


def _conf_number(conf: Any, key: str, default: _N, cast: Callable[[str], _N], word: str) -> _N:
    """``key`` read with ``cast``, ``default`` when unset; a value ``cast`` refuses fails naming
    the key and ``word`` (what it must be)."""
    value = conf.get(key, None)
    try:
        return cast(value) if value is not None else default
    except ValueError as exc:
        raise ConfigError(f"Spark conf {key} must be {word}, got {value!r}") from exc


def conf_int(conf: Any, key: str, default: int) -> int:
    """A whole-number conf value, ``default`` when unset.

    Example:
        >>> conf_int({"spark.task.cpus": "2"}, "spark.task.cpus", 1), conf_int({}, "spark.task.cpus", 1)
        (2, 1)
        >>> conf_int({"spark.task.cpus": "two"}, "spark.task.cpus", 1)
        Traceback (most recent call last):
        sparkexp.errors.ConfigError: Spark conf spark.task.cpus must be a whole number, got 'two'
    """
    return _conf_number(conf, key, default, int, "a whole number")


def conf_float(conf: Any, key: str, default: float) -> float:
    """A numeric conf value, ``default`` when unset.

    Example:
        >>> conf_float({"spark.task.resource.gpu.amount": "0.5"}, "spark.task.resource.gpu.amount", 0.0)
        0.5
        >>> conf_float({"spark.sparkexp.masterTimeout": "soon"}, "spark.sparkexp.masterTimeout", 5.0)
        Traceback (most recent call last):
        sparkexp.errors.ConfigError: Spark conf spark.sparkexp.masterTimeout must be a number, got 'soon'
    """
    return _conf_number(conf, key, default, float, "a number")


def registered_executors(sc: Any) -> list[dict[str, Any]]:
    """id, host, cores and GPU addresses of every registered executor (not the driver)."""
    out: list[dict[str, Any]] = []
    try:
        summaries = sc._jsc.sc().statusStore().executorList(True)
        for i in range(summaries.size()):
            e = summaries.apply(i)
            if e.id() == "driver":
                continue
            gpu = e.resources().get("gpu")
            addresses = [str(a) for a in gpu.get().addresses()] if gpu.isDefined() else []
            out.append({"id": str(e.id()), "host": str(e.hostPort()), "cores": int(e.totalCores()),
                        "gpus": addresses})
    except Exception as exc:  # noqa: BLE001 - a JVM without the status store: report, estimate
        log.debug("sparkexp: cannot list executors: %s", exc)
    return out


def worker_fit(worker: dict[str, Any], memory: int, cores: int, gpus: int) -> str | None:
    """Why ``worker`` (as :func:`~sparkexp.runner.standalone.master_view` lists it) can never
    start one executor asking ``memory`` MiB, ``cores`` cores and ``gpus`` GPUs; None if it can."""
    if worker.get("state") != "ALIVE":
        return f"it is {worker.get('state')}"
    short = [what for what, has, asks in (("memory", int(worker.get("memory", 0)), memory),
                                          ("cores", int(worker.get("cores", 0)), cores),
                                          ("GPUs", worker_gpus(worker), gpus)) if has < asks]
    return f"not enough {' or '.join(short)}" if short else None


def executor_ask(memory: str, cores: int | None, gpus: int) -> str:
    """What one executor asks a worker for, with the conf keys that set it."""
    return (f"spark.executor.memory={memory} ({memory_mib(memory)} MiB), "
            f"spark.executor.cores={cores or 1}, spark.executor.resource.gpu.amount={gpus}")


def worker_offers(workers: list[dict[str, Any]], memory: str, cores: int | None,
                  gpus: int) -> list[str]:
    """One line per worker: what it offers against what one executor asks, and the verdict."""
    lines = []
    for w in workers:
        why = worker_fit(w, memory_mib(memory), cores or 1, gpus)
        used = (f"; in use {w.get('memoryused', 0)} MiB, {w.get('coresused', 0)} cores"
                if w.get("memoryused") or w.get("coresused") else "")
        lines.append(f"{w.get('host')}:{w.get('port', '?')} offers {w.get('memory')} MiB, "
                     f"{w.get('cores')} cores, {worker_gpus(w)} GPUs{used} -> "
                     + ("fits one executor" if why is None else f"cannot host one: {why}"))
    return lines


def check_workers(master: str, workers: list[dict[str, Any]] | None, memory: str,
                  cores: int | None, gpus: int) -> None:
    """Fail, naming every worker's offer, when no worker can ever host one executor.

    Raises:
        ConfigError: more memory, cores or GPUs per executor than any worker has.
    """
    if workers is None or any(worker_fit(w, memory_mib(memory), cores or 1, gpus) is None
                              for w in workers):
        return
    offers = "; ".join(worker_offers(workers, memory, cores, gpus)) or "no worker registered"
    raise ConfigError(
        f"no worker of {master} can start an executor with {executor_ask(memory, cores, gpus)} "
        f"(workers: {offers}); ask for at most what one worker has "
        "(sparkexp.session(executor_memory=..., executor_cores=...), sparkexp doctor "
        "--executor-memory ...), or add bigger workers")


def inspect_session(spark: Any, *, wait: float | None = None, check: bool = True) -> ClusterInfo:
    """Read what a session really offers: executors, cores, memory, GPUs, slots.

    On a cluster without dynamic allocation, waits up to ``wait`` seconds (default: conf
    ``spark.sparkexp.executorWaitSeconds`` or 30) for executors to register, and on a standalone
    cluster, fails at once if no worker can ever host one executor (more memory, cores or GPUs
    than any worker has; the master is asked over RPC, its web UI need not be on port 8080).
    ``check=False`` returns the info instead of raising for that (the doctor reports it).

    Raises:
        ConfigError: settings that can never run a task (task GPUs in local mode, executors
            bigger than every worker).

    Example:
        >>> info = inspect_session(spark)                                        # doctest: +SKIP
        >>> info.summary()                                                       # doctest: +SKIP
        'local[2]: 1 executor(s) x 2 cores, 1g; 2 task slots'
    """
    from sparkexp.runner.connect import inspect_connect, is_connect

    if is_connect(spark):
        return inspect_connect(spark, check=check)
    sc = getattr(spark, "sparkContext", spark)
    conf = spark_conf(sc)
    master = str(sc.master)
    mode = mode_of(master)
    task_cpus = conf_int(conf, "spark.task.cpus", 1)
    task_gpus = conf_float(conf, "spark.task.resource.gpu.amount", 0.0)
    exec_gpus = conf_int(conf, "spark.executor.resource.gpu.amount", 0)
    dynamic = str(conf.get("spark.dynamicAllocation.enabled", "false")).lower() == "true"
    max_exec = conf.get("spark.dynamicAllocation.maxExecutors", None)
    cores_conf = conf.get("spark.executor.cores", None)
    max_parallel = conf.get("spark.sparkexp.maxParallel", None)
    info = ClusterInfo(
        master=master, mode=mode, executors=0, executor_cores={},
        executor_memory=parse_memory(conf.get("spark.executor.memory", "1g"),
                                     name="spark.executor.memory"),
        executor_gpus=exec_gpus, task_gpus=task_gpus, task_cpus=task_cpus, slots=0,
        default_parallelism=int(sc.defaultParallelism), dynamic_allocation=dynamic,
        max_executors=int(max_exec) if max_exec is not None and int(max_exec) < 2**31 - 1 else None,
        max_parallel=int(max_parallel) if max_parallel else None,
    )
    if mode == "local":
        if task_gpus > 0:
            raise ConfigError(
                f"spark.task.resource.gpu.amount={conf.get('spark.task.resource.gpu.amount')} on a "
                f"{master} session: local mode does not schedule task GPUs, so tasks would never "
                "start; remove it and pass gpus_per_trial=... to the experiment (sparkexp hands "
                "the machine's GPUs to trials itself)")
        from sparkexp.runner.gpus import local_gpus

        info.executors = 1
        info.executor_memory = parse_memory(conf.get("spark.driver.memory", "1g"),
                                            name="spark.driver.memory")
        info.slots = _max_concurrent(sc) or info.default_parallelism
        info.executor_cores = {"driver": info.slots * task_cpus}
        info.local_gpus = local_gpus(sc)
        info.executor_gpus = len(info.local_gpus)
        return info
    if mode == "standalone":
        view = master_view(sc, timeout=conf_float(conf, "spark.sparkexp.masterTimeout", 5.0))
        info.workers, info.master_web_ui, info.master_rest = view.workers, view.web_ui, view.rest
        info.master_unreachable = view.unreachable
        try:
            check_workers(master, info.workers, info.executor_memory,
                          int(cores_conf) if cores_conf else None, info.executor_gpus)
        except ConfigError as exc:
            if check:
                raise
            info.notes.append(str(exc))
            wait = 0.0  # no executor can ever register: nothing to wait for
    wait = conf_float(conf, "spark.sparkexp.executorWaitSeconds", DEFAULT_EXECUTOR_WAIT) \
        if wait is None else wait
    expected = _expected_executors(info, conf)
    deadline = time.monotonic() + wait
    executors = registered_executors(sc)
    while not dynamic and len(executors) < expected and time.monotonic() < deadline:
        time.sleep(0.25)
        executors = registered_executors(sc)
    info.executors = len(executors)
    info.executor_cores = {e["id"]: e["cores"] for e in executors}
    info.gpu_addresses = {e["id"]: e["gpus"] for e in executors if e["gpus"]}
    if info.gpu_addresses:
        info.executor_gpus = min(len(a) for a in info.gpu_addresses.values())
    if executors:
        info.slots = _max_concurrent(sc) or sum(
            task_slots(e["cores"], len(e["gpus"]), task_cpus, task_gpus) for e in executors)
    else:
        per_exec = int(cores_conf) if cores_conf else 1
        count = info.max_executors if dynamic and info.max_executors else \
            conf_int(conf, "spark.executor.instances", 0)
        info.slots = task_slots(per_exec, exec_gpus, task_cpus, task_gpus) * count if count else \
            info.default_parallelism
        if not dynamic and wait > 0:
            info.notes.append(f"no executor registered within {wait:.0f} s; slots are estimated "
                              "from the conf (is the cluster busy, or are executors too big?)")
    return info


def _expected_executors(info: ClusterInfo, conf: Any) -> int:
    instances = conf.get("spark.executor.instances", None)
    if instances:
        return int(instances)
    if info.workers:
        alive = [w for w in info.workers if w.get("state") == "ALIVE"]
        cores = conf.get("spark.executor.cores", None)
        if cores:
            per = [int(w.get("cores", 0)) // int(cores) for w in alive]
            total = sum(per)
            cores_max = conf.get("spark.cores.max", None)
            return max(1, min(total, int(cores_max) // int(cores)) if cores_max else total)
        return max(1, len(alive))
    return 1


def _max_concurrent(sc: Any) -> int | None:
    try:
        jsc = sc._jsc.sc()
        profile = jsc.resourceProfileManager().defaultResourceProfile()
        return int(jsc.maxNumConcurrentTasks(profile))
    except Exception:  # noqa: BLE001 - private API: fall back to counting
        return None


def task_slots(cores: int, gpus: int, cpus_per_task: int, gpus_per_task: float) -> int:
    """Trials one executor runs at once with ``cores`` and ``gpus``.

    >>> task_slots(8, 2, 1, 1.0), task_slots(8, 0, 2, 0.0)
    (2, 4)
    """
    by_cpu = cores // max(1, cpus_per_task)
    if gpus_per_task > 0:
        return min(by_cpu, int(gpus // gpus_per_task))
    return by_cpu

