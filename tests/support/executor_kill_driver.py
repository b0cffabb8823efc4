"""A driver for the executor-loss test, run in its own process against the standalone cluster.

Usage: ``python executor_kill_driver.py MASTER_URL MASTER_WEBUI ROOT``. Runs an 8-trial grid,
4 at a time on 2 executors; trial 2, the first time it runs, SIGKILLs its own executor JVM
(``CoarseGrainedExecutorBackend``), which also takes the other trial running on that executor.
Prints ``RESULT: {json}`` with every trial and the journal's result events.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

from support.cluster_kill import executor_jvm, print_result, run_marked_grid


def kills_its_executor(i: int, marks: str) -> dict[str, Any]:
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


def main(argv: list[str]) -> None:
    res, runs = run_marked_grid(argv, kills_its_executor, 8, app_name="sparkexp-executor-kill",
                                name="lost_executor", metric="metric")
    with open(os.path.join(res.path, "journal.jsonl")) as f:
        events = [json.loads(line) for line in f]
    print_result({
        "trials": [{"i": t.params["i"], "status": t.status, "error": t.error, "attempt": t.attempt,
                    "executor": t.executor, "jvm": t.outputs.get("jvm")} for t in res.trials],
        "results": [e["id"] for e in events if e["e"] == "result"],
        "starts": [[e["id"], e.get("executor")] for e in events if e["e"] == "start"],
        "runs": runs,
    })


if __name__ == "__main__":
    main(sys.argv[1:4])
