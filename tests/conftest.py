"""Shared fixtures: one real local[2] SparkSession for the whole test session."""

from __future__ import annotations

import os
import sys

import pytest
from support.fixtures import any_spark, browser, connect_spark, connect_url, session_env  # noqa: F401
from support.leaked_tasks import no_leaked_task_threads  # noqa: F401
from support.spark import connect_conf, free_port

# Executors must run this interpreter (it has sparkexp installed), on loopback only.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
os.environ.pop("SPARKEXP_PROJECT_ROOT", None)
# Training functions defined in test modules are pickled by reference: executors (forked by the
# JVM, which inherits this environment) must be able to import the test modules, as a user's
# executors import the modules shipped with --py-files.
# The tree mirrors the package (tests/runner/, tests/search/, ...); helpers are the package
# ``support`` under tests/. Test modules of every folder are importable on executors by name.
_TESTS = os.path.dirname(os.path.abspath(__file__))
_DIRS = [_TESTS, *sorted(os.path.join(_TESTS, d) for d in os.listdir(_TESTS)
                         if d not in ("support", "__pycache__") and not d.startswith(".")
                         and os.path.isdir(os.path.join(_TESTS, d)))]
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (*_DIRS, os.environ.get("PYTHONPATH")) if p)


@pytest.fixture(scope="session")
def spark():
    """A real local-mode SparkSession with 2 task slots, shared by all tests.

    Its JVM also serves Spark Connect clients (``connect_spark``, ``any_spark``).
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in connect_conf(free_port()).items():
        builder = builder.config(key, value)
    session = (
        builder.master("local[2]")
        .appName("sparkexp-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture()
def root(tmp_path):
    """A fresh, existing project root directory (with a trailing slash, as users write it)."""
    path = tmp_path / "project"
    path.mkdir()
    return str(path) + "/"
