"""Spark Connect sessions: recognising one, checking it, reading its conf and what it offers.

A Spark Connect client (``SparkSession.builder.remote(...)``) has no ``SparkContext`` and no
RDD API, so its trial slots are tagged DataFrame jobs
(:class:`~sparkexp.runner.dataframe_slots.DataFrameSlots`, which :func:`backend_for` picks);
this module is the session side: :func:`is_connect`, :func:`check_connect` (versions and
features), the conf read in one round trip (:func:`conf_snapshot`), the session's master and
application, its capacity without a ``SparkContext`` (:func:`inspect_connect`).

Executors must reach the client: the address they are given is
``spark.sparkexp.clientHost`` / ``SPARKEXP_CLIENT_HOST`` if set, ``127.0.0.1`` when the Connect
server runs on this machine, else this machine's address on the route to the server. A slot
task that cannot connect within ``spark.sparkexp.clientConnectTimeout`` seconds (30) ends its
job with that error instead of failing, so the experiment stops before any trial runs.

Example:
    >>> spark = SparkSession.builder.remote("sc://spark-driver:15002").getOrCreate()  # doctest: +SKIP
    >>> is_connect(spark)                                                           # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterable
from typing import Any

from sparkexp.errors import ConfigError

__all__ = [
    "CLIENT_HOST_CONF",
    "CLIENT_HOST_ENV",
    "CLIENT_PORT_CONF",
    "CLIENT_PORT_ENV",
    "CONNECT_TIMEOUT_CONF",
    "ConfSnapshot",
    "MIN_VERSION",
    "SLOT_JOBS_CONF",
    "add_py_file",
    "backend_for",
    "check_connect",
    "conf_get",
    "conf_snapshot",
    "connect_problem",
    "default_parallelism",
    "inspect_connect",
    "is_connect",
    "is_local_host",
    "route_address",
    "session_app_id",
    "session_master",
    "slot_jobs",
]

log = logging.getLogger("sparkexp")

#: the address executors connect to (this client's, as they can reach it)
CLIENT_HOST_CONF = "spark.sparkexp.clientHost"
CLIENT_HOST_ENV = "SPARKEXP_CLIENT_HOST"
#: a fixed port for the trial channel (default: any free port), e.g. for a firewall rule
CLIENT_PORT_CONF = "spark.sparkexp.clientPort"
CLIENT_PORT_ENV = "SPARKEXP_CLIENT_PORT"
#: seconds a slot task tries to reach the client before the experiment stops
CONNECT_TIMEOUT_CONF = "spark.sparkexp.clientConnectTimeout"
#: classic sessions: ``rdd`` (default) or ``dataframe`` slot jobs (for measurements)
SLOT_JOBS_CONF = "spark.sparkexp.slotJobs"
#: the oldest PySpark (client) and Spark (Connect server) sparkexp runs on through Connect
MIN_VERSION = (4, 0)
#: what a Connect session must offer: job tags to cancel slots, artifacts to ship modules
_FEATURES = ("addTag", "interruptTag", "addArtifacts")


def is_connect(spark: Any) -> bool:
    """True for a Spark Connect session (``SparkSession.builder.remote(...)``).

    Decided from the object's class, so it never imports PySpark's Connect client (which needs
    the ``connect`` extras) for a classic session.

    >>> is_connect(object())
    False
    """
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", str(text))[:2])


def connect_problem(client_version: str, server_version: str | None,
                    missing: Iterable[str] = ()) -> str | None:
    """Why sparkexp cannot run on a Connect session, in one line (None: it can).

    >>> connect_problem("4.0.1", "4.0.1") is None
    True
    >>> connect_problem("3.5.3", "3.5.3")
    "sparkexp needs PySpark 4.0 or later for Spark Connect sessions (this client has 3.5.3): pip install 'pyspark[connect]>=4.0'"
    >>> connect_problem("4.0.0", "3.5.1")
    'sparkexp needs a Spark 4.0 or later Spark Connect server (this server runs Spark 3.5.1)'
    """
    need = ".".join(str(v) for v in MIN_VERSION)
    if _version(client_version) < MIN_VERSION:
        return (f"sparkexp needs PySpark {need} or later for Spark Connect sessions (this client "
                f"has {client_version}): pip install 'pyspark[connect]>={need}'")
    if server_version is not None and _version(server_version) < MIN_VERSION:
        return (f"sparkexp needs a Spark {need} or later Spark Connect server (this server runs "
                f"Spark {server_version})")
    missing = list(missing)
    if missing:
        return (f"this Spark Connect session lacks {', '.join(missing)} (PySpark "
                f"{client_version}); sparkexp needs PySpark {need} or later with a Spark {need} "
                "or later server")
    return None


def check_connect(spark: Any) -> None:
    """Fail with one line if sparkexp cannot run on this Connect session.

    Raises:
        ConfigError: a PySpark client or Connect server older than 4.0, or a session without
            job tags or artifacts.
    """
    import pyspark

    missing = [name for name in _FEATURES if not callable(getattr(spark, name, None))]
    try:
        server = str(spark.version)
    except Exception as exc:  # noqa: BLE001 - the server is unreachable: say so
        raise ConfigError(f"cannot reach the Spark Connect server: {str(exc).splitlines()[0]}") from exc
    problem = connect_problem(pyspark.__version__, server, missing)
    if problem:
        raise ConfigError(problem)


def conf_get(spark: Any, key: str, conf: Any = None) -> str | None:
    """``key`` of the session's conf (None when unset or hidden); ``conf``: a snapshot, if one
    was taken (:func:`conf_snapshot`)."""
    try:
        value = (conf if conf is not None else spark.conf).get(key, None)
    except Exception:  # noqa: BLE001 - a key the server refuses to show
        return None
    return None if value is None else str(value)


class ConfSnapshot:
    """A Connect session's conf read in one round trip (``spark.conf.getAll``), answering
    ``get(key, default)`` as ``spark.conf.get`` does for keys that are set.

    Each ``spark.conf.get`` is a round trip to the server (~2-5 ms); an experiment's start reads
    ~20 keys. The snapshot is taken where a burst of reads starts, never kept across
    experiments (the session's conf may change between them).

    >>> ConfSnapshot({"spark.master": "local[2]"}).get("spark.master")
    'local[2]'
    >>> ConfSnapshot({}).get("spark.task.cpus", "1")
    '1'
    """

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values.get(key, default)


def conf_snapshot(spark: Any) -> Any:
    """The conf of a Connect session as a :class:`ConfSnapshot` (one round trip); the session's
    own ``spark.conf`` if it cannot be listed."""
    try:
        return ConfSnapshot(spark.conf.getAll)
    except Exception:  # noqa: BLE001 - a server that refuses to list: ask key by key
        return spark.conf


def session_master(spark: Any, conf: Any = None) -> str:
    """The master URL the session's Spark runs on (a Connect server's own master); ``conf``: a
    :class:`ConfSnapshot` of a Connect session's conf, if one was taken."""
    if is_connect(spark):
        return conf_get(spark, "spark.master", conf) or "unknown"
    return str(getattr(getattr(spark, "sparkContext", spark), "master", "") or "")


def session_app_id(spark: Any, conf: Any = None) -> str:
    """The Spark application id (a Connect server's own application)."""
    if is_connect(spark):
        return conf_get(spark, "spark.app.id", conf) or f"connect-{spark.session_id[:8]}"
    return str(getattr(spark, "sparkContext", spark).applicationId)


def add_py_file(spark: Any, path: str) -> None:
    """Make ``path`` (a .py, .zip or .egg) importable on executors, on either kind of session."""
    if is_connect(spark):
        spark.addArtifacts(path, pyfile=True)
    else:
        getattr(spark, "sparkContext", spark).addPyFile(path)


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this machine's loopback.

    >>> is_local_host("localhost"), is_local_host("[::1]"), is_local_host("192.0.2.1")
    (True, True, False)
    """
    host = host.strip("[]")
    if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        return True
    try:
        return socket.gethostbyname(host).startswith("127.")
    except OSError:
        return False


def route_address(host: str, port: int) -> str:
    """This machine's address on the route to ``host`` (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port or 15002))
            return str(probe.getsockname()[0])
    except OSError:
        return socket.gethostbyname(socket.gethostname())


def slot_jobs(spark: Any) -> str:
    """``dataframe`` or ``rdd``: how a classic session runs its slots (conf
    ``spark.sparkexp.slotJobs``, default ``rdd``); a Connect session always uses DataFrame jobs."""
    if is_connect(spark):
        return "dataframe"
    value = (conf_get(spark, SLOT_JOBS_CONF) or "rdd").lower()
    if value not in ("rdd", "dataframe"):
        raise ConfigError(f"{SLOT_JOBS_CONF} must be 'rdd' or 'dataframe', got {value!r}")
    return value


# -- capacity -------------------------------------------------------------------------------------
def default_parallelism(spark: Any, master: str) -> int:
    """Spark's default parallelism, read without a SparkContext (a tiny probe query off local)."""
    local = re.fullmatch(r"local(?:\[(\d+)(?:,\s*\d+)?\])?", master)
    if local is not None:
        return int(local.group(1) or 1)
    # range() without numPartitions is split into the default parallelism (every partition
    # non-empty below 65536 of them); the partition id is read in a subquery, as a
    # non-deterministic expression may not be an aggregate's argument
    row = spark.sql("SELECT max(p) + 1 AS n FROM "
                    "(SELECT spark_partition_id() AS p FROM range(0, 65536))").collect()[0]
    return max(1, int(row["n"] or 1))


def inspect_connect(spark: Any, *, check: bool = True) -> Any:
    """What a Connect session offers trials (:class:`~sparkexp.runner.resources.ClusterInfo`).

    Read from the server's conf and, off ``local[N]``, one tiny probe query (the default
    parallelism); registered executors cannot be listed without a ``SparkContext``, so GPUs per
    executor come from ``spark.executor.resource.gpu.amount``. On a standalone master the
    workers are read from its web UI (``spark.sparkexp.masterWebUi``); ``check=False`` notes an
    executor no worker can host instead of raising (the doctor reports it).
    """
    from sparkexp.runner import cluster as r
    from sparkexp.runner.gpus import gpus_from_conf
    from sparkexp.runner.standalone import web_ui_view

    check_connect(spark)
    conf = conf_snapshot(spark)
    master = session_master(spark, conf)
    mode = r.mode_of(master)
    dynamic = str(conf.get("spark.dynamicAllocation.enabled", "false")).lower() == "true"
    max_exec = conf.get("spark.dynamicAllocation.maxExecutors", None)
    max_parallel = conf.get("spark.sparkexp.maxParallel", None)
    task_cpus = r.conf_int(conf, "spark.task.cpus", 1)
    task_gpus = r.conf_float(conf, "spark.task.resource.gpu.amount", 0.0)
    parallelism = default_parallelism(spark, master)
    info = r.ClusterInfo(
        master=master, mode=mode, executors=0, executor_cores={},
        executor_memory=r.parse_memory(conf.get("spark.executor.memory", None) or "1g",
                                       name="spark.executor.memory"),
        executor_gpus=r.conf_int(conf, "spark.executor.resource.gpu.amount", 0),
        task_gpus=task_gpus, task_cpus=task_cpus, slots=parallelism // max(1, task_cpus),
        default_parallelism=parallelism, dynamic_allocation=dynamic,
        max_executors=int(max_exec) if max_exec is not None and int(max_exec) < 2**31 - 1 else None,
        max_parallel=int(max_parallel) if max_parallel else None,
    )
    if mode == "local":
        if task_gpus > 0:
            raise ConfigError(
                f"spark.task.resource.gpu.amount={task_gpus:g} on a {master} Spark Connect server: "
                "local mode does not schedule task GPUs; remove it and pass gpus_per_trial=...")
        info.executors = 1
        info.executor_memory = r.parse_memory(conf.get("spark.driver.memory", None) or "1g",
                                              name="spark.driver.memory")
        info.executor_cores = {"driver": parallelism}
        info.local_gpus = gpus_from_conf(conf, {}, nvidia_smi=is_local_host(_client_host(spark)))
        info.executor_gpus = len(info.local_gpus)
        return info
    cores = r.conf_int(conf, "spark.executor.cores", 0)
    instances = r.conf_int(conf, "spark.executor.instances", 0)
    if cores and instances:
        info.executors = instances
        info.executor_cores = {str(i): cores for i in range(instances)}
    if mode == "standalone":
        view = web_ui_view(master, conf)
        info.workers, info.master_web_ui = view.workers, view.web_ui
        info.master_unreachable = view.unreachable
        try:
            r.check_workers(master, info.workers, info.executor_memory, cores or None,
                            info.executor_gpus)
        except ConfigError as exc:
            if check:
                raise
            info.notes.append(str(exc))
    if info.executor_gpus and task_gpus:
        info.slots = min(info.slots, int(info.executors * info.executor_gpus // task_gpus)
                         if info.executors else info.slots)
    info.notes.append("Spark Connect: slots read from the default parallelism "
                      f"({parallelism}); executors are not listed")
    return info


def _client_host(spark: Any) -> str:
    client = getattr(spark, "client", None)
    return str(getattr(client, "host", "") or "localhost")


def backend_for(spark: Any, *, group: str, description: str, resources: Any = None,
                pool: str | None = None) -> Any:
    """The slot backend for ``spark``: DataFrame jobs on a Spark Connect session (and on a
    classic one with ``spark.sparkexp.slotJobs=dataframe``), else the classic RDD jobs
    (:class:`~sparkexp.runner.spark_backend.SparkContextBackend`; faster to start, measured in
    docs/performance.md). ``pool`` is the classic jobs' FAIR scheduler pool."""
    if is_connect(spark) or slot_jobs(spark) == "dataframe":
        from sparkexp.runner.dataframe_slots import DataFrameSlots

        return DataFrameSlots(spark, group=group, resources=resources, pool=pool)
    from sparkexp.runner.spark_backend import SparkContextBackend

    return SparkContextBackend(spark, group=group, description=description, resources=resources,
                               pool=pool)

