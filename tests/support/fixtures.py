"""Shared fixtures: classic and Spark Connect sessions sharing one local[2] JVM; a Chromium.

``any_spark`` is parametrized: a test that takes it runs once on the classic session and once
on a Spark Connect client of the same JVM (see :mod:`support.spark`). ``browser`` is one
headless Chromium per test module (the report and dashboard tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from support.chromium_cdp import MISSING_MESSAGE, Chromium, find_chromium
from support.spark import REMOTE_ENV, remote_session

__all__ = ["any_spark", "browser", "connect_spark", "connect_url", "session_env"]


@pytest.fixture(scope="session")
def connect_url(spark: Any) -> str:
    """``sc://`` URL of the Spark Connect server in the test session's JVM."""
    port = spark.sparkContext.getConf().get("spark.connect.grpc.binding.port")
    return f"sc://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def connect_spark(connect_url: str) -> Iterator[Any]:
    """A Spark Connect client session of the test JVM (one per test session)."""
    before = os.environ.get("SPARK_CONNECT_MODE_ENABLED")
    session = remote_session(connect_url)
    session.range(1).collect()  # the server answers
    if before is None:
        # a Connect client process runs with this set; the classic tests in this process do not
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    yield session
    session.stop()


@pytest.fixture(params=["classic", "connect"])
def any_spark(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The classic session, then a Spark Connect session (the test runs once with each)."""
    if request.param == "classic":
        return request.getfixturevalue("spark")
    session = request.getfixturevalue("connect_spark")
    # what PySpark's builder.remote(...) sets in a Connect client process (is_remote() is True)
    monkeypatch.setenv("SPARK_CONNECT_MODE_ENABLED", "1")
    return session


@pytest.fixture()
def session_env(any_spark: Any, connect_url: str) -> dict[str, str]:
    """Environment for a driver-script subprocess of the same kind as ``any_spark``."""
    env = {k: v for k, v in os.environ.items() if k != REMOTE_ENV}
    if type(any_spark).__module__.startswith("pyspark.sql.connect"):
        env[REMOTE_ENV] = connect_url
    return env


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    """A headless Chromium for the module's tests; fails (never skips) when none is installed."""
    if not find_chromium():
        pytest.fail(MISSING_MESSAGE, pytrace=False)
    with Chromium.launch() as b:
        yield b
