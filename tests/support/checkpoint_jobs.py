"""Training functions for the checkpoint tests (importable by executors), and a driver script.

``counting`` sums its steps, saving ``{"step", "total"}`` after every report, and appends the
step each run starts from to ``marks/<name>``: a run that continues from a checkpoint starts
past 0, and the final total is right only if no step was lost or done twice.

Run as a script (``python checkpoint_jobs.py ROOT``) it is a driver the resume test kills.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def runs(marks: str, name: str) -> list[int]:
    """The step each run of trial ``name`` started from."""
    path = os.path.join(marks, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def counting(name: str, steps: int, marks: str, reporter: Any, fail_at: int = -1,
             how: str = "raise", sleep: float = 0.0) -> dict[str, float]:
    state = reporter.restore() or {"step": -1, "total": 0}
    first = not runs(marks, name)
    with open(os.path.join(marks, name), "a") as f:
        f.write(f"{state['step'] + 1}\n")
    for step in range(state["step"] + 1, steps):
        state = {"step": step, "total": state["total"] + step}
        reporter.log(step=step, loss=float(steps - step))
        reporter.checkpoint(state)
        if step == fail_at and first:
            if how == "exit":
                os._exit(3)  # the Python worker dies, as with a lost executor
            raise RuntimeError(f"failing at step {step}")
        time.sleep(sleep)
    return {"total": float(state["total"]), "loss": 0.0}


def never_checkpoints(name: str, reporter: Any) -> float:
    for step in range(5):
        reporter.log(step=step, loss=1.0)
    return 1.0


def toy(h0: float, h1: float, reporter: Any, steps: int = 20, sleep: float = 0.15,
        together: str = "", population: int = 2) -> dict[str, float]:
    """The toy problem of the PBT paper: maximise ``Q = 1.2 - t0**2 - t1**2`` by gradient
    ascent on the surrogate ``1.2 - h0 * t0**2 - h1 * t1**2`` (``h`` the hyperparameters).
    With ``together`` (a directory), the first ``population`` trials wait for each other after
    their first report, so they train side by side however slowly their workers start."""
    state = reporter.restore()
    fresh = state is None
    state = state or {"theta": [0.9, 0.9], "step": -1}
    t0, t1 = state["theta"]
    q = 1.2 - t0 ** 2 - t1 ** 2
    for step in range(state["step"] + 1, steps):
        t0, t1 = t0 - 0.1 * h0 * t0, t1 - 0.1 * h1 * t1
        q = 1.2 - t0 ** 2 - t1 ** 2
        reporter.log(step=step, q=q)
        reporter.checkpoint({"theta": [t0, t1], "step": step})
        if fresh and together and step == 0:
            open(os.path.join(together, f"{h0}-{h1}"), "w").close()
            deadline = time.time() + 120
            while len(os.listdir(together)) < population and time.time() < deadline:
                time.sleep(0.05)
        time.sleep(sleep)
    return {"q": q}


def main(root: str) -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from sparkexp import experiment

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    marks = os.path.join(root, "marks")
    os.makedirs(marks, exist_ok=True)
    experiment.grid_search(spark, counting, {"name": ["a"], "steps": [40], "marks": [marks],
                                             "sleep": [0.15]},
                           root=root, name="killed", metric="loss", direction="min", progress=False)


def retry_main(root: str, marks: str) -> None:
    """A driver of its own (its executors get this process's environment, e.g.
    ``SPARKEXP_WEBHDFS_URL``): ``counting`` fails at step 7 once and is retried; prints the
    trial's record as JSON."""
    import json

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from sparkexp import experiment

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    res = experiment.grid_search(spark, counting, {"name": ["h"], "steps": [20], "marks": [marks],
                                                   "fail_at": [7]},
                                 root=root, name="hdfs_retry", metric="loss", direction="min",
                                 max_trial_retries=1, keep_checkpoints=2, progress=False)
    trial = res.trials[0]
    print(json.dumps({"path": res.path, "id": trial.id, "status": str(trial.status), "attempt": trial.attempt,
                      "total": trial.outputs["total"], "restored": trial.restored,
                      "checkpoints": trial.checkpoints}))
    spark.stop()


if __name__ == "__main__":
    if sys.argv[1] == "retry":
        retry_main(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])


def curve(x: float, reporter: Any, steps: int = 9) -> float:
    """A learning curve that ends at ``(x - 0.3) ** 2``; one report per step."""
    loss = 1.0
    for step in range(1, steps + 1):
        loss = (x - 0.3) ** 2 + 1.0 / step
        reporter.log(step=step, loss=loss)
        time.sleep(0.1)
    return loss
