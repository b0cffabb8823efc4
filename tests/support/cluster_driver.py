"""A driver program for the resource tests, run in its own process (one SparkContext each).

Usage: ``python cluster_driver.py standalone MASTER_URL MASTER_WEBUI ROOT`` or
``python cluster_driver.py local ROOT``. Runs the experiments a user would run and prints one
line ``RESULT: {json}`` with what the trials saw, for the test module to check.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any

import sparkexp
from sparkexp import experiment
from sparkexp.errors import ConfigError
from sparkexp.runner.doctor import doctor
from sparkexp.runner.resources import inspect_session

GPU_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "conf",
                          "gpu-discovery.sh")
QUIET = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}


def observe(i: int, sleep: float = 1.0) -> dict[str, Any]:
    """A trial that reports what it runs on: GPUs, executor JVM (pid, -Xmx), work dir, times."""
    import os
    import time

    started = time.time()
    time.sleep(sleep)
    pid, jvm, xmx = os.getpid(), None, None
    for _ in range(6):  # python worker -> pyspark daemon -> executor JVM (or driver JVM)
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
        if args and args[0].endswith("java"):
            jvm = pid
            xmx = next((a for a in args if a.startswith("-Xmx")), None)
            break
    return {"metric": float(i), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "jvm": jvm,
            "xmx": xmx, "cwd": os.getcwd(), "t0": started, "t1": time.time()}


def trials(res: Any) -> list[dict[str, Any]]:
    return [{"status": t.status, "error": t.error, "executor": t.executor, "host": t.host,
             "pid": t.pid, "gpus": t.gpus, **{k: v for k, v in t.outputs.items() if k != "metric"}}
            for t in res.trials]


def run(spark: Any, root: str, name: str, n: int, **options: Any) -> Any:
    """The Result of :func:`observe` on ``i`` = 0 .. n-1 (a grid), recorded under ``name``."""
    return experiment.grid_search(spark, observe, {"i": list(range(n))}, metric="metric",
                                  root=root, name=name, **options)


def expect_config_error(spark: Any, root: str, name: str, **options: Any) -> dict[str, Any]:
    """The ConfigError (None if none) of a one-trial experiment asking ``options``, and how long
    it took to come."""
    started = time.monotonic()
    try:
        run(spark, root, name, 1, **options)
    except ConfigError as exc:
        return {"error": str(exc), "seconds": time.monotonic() - started}
    return {"error": None, "seconds": time.monotonic() - started}


def standalone(master: str, webui: str, root: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # no spark.sparkexp.masterWebUi: sparkexp asks the master for its workers (the UI's port
    # is not 8080)
    spark = sparkexp.session(master, executor_memory="512m", executor_cores=2, executor_gpus=2,
                             app_name="sparkexp-cluster-test", **QUIET)
    spark.sparkContext.setLogLevel("ERROR")
    info = inspect_session(spark)
    out["info"] = {"executors": info.executors, "slots": info.slots, "summary": info.summary(),
                   "executor_gpus": info.executor_gpus, "cores": info.executor_cores}
    out["gpu_trials"] = trials(run(spark, root, "gpus", 8, gpus_per_trial=1, max_parallel=4))
    out["plain_trials"] = trials(run(spark, root, "nogpus", 2, max_parallel=2))
    out["too_many_gpus"] = expect_config_error(spark, root, "impossible", gpus_per_trial=3)
    out["doctor"] = doctor(spark, root=root)
    spark.stop()
    big = sparkexp.session(master, executor_memory="2g", app_name="sparkexp-too-big", **QUIET)
    out["too_much_memory"] = expect_config_error(big, root, "toobig")
    big.stop()
    return out


def local(root: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    os.environ["SPARKEXP_FAKE_GPUS"] = "0,1"  # what the discovery script advertises
    spark = sparkexp.session("local[2]", executor_memory="1g", executor_gpus=2,
                             gpu_discovery_script=GPU_SCRIPT, **QUIET)
    spark.sparkContext.setLogLevel("ERROR")
    out["driver_gpus"] = list(spark.sparkContext.resources["gpu"].addresses)
    out["one_gpu"] = trials(run(spark, root, "one_gpu", 4, gpus_per_trial=1))
    out["two_gpus"] = trials(run(spark, root, "two_gpus", 2, gpus_per_trial=2, max_parallel=2))
    out["no_gpus"] = trials(run(spark, root, "no_gpus", 2, max_parallel=2))
    out["too_many_gpus"] = expect_config_error(spark, root, "impossible", gpus_per_trial=3)
    spark.stop()
    return out


def connect(master: str, webui: str, root: str) -> dict[str, Any]:
    """The GPU experiment from a Spark Connect client of a Connect server run against the cluster.

    The server is a separate process (``spark-submit --class ...SparkConnectServer``, what
    ``sbin/start-connect-server.sh`` runs) started with the same settings a classic driver gets
    from :func:`sparkexp.session`; this process is a pure Connect client (no JVM).
    """
    import signal
    import socket
    import subprocess

    import pyspark

    from sparkexp._session import session_conf

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = session_conf(master, executor_memory="512m", executor_cores=2, executor_gpus=2,
                        app_name="sparkexp-connect-cluster-test",
                        **{"spark.sparkexp.masterWebUi": webui, **QUIET,
                           "spark.connect.grpc.binding.address": "127.0.0.1",
                           "spark.connect.grpc.binding.port": str(port)})
    submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    args = [submit, "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--name", "sparkexp Connect server"]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    # the launcher sizes a Connect server like a daemon (SPARK_DAEMON_MEMORY, 256m for the
    # cluster's master and workers): too small for a driver
    env = {k: v for k, v in os.environ.items() if k != "SPARK_DAEMON_MEMORY"}
    args += ["--driver-memory", "600m"]
    log = open(os.path.join(root, "connect-server.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)
    out: dict[str, Any] = {}
    spark = None
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    raise SystemExit("the Connect server did not start:\n" + open(
                        os.path.join(root, "connect-server.log"), errors="replace").read()[-4000:]) from None
                time.sleep(0.5)
        os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"  # as builder.remote(...) sets it
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
        out["session"] = type(spark).__module__
        res = run(spark, root, "gpus", 8, gpus_per_trial=1, max_parallel=4)
        out["gpu_trials"] = trials(res)
        out["master"] = res.manifest["master"]
    finally:
        if spark is not None:  # before the server goes: a client retries a dead server for minutes
            with contextlib.suppress(Exception):
                spark.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
        log.close()
    return out


def main(argv: list[str]) -> None:
    if argv[0] == "standalone":
        out = standalone(argv[1], argv[2], argv[3])
    elif argv[0] == "local":
        out = local(argv[1])
    elif argv[0] == "connect":
        out = connect(argv[1], argv[2], argv[3])
    else:
        raise SystemExit(f"unknown scenario {argv[0]!r}: standalone, local or connect")
    print("RESULT: " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
