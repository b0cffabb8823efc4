"""Executor task threads that outlived their job in a running local SparkSession.

A leaked task thread is an executor thread still running a task (``Executor task launch
worker for task ...``, RUNNABLE or blocked in a Spark/PySpark frame) while the SparkContext
has no active stage: it holds a task slot nobody can use, so later experiments run on fewer
slots than the session offers.

:func:`leaked_task_threads` looks once; :func:`wait_for_leak_free` keeps looking for a few
seconds (a killed task may take up to ``spark.python.task.killTimeout`` to end) and returns
what is still there. Used as a pytest plugin (``-p support.leaked_tasks``) it checks the
shared session after every test and fails the first test that leaves one.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from typing import Any

import pytest

__all__ = ["TaskThread", "leaked_task_threads", "wait_for_leak_free"]

_TASK_THREAD = "Executor task launch worker for "


class TaskThread:
    """One executor thread running a task: its name, state and the top of its stack."""

    def __init__(self, name: str, state: str, frames: list[str]) -> None:
        self.name = name
        self.state = state
        self.frames = frames

    def __repr__(self) -> str:
        top = "\n    ".join(self.frames[:25])
        return f"{self.name} [{self.state}]\n    {top}"


def _running_task_threads(sc: Any) -> list[TaskThread]:
    """Executor threads whose stack shows a task running (an idle pool thread keeps the name of
    its last task but waits in its pool's queue, with no ``TaskRunner.run`` frame)."""
    jvm = sc._jvm
    found = []
    traces = jvm.java.lang.Thread.getAllStackTraces()
    for thread in list(traces.keySet()):
        name = str(thread.getName())
        if not name.startswith(_TASK_THREAD):
            continue
        frames = [str(f) for f in traces.get(thread)]
        if any("Executor$TaskRunner.run(" in f for f in frames):
            found.append(TaskThread(name, str(thread.getState().toString()), frames))
    return found


def leaked_task_threads(sc: Any) -> list[TaskThread]:
    """Task threads running while the context has no active stage (one look)."""
    tracker = sc.statusTracker()
    if list(tracker.getActiveStageIds()) or list(tracker.getActiveJobsIds()):
        return []
    threads = _running_task_threads(sc)
    if threads and (list(tracker.getActiveStageIds()) or list(tracker.getActiveJobsIds())):
        return []  # a job started meanwhile
    return threads


def wait_for_leak_free(sc: Any, seconds: float = 8.0) -> list[TaskThread]:
    """Look until no task thread runs without a stage, or ``seconds`` pass; what remains."""
    deadline = time.monotonic() + seconds
    while True:
        leaked = leaked_task_threads(sc)
        if not leaked or time.monotonic() >= deadline:
            return leaked
        time.sleep(0.25)


def _active_context() -> Any:
    try:
        from pyspark import SparkContext
    except ImportError:  # pragma: no cover
        return None
    sc = SparkContext._active_spark_context
    return sc if sc is not None and sc._jsc is not None else None


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    yield
    sc = _active_context()
    if sc is None:
        return
    leaked = wait_for_leak_free(sc)
    log = os.environ.get("SPARKEXP_LEAK_LOG")
    if log:
        with contextlib.suppress(Exception), open(log, "a") as out:
            out.write(f"{item.nodeid} next_tid={sc._jsc.sc().taskScheduler().nextTaskId()}\n")
    if leaked:
        message = f"LEAKED TASK THREAD after {item.nodeid}:\n" + "\n".join(map(repr, leaked))
        print("\n" + message, flush=True)
        if log:
            with open(log, "a") as out:
                out.write(message + "\n")
                out.write(subprocess.run(["ps", "-eo", "pid,ppid,etimes,args"], capture_output=True,
                                         text=True).stdout)
        pytest.exit(message, returncode=3)
