"""A driver for the executor-loss test, run in its own process against the standalone cluster.

Usage: ``python executor_kill_driver.py MASTER_URL MASTER_WEBUI ROOT``. Runs an 8-trial grid,
4 at a time on 2 executors; trial 2, the first time it runs, SIGKILLs its own executor JVM
(``CoarseGrainedExecutorBackend``), which also takes the other trial running on that executor.
Prints ``RESULT: {json}`` with every trial and the journal's result events.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import sparkexp
from sparkexp import experiment


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


def kills_its_executor(i: int, marks: str) -> dict[str, Any]:
    import signal

    jvm, args = executor_jvm()
    first = not os.path.exists(os.path.join(marks, str(i)))
    with open(os.path.join(marks, str(i)), "a") as f:
        f.write(f"{jvm}\n")
    time.sleep(1.5)  # the four trials are all running now
    if i == 2 and first:
        assert any("CoarseGrainedExecutorBackend" in a for a in args), args
        os.kill(jvm, signal.SIGKILL)
        time.sleep(60)  # never reached: the executor and this worker die
    time.sleep(1.0)
    return {"metric": float(i), "jvm": jvm}


def cluster_session(master: str, webui: str, app_name: str) -> Any:
    """A session on the test cluster: 2 executors of 2 cores, quiet logs."""
    spark = sparkexp.session(master, executor_memory="512m", executor_cores=2, app_name=app_name,
                             **{"spark.sparkexp.masterWebUi": webui, "spark.ui.enabled": "false",
                                "spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(master: str, webui: str, root: str) -> None:
    spark = cluster_session(master, webui, "sparkexp-executor-kill")
    marks = os.path.join(root, "marks")
    os.makedirs(marks)
    res = experiment.grid_search(spark, kills_its_executor, {"i": list(range(8)), "marks": [marks]},
                                 max_parallel=4, metric="metric", root=root, name="lost_executor",
                                 progress=False)
    with open(os.path.join(res.path, "journal.jsonl")) as f:
        events = [json.loads(line) for line in f]
    runs = {name: open(os.path.join(marks, name)).read().split() for name in os.listdir(marks)}
    out = {
        "trials": [{"i": t.params["i"], "status": t.status, "error": t.error, "attempt": t.attempt,
                    "executor": t.executor, "jvm": t.outputs.get("jvm")} for t in res.trials],
        "results": [e["id"] for e in events if e["e"] == "result"],
        "starts": [[e["id"], e.get("executor")] for e in events if e["e"] == "start"],
        "runs": runs,
    }
    spark.stop()
    print("RESULT: " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
