"""Spark Connect sessions: trial slots as tagged DataFrame jobs, no ``SparkContext`` needed.

A Spark Connect client (``SparkSession.builder.remote(...)``) has no ``SparkContext`` and no
RDD API. Each trial slot is then one single-task DataFrame job,
``spark.range(1, numPartitions=1).mapInArrow(slot_body, ...)``, whose Python function runs the
same long-lived worker loop as on a classic session (:func:`~sparkexp.runner.worker.run_task`):
it connects back to the trial channel in the client process and pulls trials. Every slot job
carries two job tags, the experiment's and its own, so ``interruptTag`` cancels the whole
experiment or kills exactly one stuck trial (its slot job is then started again, as Spark
reschedules a killed task attempt on a classic session). Per-trial GPUs and CPUs travel in the
job's stage-level resource profile (``mapInArrow(..., profile=...)``).

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

import contextlib
import functools
import itertools
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sparkexp.errors import ConfigError, DriverUnreachable

#: the body of a slot's task, ``(partition index, iterator) -> iterator`` (runner.worker.run_task)
SlotTask = Callable[[int, Iterable[Any]], Iterator[Any]]
#: called once when a slot's job ends: ``(slot, None or the error)``
SlotEnded = Callable[[int, "BaseException | None"], None]

__all__ = [
    "CLIENT_HOST_CONF",
    "CLIENT_HOST_ENV",
    "CLIENT_PORT_CONF",
    "CLIENT_PORT_ENV",
    "CONNECT_TIMEOUT_CONF",
    "MIN_VERSION",
    "SLOT_JOBS_CONF",
    "DataFrameSlots",
    "add_py_file",
    "backend_for",
    "check_connect",
    "connect_problem",
    "inspect_connect",
    "is_connect",
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


def _conf(spark: Any, key: str) -> str | None:
    try:
        value = spark.conf.get(key, None)
    except Exception:  # noqa: BLE001 - a key the server refuses to show
        return None
    return None if value is None else str(value)


def session_master(spark: Any) -> str:
    """The master URL the session's Spark runs on (a Connect server's own master)."""
    if is_connect(spark):
        return _conf(spark, "spark.master") or "unknown"
    return str(getattr(getattr(spark, "sparkContext", spark), "master", "") or "")


def session_app_id(spark: Any) -> str:
    """The Spark application id (a Connect server's own application)."""
    if is_connect(spark):
        return _conf(spark, "spark.app.id") or f"connect-{spark.session_id[:8]}"
    return str(getattr(spark, "sparkContext", spark).applicationId)


def add_py_file(spark: Any, path: str) -> None:
    """Make ``path`` (a .py, .zip or .egg) importable on executors, on either kind of session."""
    if is_connect(spark):
        spark.addArtifacts(path, pyfile=True)
    else:
        getattr(spark, "sparkContext", spark).addPyFile(path)


def _is_local_host(host: str) -> bool:
    host = host.strip("[]")
    if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        return True
    try:
        return socket.gethostbyname(host).startswith("127.")
    except OSError:
        return False


def _route_address(host: str, port: int) -> str:
    """This machine's address on the route to ``host`` (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port or 15002))
            return str(probe.getsockname()[0])
    except OSError:
        return socket.gethostbyname(socket.gethostname())


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


def slot_jobs(spark: Any) -> str:
    """``dataframe`` or ``rdd``: how a classic session runs its slots (conf
    ``spark.sparkexp.slotJobs``, default ``rdd``); a Connect session always uses DataFrame jobs."""
    if is_connect(spark):
        return "dataframe"
    value = (_conf(spark, SLOT_JOBS_CONF) or "rdd").lower()
    if value not in ("rdd", "dataframe"):
        raise ConfigError(f"{SLOT_JOBS_CONF} must be 'rdd' or 'dataframe', got {value!r}")
    return value


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
        self.master = session_master(spark)
        self.app_id = session_app_id(spark)
        self._profile = _trial_profile(resources)
        self.remote = is_connect(spark)
        #: seconds a slot task keeps trying to reach the channel (Connect: configurable)
        self.connect_timeout = float((_conf(spark, CONNECT_TIMEOUT_CONF) if self.remote else None)
                                     or 30.0)
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
        return _is_local_host(self._server_address()[0])

    def advertised_address(self) -> str:
        """The address slot tasks connect to (see the module docstring)."""
        if not self.remote:
            return _classic_address(self.spark, bind=False)
        configured = os.environ.get(CLIENT_HOST_ENV) or _conf(self.spark, CLIENT_HOST_CONF)
        if configured:
            return configured
        if self.server_is_local:
            return "127.0.0.1"
        return _route_address(*self._server_address())

    def bind_address(self) -> str:
        """Where the trial channel listens."""
        if not self.remote:
            return _classic_address(self.spark, bind=True)
        configured = os.environ.get(CLIENT_HOST_ENV) or _conf(self.spark, CLIENT_HOST_CONF)
        if self.server_is_local and not configured:
            return "127.0.0.1"
        return "0.0.0.0"

    def port(self) -> int:
        """A fixed channel port if one is configured, else 0 (any free port)."""
        value = os.environ.get(CLIENT_PORT_ENV) or _conf(self.spark, CLIENT_PORT_CONF)
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
            schema = "done long, unreachable string"
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
        return _default_parallelism(self.spark, self.master)

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
    from sparkexp.runner.resources import spark_conf

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


# -- capacity -------------------------------------------------------------------------------------
def _default_parallelism(spark: Any, master: str) -> int:
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
    from sparkexp.runner import resources as r
    from sparkexp.runner.gpus import gpus_from_conf
    from sparkexp.runner.standalone import web_ui_view

    check_connect(spark)
    conf = spark.conf
    master = session_master(spark)
    mode = r.mode_of(master)
    dynamic = str(conf.get("spark.dynamicAllocation.enabled", "false")).lower() == "true"
    max_exec = conf.get("spark.dynamicAllocation.maxExecutors", None)
    max_parallel = conf.get("spark.sparkexp.maxParallel", None)
    task_cpus = r._conf_int(conf, "spark.task.cpus", 1)
    task_gpus = r._conf_float(conf, "spark.task.resource.gpu.amount", 0.0)
    parallelism = _default_parallelism(spark, master)
    info = r.ClusterInfo(
        master=master, mode=mode, executors=0, executor_cores={},
        executor_memory=r.parse_memory(conf.get("spark.executor.memory", None) or "1g",
                                       name="spark.executor.memory"),
        executor_gpus=r._conf_int(conf, "spark.executor.resource.gpu.amount", 0),
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
        info.local_gpus = gpus_from_conf(conf, {}, nvidia_smi=_is_local_host(_client_host(spark)))
        info.executor_gpus = len(info.local_gpus)
        return info
    cores = r._conf_int(conf, "spark.executor.cores", 0)
    instances = r._conf_int(conf, "spark.executor.instances", 0)
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
        return DataFrameSlots(spark, group=group, resources=resources, pool=pool)
    from sparkexp.runner.spark_backend import SparkContextBackend

    return SparkContextBackend(spark, group=group, description=description, resources=resources,
                               pool=pool)
