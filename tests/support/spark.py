"""Spark sessions for the tests, without pytest: the shared JVM's settings and driver scripts.

One local[2] JVM per test session serves both kinds of client: the classic ``spark`` fixture
starts it with Spark Connect's server plugin, and Connect clients reach it at
``sc://127.0.0.1:<port>``. That is what ``SparkSession.builder.remote("local[2]")`` does (a
classic session with the plugin, then a client of it), minus a second JVM: two cores are
shared by every test. (``remote("local[2]")`` itself refuses to start in a process that
already has a SparkContext.)

Driver scripts run as subprocesses (tests/live_job.py, tests/resume_job.py) call
:func:`script_session`: a pure Connect client of the test session's server when the test set
:data:`REMOTE_ENV`, else their own classic local[2] session.
"""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["CONNECT_PLUGIN", "REMOTE_ENV", "connect_conf", "free_port", "remote_session",
           "script_session"]

CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
#: set to the test session's ``sc://`` URL for driver scripts that must be Connect clients
REMOTE_ENV = "SPARKEXP_TEST_REMOTE"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connect_conf(port: int) -> dict[str, str]:
    """Settings that make a classic session also serve Spark Connect clients on ``port``."""
    return {
        "spark.plugins": CONNECT_PLUGIN,
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
    }


def remote_session(url: str) -> Any:
    """A Spark Connect client session of ``url`` (``sc://host:port``)."""
    from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

    return RemoteSparkSession.builder.remote(url).getOrCreate()


def script_session() -> Any:
    """The session a driver script runs on: Connect if :data:`REMOTE_ENV` is set, else classic."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    url = os.environ.get(REMOTE_ENV)
    if url:
        os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"  # as builder.remote(...) sets it
        return remote_session(url)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false").getOrCreate())
