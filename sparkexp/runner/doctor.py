"""``sparkexp doctor``: what an experiment would get on a master, and what is wrong, in bounded time.

:func:`doctor_report` inspects a running session, classic or Spark Connect: executors, cores,
memory and GPUs, every standalone worker's offer against what one executor asks (the master is
asked over RPC, so a web UI on any port is found; a Connect client reads the web UI), the
executors' Python (a tiny probe job, an RDD job or on Spark Connect a DataFrame job, that runs
under a deadline and is cancelled by its job group or tag when it cannot start:
:mod:`~sparkexp.runner.probe`), and the
project root.
:func:`check_master` does the whole check the command line runs: it validates the resource
options (the same as :func:`sparkexp.session`'s), checks the master listens at all before
starting Spark, starts the session, reports and stops it, and returns within ``timeout``
seconds whatever happens: what it could not reach or finish in time is a problem in the report.

Example:
    >>> report = check_master("spark://127.0.0.1:1", timeout=5)
    >>> print(report)
    master: spark://127.0.0.1:1
    problems:
      - cannot reach the master at 127.0.0.1:1 (Connection refused); is it running, and is this its spark:// URL (the first line of its log)?
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.runner.cluster import (
    check_workers,
    executor_ask,
    inspect_session,
    memory_mib,
    session_conf,
    worker_fit,
    worker_offers,
)
from sparkexp.runner.probe import probe_problems
from sparkexp.runner.standalone import MasterView, ask_master, unreachable_masters

__all__ = ["DoctorReport", "doctor_report", "doctor", "check_master", "connect_address",
           "DEFAULT_TIMEOUT"]

#: seconds ``sparkexp doctor`` may take in all
DEFAULT_TIMEOUT = 30.0


@dataclass
class DoctorReport:
    """What an experiment would get (``lines``) and what is wrong (``problems``)."""

    lines: list[str]
    problems: list[str] = field(default_factory=list)
    #: seconds the check took
    seconds: float = 0.0
    #: a Spark context was left starting or stopping when time ran out (the process should
    #: exit rather than wait for it)
    abandoned: bool = False

    def __str__(self) -> str:
        out = list(self.lines)
        out.append("problems:" if self.problems else "problems: none found")
        out.extend(f"  - {p}" for p in self.problems)
        return "\n".join(out)


def doctor_report(spark: Any, *, probe: bool = True, root: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> DoctorReport:
    """Inspect the session, run a tiny job on the executors, and list what would go wrong.

    Checks: every worker can host one executor (standalone), executors registered, GPUs
    requested but none discovered, the executors' Python (same version as the driver's? can it
    import sparkexp?), and whether the project root is writable. Returns within about
    ``timeout`` seconds: a probe job that cannot start in time is cancelled and reported.
    ``spark`` is a SparkSession, a SparkContext or a Spark Connect session.
    """
    from sparkexp.runner.connect import is_connect, session_master

    started = time.monotonic()
    deadline = started + timeout
    remote = is_connect(spark)
    problems: list[str] = []
    try:
        # no waiting for executors here: the probe job waits for them (until the deadline)
        info = inspect_session(spark, wait=0.0, check=False)
    except ConfigError as exc:  # settings that can never run a task (task GPUs in local mode)
        return DoctorReport([f"master: {session_master(spark)}"], [str(exc)],
                            time.monotonic() - started)
    conf = session_conf(spark)
    cores = _cores(conf)
    hosts: set[str] = set()
    probed: list[str] = []
    # no worker can host an executor: a probe job could never run, so none is started
    if probe and not _never_fits(info.workers, info.executor_memory, cores, info.executor_gpus):
        import platform
        import sys

        problems.extend(probe_problems(spark, info, probed, platform.python_version(),
                                        sys.executable, hosts, deadline=deadline - 1.0))
        if not remote:  # the executors the probe met (a Connect client cannot list them)
            info = inspect_session(spark, wait=0.0, check=False)
    lines = [f"master: {info.master} ({info.mode})"]
    if remote:
        lines.insert(0, f"Spark Connect client of {spark.client.host} (Spark {spark.version})")
    if info.mode == "standalone":
        view = MasterView(web_ui=info.master_web_ui, rest=info.master_rest, workers=info.workers,
                          unreachable=info.master_unreachable)
        lines.extend(_master_lines(info.master, view, info.executor_memory, cores,
                                   info.executor_gpus, problems))
    lines.extend([
        f"executors: {info.executors}" + (f" (dynamic allocation, max {info.max_executors})"
                                          if info.dynamic_allocation else ""),
        "cores per executor: " + (", ".join(f"{k}={v}" for k, v in sorted(info.executor_cores.items()))
                                  or "none registered"),
        f"memory per executor: {info.executor_memory}",
        f"GPUs per executor: {info.executor_gpus}" + (
            f" (local GPUs handed out by sparkexp: {', '.join(info.local_gpus) or 'none'})"
            if info.mode == "local" else ""),
        f"GPUs per task: {info.task_gpus:g}, CPUs per task: {info.task_cpus}",
        f"task slots: {info.slots}",
        f"default max_parallel: {info.max_parallel or info.slots}",
        *probed,
    ])
    problems.extend(n for n in info.notes
                    if n not in problems and not n.startswith("Spark Connect:"))
    if info.mode != "local":
        if info.executor_gpus and not info.gpu_addresses and info.executors and not remote:
            problems.append(f"spark.executor.resource.gpu.amount={info.executor_gpus} but no "
                            "registered executor reports GPU addresses (check the discovery script)")
        if info.task_gpus and not info.executor_gpus:
            problems.append("spark.task.resource.gpu.amount is set but executors have no GPUs; "
                            "tasks will never start")
    elif conf.get("spark.sparkexp.gpusPerTrial", None) and not info.local_gpus:
        problems.append("trials ask for GPUs (spark.sparkexp.gpusPerTrial) but no GPU was discovered")
    problems.extend(_root_problems(spark, root, hosts))
    return DoctorReport(lines, problems, time.monotonic() - started)


def _cores(conf: Any) -> int | None:
    cores = conf.get("spark.executor.cores", None)
    return int(cores) if cores else None


def _never_fits(workers: list[dict[str, Any]] | None, memory: str, cores: int | None,
                gpus: int) -> bool:
    return workers is not None and not any(
        worker_fit(w, memory_mib(memory), cores or 1, gpus) is None for w in workers)


def _master_lines(master: str, view: MasterView, memory: str, cores: int | None, gpus: int,
                  problems: list[str]) -> list[str]:
    """A standalone master's addresses and each worker's offer, as the master reports them."""
    lines = [f"master web UI: {view.web_ui + ' (as the master reports it)' if view.web_ui else 'not found'}"
             + (f", REST server: {view.rest}" if view.rest else "")]
    if view.workers is None:
        problems.extend(view.unreachable)
        problems.append(f"could not ask {master} for its workers, so executor sizes were not "
                        "checked against them (set spark.sparkexp.masterWebUi to its web UI)")
        return lines
    lines.append(f"one executor asks: {executor_ask(memory, cores, gpus)}")
    offers = worker_offers(view.workers, memory, cores, gpus)
    lines.append(f"workers: {len(view.workers)}" + ("" if offers else " (none registered)"))
    lines.extend(f"  {o}" for o in offers)
    try:
        check_workers(master, view.workers, memory, cores, gpus)
    except ConfigError as exc:
        problems.append(str(exc))
    return lines


def _root_problems(spark: Any, root: str | None, hosts: set[str]) -> list[str]:
    import socket

    from sparkexp.fs import filesystem_for, scheme_of
    from sparkexp.project import resolve_root

    resolved = resolve_root(spark, root)
    fs = filesystem_for(resolved)
    probe = fs.join(resolved, f".sparkexp-doctor-{os.getpid()}")
    try:
        if not fs.isdir(resolved):
            return [f"project root {resolved!r} does not exist (create it, or set "
                    "spark.sparkexp.projectRoot / SPARKEXP_PROJECT_ROOT)"]
        fs.mkdirs(probe)
        fs.delete(probe)
    except Exception as exc:  # noqa: BLE001 - any failure means the same: not writable
        return [f"project root {resolved!r} is not writable from the driver: {exc}"]
    others = sorted(hosts - {socket.gethostname()})
    if scheme_of(resolved) == "file" and others:
        return [f"project root {resolved!r} is a local path but executors run on other hosts "
                f"({', '.join(others)}): use a filesystem every host reaches (hdfs://..., or the "
                "same path mounted on every host)"]
    return []


def doctor(spark: Any, *, probe: bool = True, root: str | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> str:
    """What an experiment would get on this session and what is wrong with it, as text.

    Example:
        >>> print(doctor(spark))                                                  # doctest: +SKIP
        master: local[2] (local)
        executors: 1
        ...
        problems: none found
    """
    return str(doctor_report(spark, probe=probe, root=root, timeout=timeout))


def check_master(master: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 root: str | None = None, probe: bool = True, **session_options: Any) -> DoctorReport:
    """Start a Spark context on ``master`` with :func:`sparkexp.session`'s options, report, stop it.

    Returns within about ``timeout`` seconds: a master that does not listen is reported before
    Spark starts, a session that does not start in time and a probe job that cannot run are
    reported as problems (the session left starting is abandoned; the process may exit).
    ``sc://host:port`` (or no master with ``SPARK_REMOTE`` set) checks a Spark Connect server
    through a client session instead.

    Raises:
        ConfigError: invalid options or ``timeout`` (before anything starts).
    """
    from sparkexp._session import remote_url, session_conf

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    started = time.monotonic()
    # the last seconds are for stopping the context, printing and the process exiting
    deadline = started + float(timeout) - min(3.0, timeout / 5)
    remote = remote_url(master)
    if remote is not None:
        return _check_connect(remote, started=started, deadline=deadline, timeout=float(timeout),
                              root=root, probe=probe, session_options=session_options)
    conf = session_conf(master, **session_options)  # bad options: one line, nothing started
    url = conf.get("spark.master", "local[*]")
    unreachable = unreachable_masters(url, timeout=min(3.0, timeout / 4))
    if unreachable:
        hint = "; is it running, and is this its spark:// URL (the first line of its log)?"
        return DoctorReport([f"master: {url}"], [u + hint for u in unreachable],
                            time.monotonic() - started)
    lines = [f"master: {url}"]
    problems: list[str] = []
    if url.startswith("spark://"):
        view = _ask_first(url, conf, deadline)
        cores = int(conf["spark.executor.cores"]) if "spark.executor.cores" in conf else None
        memory, gpus = conf["spark.executor.memory"], int(conf.get("spark.executor.resource.gpu.amount", 0))
        lines = [f"master: {url} (standalone)",
                 *_master_lines(url, view, memory, cores, gpus, problems)]
        if _never_fits(view.workers, memory, cores, gpus):
            # no executor could ever start: no context to start, no probe job to run
            return DoctorReport(lines, problems, time.monotonic() - started)
    box: dict[str, Any] = {}

    def start() -> None:
        # a SparkContext, not a SparkSession: the checks need no SQL, which takes seconds to load
        from pyspark import SparkConf, SparkContext

        try:
            box["spark"] = SparkContext.getOrCreate(SparkConf().setAll(list(conf.items())))
        except Exception as exc:  # noqa: BLE001 - reported
            box["error"] = exc

    starter = threading.Thread(target=start, name="sparkexp-doctor-session", daemon=True)
    starter.start()
    starter.join(max(0.5, deadline - time.monotonic() - 2.0))
    if "spark" not in box:
        what = (f"failed: {(str(box['error']).strip().splitlines() or [type(box['error']).__name__])[0]}"
                if "error" in box else f"did not start within {timeout:.0f} s (a master that accepts "
                "connections but does not register applications? YARN without capacity?)")
        return DoctorReport(lines, [*problems, f"the Spark session on {url} {what}"],
                            time.monotonic() - started, abandoned="error" not in box)
    return _report_and_stop(box["spark"], started=started, deadline=deadline, timeout=timeout,
                            root=root, probe=probe)


def _report_and_stop(spark: Any, *, started: float, deadline: float, timeout: float,
                     root: str | None, probe: bool) -> DoctorReport:
    """:func:`doctor_report` on a session the check started, then stop it (bounded)."""
    try:
        report = doctor_report(spark, probe=probe, root=root,
                               timeout=max(1.0, deadline - time.monotonic() - 1.0))
    finally:
        stopper = threading.Thread(target=spark.stop, name="sparkexp-doctor-stop", daemon=True)
        stopper.start()
        stopper.join(max(0.5, min(2.0, started + timeout - 1.0 - time.monotonic())))
    report.seconds = time.monotonic() - started
    report.abandoned = stopper.is_alive()
    return report


def connect_address(url: str) -> tuple[str, int]:
    """Host and port of a Spark Connect URL (port 15002 unless given).

    Example:
        >>> connect_address("sc://spark-driver:15003/;token=abc"), connect_address("sc://h")
        (('spark-driver', 15003), ('h', 15002))
    """
    hostport = url[len("sc://"):].split("/", 1)[0].split(";", 1)[0]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        return hostport.strip("[]"), 15002
    return host.strip("[]"), int(port)


def _check_connect(url: str, *, started: float, deadline: float, timeout: float,
                   root: str | None, probe: bool, session_options: dict[str, Any]) -> DoctorReport:
    """:func:`check_master` for a Spark Connect server: a client session, bounded the same way."""
    import socket

    host, port = connect_address(url)
    try:
        with socket.create_connection((host, port), timeout=min(3.0, timeout / 4)):
            pass
    except OSError as exc:
        return DoctorReport([f"master: {url}"], [
            f"cannot reach the Spark Connect server at {host}:{port} "
            f"({exc.strerror or type(exc).__name__}); is it running (start-connect-server.sh), "
            "and is this its sc:// URL?"], time.monotonic() - started)
    box: dict[str, Any] = {}

    def start() -> None:
        from sparkexp._session import session

        try:
            spark = session(url, **session_options)
            _ = spark.version  # the first round trip: a server that does not answer shows here
            box["spark"] = spark
        except Exception as exc:  # noqa: BLE001 - reported (a ConfigError is raised below)
            box["error"] = exc

    starter = threading.Thread(target=start, name="sparkexp-doctor-session", daemon=True)
    starter.start()
    starter.join(max(0.5, deadline - time.monotonic() - 2.0))
    if isinstance(box.get("error"), ConfigError):
        raise box["error"]  # executor settings given to a client: nothing was started
    if "spark" not in box:
        what = (f"failed: {(str(box['error']).strip().splitlines() or [type(box['error']).__name__])[0]}"
                if "error" in box else f"did not answer within {timeout:.0f} s")
        return DoctorReport([f"master: {url}"], [f"the Spark Connect session of {url} {what}"],
                            time.monotonic() - started, abandoned="error" not in box)
    return _report_and_stop(box["spark"], started=started, deadline=deadline, timeout=timeout,
                            root=root, probe=probe)


def _ask_first(master: str, conf: dict[str, str], deadline: float) -> MasterView:
    """The master's view before any context starts: the gateway JVM and one RPC round trip."""
    box: dict[str, MasterView] = {}

    def ask() -> None:
        from pyspark import SparkContext

        SparkContext._ensure_initialized()  # the py4j gateway's JVM, no application
        box["view"] = ask_master(SparkContext._jvm, master, conf,
                                 timeout=max(1.0, min(5.0, deadline - time.monotonic())))

    asker = threading.Thread(target=ask, name="sparkexp-doctor-master", daemon=True)
    asker.start()
    asker.join(max(0.5, deadline - time.monotonic() - 2.0))
    return box.get("view") or MasterView(unreachable=[
        "the master did not answer in time (the JVM that asks it was still starting)"])
