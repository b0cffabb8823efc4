"""A Spark Python worker that ran and recorded sparkexp trials never imported torch or
TensorFlow (tensorboardX's package import loads torch when installed; sparkexp must not).

Runs its own driver in a subprocess (a fresh local[1] session): the shared test session's
Python workers may have run framework trials of other tests already."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: the checkout whose sparkexp the subprocesses import
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_DRIVER = r"""
import json, os, sys, time
from pyspark.sql import SparkSession
from sparkexp import experiment, reporter

HEAVY = ("torch", "tensorflow", "keras", "tensorboardX")

def train(x):
    import glob, os, sys, time
    from sparkexp import tensorboard

    reporter.log(step=1, loss=1.0 / x)
    if x == 1:
        return 1.0
    # the first trial is fully recorded (its HParams are written off the critical path)
    first = os.path.join(os.path.dirname(tensorboard.logdir()), "trial_00000")
    deadline = time.time() + 20
    while not glob.glob(first + "/*.~hparams") and time.time() < deadline:
        time.sleep(0.05)
    return {"metric": 2.0, "recorded": bool(glob.glob(first + "/*.~hparams")),
            "heavy": ",".join(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY))}

spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
res = experiment.grid_search(spark, train, {"x": [1, 2]}, root=sys.argv[1], name="light",
                             max_parallel=1, progress=False)
out = res.trials[1].outputs
driver_heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
print("RESULT " + json.dumps({"statuses": [t.status for t in res.trials], "recorded": out.get("recorded"),
                              "worker_heavy": out.get("heavy"), "driver_heavy": driver_heavy}))
spark.stop()
"""


@pytest.mark.timeout(300)
def test_a_spark_worker_that_recorded_trials_never_imported_torch(tmp_path):
    pytest.importorskip("torch")  # meaningful only where torch is installed
    root = tmp_path / "project"
    root.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", _DRIVER, str(root) + "/"], capture_output=True,
                         text=True, timeout=280, env=env)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    report = json.loads(lines[-1][len("RESULT "):])
    assert report["statuses"] == ["complete", "complete"]
    assert report["recorded"] is True
    assert report["worker_heavy"] == ""
    assert report["driver_heavy"] == []
