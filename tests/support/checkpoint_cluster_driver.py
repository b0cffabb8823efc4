"""A driver for the checkpoint test on the standalone cluster, run in its own process.

Usage: ``python checkpoint_cluster_driver.py MASTER_URL MASTER_WEBUI ROOT``. Four trials count
to 12, checkpointing every step, 4 at a time on 2 executors; trial 2, the first time it
reaches step 5, SIGKILLs its own executor JVM. Prints ``RESULT: {json}``: every trial, and per
trial the ``jvm:start step`` of each of its runs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from support.cluster_kill import executor_jvm, print_result, run_marked_grid

STEPS = 12


def counts_then_kills(i: int, marks: str, reporter: Any) -> dict[str, Any]:
    state = reporter.restore() or {"step": -1, "total": 0}
    jvm, _ = executor_jvm()
    first = not os.path.exists(os.path.join(marks, str(i)))
    with open(os.path.join(marks, str(i)), "a") as f:
        f.write(f"{jvm}:{state['step'] + 1}\n")
    for step in range(state["step"] + 1, STEPS):
        state = {"step": step, "total": state["total"] + step}
        reporter.log(step=step, loss=float(STEPS - step))
        reporter.checkpoint(state)
        if i == 2 and step == 5 and first:
            os.kill(jvm, signal.SIGKILL)
            time.sleep(60)  # never reached: the executor and this worker die
        time.sleep(0.3)
    return {"total": float(state["total"]), "jvm": jvm}


def main(argv: list[str]) -> None:
    res, runs = run_marked_grid(argv, counts_then_kills, 4, app_name="sparkexp-checkpoint-kill",
                                name="ckpt_kill", metric="total")
    print_result({
        "trials": [{"i": t.params["i"], "status": t.status, "error": t.error, "attempt": t.attempt,
                    "total": t.outputs.get("total"), "restored": t.restored,
                    "steps": [r["step"] for r in t.history],
                    "checkpoints": [c["step"] for c in t.checkpoints]} for t in res.trials],
        "runs": runs,
    })


if __name__ == "__main__":
    main(sys.argv[1:4])
