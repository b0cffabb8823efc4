"""``sparkexp.session(...)``: a SparkSession with the resources experiments need.

Builds the Spark conf for executor memory, cores and GPUs, the GPUs each trial gets, and the
dynamic-allocation bound that matches ``max_parallel``, validating everything before Spark
starts. :func:`session_conf` returns the same settings as a dict (what ``conf/*.conf`` holds).

Example:
    >>> conf = session_conf("spark://10.0.0.5:7077", executor_memory="2g", executor_cores=2,
    ...                     executor_gpus=2, task_gpus=1)
    >>> conf["spark.executor.memory"], conf["spark.task.resource.gpu.amount"]
    ('2g', '1')
    >>> session_conf("local[2]", executor_memory="4gb")
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: executor_memory must be a whole number with an optional unit k, m, g or t (like '512m' or '4g'), got '4gb'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.validate import whole_number

__all__ = ["session", "session_conf", "remote_url", "SessionOption", "SESSION_OPTIONS"]


@dataclass(frozen=True)
class SessionOption:
    """One resource option of :func:`session`, also a flag of ``sparkexp doctor``."""

    name: str
    #: int or str: how the command line parses it
    kind: type
    help: str

    @property
    def flag(self) -> str:
        """The command-line flag (``executor_memory`` -> ``--executor-memory``)."""
        return "--" + self.name.replace("_", "-")


#: the keyword options of session() and session_conf(), declared once: the CLI's doctor takes
#: the same ones as flags, a spec's ``resources`` names them (tests check the signatures match)
SESSION_OPTIONS = (
    SessionOption("executor_memory", str, "memory per executor ('512m', '4g'); in local mode "
                  "the driver's (default: spark-submit's, else 4g)"),
    SessionOption("executor_cores", int, "cores (task slots) per executor"),
    SessionOption("executor_gpus", int, "GPUs per executor (local mode: GPUs handed to trials)"),
    SessionOption("task_gpus", int, "GPUs each trial gets by default"),
    SessionOption("max_parallel", int, "trials at once by default; bounds "
                  "spark.dynamicAllocation.maxExecutors"),
    SessionOption("app_name", str, "the Spark application name"),
    SessionOption("gpu_discovery_script", str, "script printing the GPU addresses "
                  "(YARN/Kubernetes executors, local GPUs without nvidia-smi)"),
)

#: the keys session_conf may set; a stopped session's values for them must not leak into a new one
MANAGED_KEYS = (
    "spark.driver.memory",
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.executor.resource.gpu.amount",
    "spark.executor.resource.gpu.discoveryScript",
    "spark.driver.resource.gpu.amount",
    "spark.driver.resource.gpu.discoveryScript",
    "spark.task.resource.gpu.amount",
    "spark.dynamicAllocation.maxExecutors",
    "spark.sparkexp.gpus",
    "spark.sparkexp.gpusPerTrial",
    "spark.sparkexp.maxParallel",
)


def _count(name: str, value: Any, *, minimum: int) -> int | None:
    return None if value is None else whole_number(name, value, minimum=minimum, none_ok=True)


DEFAULT_EXECUTOR_MEMORY = "4g"


def _submitted_conf() -> dict[str, str]:
    """The settings ``spark-submit`` gave this driver (empty when not run by spark-submit).

    Under spark-submit the JVM is already running (``PYSPARK_GATEWAY_PORT`` is set) and holds
    ``--master``, ``--executor-memory`` and ``--conf`` as Spark properties; a session built
    without an explicit master must keep them rather than fall back to local-mode defaults.
    """
    import os

    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return {}
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()  # connect to spark-submit's JVM (no new JVM is started)
    return {str(k): str(v) for k, v in SparkConf().getAll()}


def session_conf(
    master: str | None = None,
    *,
    executor_memory: str | int | None = None,
    executor_cores: int | None = None,
    executor_gpus: int = 0,
    task_gpus: int | None = None,
    max_parallel: int | None = None,
    app_name: str = "sparkexp",
    gpu_discovery_script: str | None = None,
    **spark_conf: Any,
) -> dict[str, str]:
    """The Spark conf :func:`session` would use (see there for the arguments).

    Raises:
        ConfigError: a bad memory string, negative or non-integer counts, more task GPUs than
            executor GPUs, or a ``spark_conf`` key that is not a Spark setting.
    """
    # imported here: sparkexp/__init__ imports this module before sparkexp.runner can load
    from sparkexp.runner.cluster import mode_of, parse_memory

    if master is not None and (not isinstance(master, str) or not master.strip()):
        raise ConfigError(f"master must be a Spark master URL like 'local[2]', "
                          f"'spark://host:7077' or 'yarn', got {master!r}")
    submitted = _submitted_conf()
    if master is None:
        master = submitted.get("spark.master")  # spark-submit --master ...
    if executor_memory is None:
        executor_memory = submitted.get("spark.executor.memory", DEFAULT_EXECUTOR_MEMORY)
    memory = parse_memory(executor_memory, name="executor_memory")
    cores = _count("executor_cores", executor_cores, minimum=1)
    gpus = _count("executor_gpus", executor_gpus, minimum=0) or 0
    per_task = _count("task_gpus", task_gpus, minimum=0)
    parallel = _count("max_parallel", max_parallel, minimum=1)
    if per_task and per_task > gpus:
        raise ConfigError(f"task_gpus={per_task} is more than executor_gpus={gpus}: no task could "
                          "ever start; ask for at most executor_gpus GPUs per task")
    if gpu_discovery_script is not None and not isinstance(gpu_discovery_script, str):
        raise ConfigError(f"gpu_discovery_script must be a path, got {gpu_discovery_script!r}")
    mode = mode_of(master or "local[*]")
    conf: dict[str, str] = {
        "spark.app.name": str(app_name),
        "spark.ui.showConsoleProgress": "false",
        "spark.task.maxFailures": "4",
    }
    if master:
        conf["spark.master"] = master
    if mode == "local":
        # local mode runs everything in the driver JVM; Spark never schedules task GPUs there,
        # so sparkexp hands GPUs to trials itself (spark.sparkexp.* keys, read by the runner)
        conf["spark.driver.memory"] = memory
        if gpus:
            conf["spark.sparkexp.gpus"] = str(gpus)
            if gpu_discovery_script:
                conf["spark.driver.resource.gpu.amount"] = str(gpus)
                conf["spark.driver.resource.gpu.discoveryScript"] = gpu_discovery_script
        if per_task:
            conf["spark.sparkexp.gpusPerTrial"] = str(per_task)
    else:
        conf["spark.executor.memory"] = memory
        if cores:
            conf["spark.executor.cores"] = str(cores)
        if gpus:
            conf["spark.executor.resource.gpu.amount"] = str(gpus)
            if gpu_discovery_script:
                conf["spark.executor.resource.gpu.discoveryScript"] = gpu_discovery_script
            elif mode in ("yarn", "k8s"):
                raise ConfigError(
                    f"executor_gpus={gpus} on {master} needs gpu_discovery_script: YARN and "
                    "Kubernetes executors find their GPUs by running it (see conf/gpu-discovery.sh)")
        if per_task is not None:
            conf["spark.task.resource.gpu.amount"] = str(per_task)
        if parallel:
            per_executor = (cores or 1) if not per_task else min(cores or 1, gpus // per_task)
            conf["spark.dynamicAllocation.maxExecutors"] = str(math.ceil(parallel / per_executor))
    if parallel:
        conf["spark.sparkexp.maxParallel"] = str(parallel)
    for key, value in spark_conf.items():
        if not key.startswith("spark."):
            raise ConfigError(
                f"unknown option {key!r}: session() takes master, "
                f"{', '.join(o.name for o in SESSION_OPTIONS)}, and Spark settings by their full "
                "key, e.g. **{'spark.sql.shuffle.partitions': '4'}")
        conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return conf


def session(
    master: str | None = None,
    *,
    executor_memory: str | int | None = None,
    executor_cores: int | None = None,
    executor_gpus: int = 0,
    task_gpus: int | None = None,
    max_parallel: int | None = None,
    app_name: str = "sparkexp",
    gpu_discovery_script: str | None = None,
    **spark_conf: Any,
) -> Any:
    """A SparkSession set up for experiments (an existing active session gets the same conf).

    Args:
        master: ``local[N]``, ``spark://host:port``, ``yarn``, ``k8s://...``; None keeps
            ``spark-submit``'s (or ``local[*]``). ``sc://host:port`` (or None with
            ``SPARK_REMOTE`` set) returns a Spark Connect client session instead; executor
            settings then belong to the server and are refused.
        executor_memory: Memory per executor (``"512m"``, ``"4g"``); in local mode the driver's.
            Default: what ``spark-submit --executor-memory`` gave, else ``"4g"``.
        executor_cores: Cores (task slots) per executor.
        executor_gpus: GPUs per executor; in local mode, how many of the machine's GPUs
            sparkexp hands to trials.
        task_gpus: GPUs each task (trial) gets by default; experiments can override it with
            ``gpus_per_trial``.
        max_parallel: Default trials at once; also bounds ``spark.dynamicAllocation.maxExecutors``.
        app_name: The Spark application name.
        gpu_discovery_script: Script printing ``{"name": "gpu", "addresses": [...]}`` (needed on
            YARN/Kubernetes and for local-mode GPUs without nvidia-smi; see conf/gpu-discovery.sh).
        **spark_conf: More Spark settings, by their full key:
            ``**{"spark.sql.shuffle.partitions": "4"}``.

    Returns:
        The SparkSession (``SparkSession.builder...getOrCreate()``). An active session is
        returned as it is (Spark cannot change a running context's resources); stop it first.

    Raises:
        ConfigError: invalid values, before Spark starts.

    Example:
        >>> import sparkexp
        >>> spark = sparkexp.session("spark://10.0.0.5:7077", executor_memory="8g",  # doctest: +SKIP
        ...                          executor_cores=4, executor_gpus=2, task_gpus=1)
    """
    remote = remote_url(master)
    if remote is not None:
        return _connect_session(remote, executor_memory=executor_memory,
                                executor_cores=executor_cores, executor_gpus=executor_gpus,
                                task_gpus=task_gpus, gpu_discovery_script=gpu_discovery_script,
                                max_parallel=max_parallel, **spark_conf)
    conf = session_conf(master, executor_memory=executor_memory, executor_cores=executor_cores,
                        executor_gpus=executor_gpus, task_gpus=task_gpus, max_parallel=max_parallel,
                        app_name=app_name, gpu_discovery_script=gpu_discovery_script, **spark_conf)
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    jvm = SparkContext._jvm
    if SparkContext._active_spark_context is None and jvm is not None:
        # PySpark keeps a stopped session's settings as JVM system properties, and a new
        # SparkConf loads them: without this, session(executor_gpus=0) after a GPU session
        # would still ask for GPUs
        for key in MANAGED_KEYS:
            if key not in conf:
                jvm.System.clearProperty(key)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def remote_url(master: str | None) -> str | None:
    """The Spark Connect URL a session should be a client of: ``sc://...`` as the master, or
    ``SPARK_REMOTE`` when no master is given."""
    import os

    if isinstance(master, str) and master.startswith("sc://"):
        return master
    if master is None and os.environ.get("SPARK_REMOTE", "").startswith("sc://"):
        return os.environ["SPARK_REMOTE"]
    return None


def _connect_session(url: str, *, max_parallel: int | None, **settings: Any) -> Any:
    """A Spark Connect client session of ``url``; executor settings belong to its server.

    Raises:
        ConfigError: executor or GPU settings given for a Connect client (the server's own).
    """
    server_side = [name for name, value in settings.items()
                   if value and not name.startswith("spark.")]
    server_side += [name for name in settings if name.startswith("spark.") and name in MANAGED_KEYS]
    if server_side:
        raise ConfigError(
            f"{', '.join(server_side)}: settings of the Spark Connect server at {url}, not of a "
            "client session; give them to the server (start-connect-server.sh --conf ...) and "
            "leave them out here")
    parallel = _count("max_parallel", max_parallel, minimum=1)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(url)
    if parallel:
        builder = builder.config("spark.sparkexp.maxParallel", str(parallel))
    for key, value in settings.items():
        if key.startswith("spark."):
            builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    return builder.getOrCreate()
