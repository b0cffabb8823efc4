"""A driver killed mid-experiment, as a crash would kill it; and its journal, read as it grows.

The resume tests start a driver script (in tests/support/) in its own process group, wait
until its journal shows the moment they want, then SIGKILL the whole group (the Python driver
and its Spark JVM) before resuming the experiment in the test's own session.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

__all__ = ["journal_events", "kill_driver_when"]

HERE = os.path.dirname(os.path.abspath(__file__))


def journal_events(path: str) -> list[dict[str, Any]]:
    """The events of experiment ``path``'s journal so far (none before it exists).

    Only whole lines count: a line still being written (or torn by the kill) is left out.
    """
    try:
        with open(os.path.join(path, "journal.jsonl")) as f:
            return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]
    except FileNotFoundError:
        return []


def kill_driver_when(script: str, *args: str, env: Mapping[str, str], until: Callable[[], bool],
                     waiting_for: str, timeout: float = 120) -> None:
    """Run ``python tests/support/SCRIPT ARGS`` and SIGKILL its process group once ``until()``.

    Fails the test if the driver ends first or ``until()`` does not hold within ``timeout``
    seconds (the message says the driver never ``waiting_for``). Executors run this Python.
    """
    driver = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                              env={**env, "PYSPARK_PYTHON": sys.executable}, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if until():
                break
            assert driver.poll() is None, "the driver ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail(f"the driver never {waiting_for}")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
