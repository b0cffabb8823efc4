"""Executor task threads that outlived their job in a running local SparkSession.

A leaked task thread is an executor thread still running a task (``Executor task launch
worker for task ...``, RUNNABLE or blocked in a Spark/PySpark frame) while the SparkContext
has no active stage: it holds a task slot nobody can use, so later experiments run on fewer
slots than the session offers.

:func:`leaked_task_threads` looks once; :func:`wait_for_leak_free` keeps looking for a few
seconds (a killed task's thread ends 2-4 s after the kill: PySpark's monitor polls every 2 s,
then waits ``spark.python.task.killTimeout``) and returns what is still there. The autouse
fixture :func:`no_leaked_task_threads` (tests/conftest.py imports it) checks the test
process's session after every test and fails the test that left one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["TaskThread", "leaked_task_threads", "no_leaked_task_threads", "wait_for_leak_free"]

_TASK_THREAD = "Executor task launch worker for "
#: a killed task's thread ends 2-4 s after the kill; this leaves room for a loaded machine
_WAIT = 8.0


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


def _tasks_running(sc: Any) -> int:
    """Tasks the task scheduler launched and has not seen end (a killed one counts until its
    thread reports the end): a cheap first look (one or two py4j calls, not one per thread)."""
    counts = sc._jsc.sc().taskScheduler().runningTasksByExecutors().values().iterator()
    running = 0
    while counts.hasNext():
        running += int(counts.next())
    return running


def leaked_task_threads(sc: Any) -> list[TaskThread]:
    """Task threads running while the context has no active stage (one look)."""
    tracker = sc.statusTracker()
    if list(tracker.getActiveStageIds()) or list(tracker.getActiveJobsIds()) or not _tasks_running(sc):
        return []
    threads = _running_task_threads(sc)
    if threads and (list(tracker.getActiveStageIds()) or list(tracker.getActiveJobsIds())):
        return []  # a job started meanwhile
    return threads


def wait_for_leak_free(sc: Any, seconds: float = _WAIT) -> list[TaskThread]:
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


#: task threads already reported (a leak fails the test that left it, not every later one)
_REPORTED = pytest.StashKey[set]()


@pytest.fixture(autouse=True)
def no_leaked_task_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, on the test process's SparkSession if one runs: fail the test if an
    executor task thread still runs with no active stage some seconds later (a slot it took is
    not given back). ``SPARKEXP_TEST_LEAK_CHECK=0`` turns the check off; ``SPARKEXP_LEAK_LOG=
    <file>`` appends each test's next Spark task id there (to find which test ran a task id)."""
    yield
    if os.environ.get("SPARKEXP_TEST_LEAK_CHECK", "1") == "0":
        return
    sc = _active_context()
    if sc is None:
        return
    leaked = wait_for_leak_free(sc)
    log = os.environ.get("SPARKEXP_LEAK_LOG")
    if log:
        with contextlib.suppress(Exception), open(log, "a") as out:
            out.write(f"{request.node.nodeid} next_tid={sc._jsc.sc().taskScheduler().nextTaskId()}\n")
            if leaked:
                out.write("".join(f"{t!r}\n" for t in leaked))
    reported = request.config.stash.setdefault(_REPORTED, set())
    new = [t for t in leaked if t.name not in reported]
    if new:
        reported.update(t.name for t in new)
        pytest.fail("an executor task still runs with no Spark job active after this test "
                    "(its task slot is not given back):\n" + "\n".join(map(repr, new)), pytrace=False)
