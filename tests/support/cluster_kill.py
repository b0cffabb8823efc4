"""Shared parts of the driver scripts that kill an executor on the standalone test cluster.

Each script (``executor_kill_driver.py``, ``checkpoint_cluster_driver.py``) runs in its own
process as ``python SCRIPT MASTER_URL MASTER_WEBUI ROOT``: a grid of trials ``i = 0..n-1``,
4 at a time on the cluster's 2 executors, where one trial SIGKILLs its own executor JVM. Every
run of a trial appends a line to ``ROOT/marks/<i>``; the script prints ``RESULT: {json}``.

Executors import this module by the name ``support.cluster_kill`` (the cluster's PYTHONPATH
holds tests/, not tests/support/): the trial functions, defined in the scripts' ``__main__``,
are pickled by value and refer to :func:`executor_jvm` here by that name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import sparkexp
from sparkexp import experiment
from sparkexp.result import Result

__all__ = ["executor_jvm", "cluster_session", "run_marked_grid", "print_result"]


def executor_jvm() -> tuple[int, list[str]]:
    """The pid and command line of the executor JVM above this Python worker."""
    pid = os.getpid()
    for _ in range(6):  # python worker -> pyspark daemon -> executor JVM
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
        if args and args[0].endswith("java"):
            return pid, args
    raise RuntimeError("no JVM above this Python worker")


def cluster_session(master: str, webui: str, app_name: str) -> Any:
    """A session on the test cluster: 2 executors of 2 cores, quiet logs."""
    spark = sparkexp.session(master, executor_memory="512m", executor_cores=2, app_name=app_name,
                             **{"spark.sparkexp.masterWebUi": webui, "spark.ui.enabled": "false",
                                "spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_marked_grid(argv: Sequence[str], fn: Callable[..., Any], trials: int, *, app_name: str,
                    name: str, metric: str) -> tuple[Result, dict[str, list[str]]]:
    """Run ``fn`` over ``{"i": 0..trials-1, "marks": [ROOT/marks]}`` on the cluster named by
    ``argv`` (``MASTER_URL MASTER_WEBUI ROOT``), 4 trials at a time; stop the session.

    Returns the result and, per trial ``i`` (as a string), the lines its runs wrote in marks.
    """
    master, webui, root = argv
    spark = cluster_session(master, webui, app_name)
    marks = os.path.join(root, "marks")
    os.makedirs(marks)
    try:
        res = experiment.grid_search(spark, fn, {"i": list(range(trials)), "marks": [marks]},
                                     max_parallel=4, metric=metric, root=root, name=name,
                                     progress=False)
    finally:
        spark.stop()
    runs = {}
    for entry in os.listdir(marks):
        with open(os.path.join(marks, entry)) as f:
            runs[entry] = f.read().split()
    return res, runs


def print_result(out: dict[str, Any]) -> None:
    """Hand ``out`` to the test (``run_driver`` reads the ``RESULT:`` line)."""
    print("RESULT: " + json.dumps(out), flush=True)
