"""``sparkexp run SPEC --mlflow URI`` as a shell user runs it: tracked, and said so on exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sparkexp.tracking import TAG_TRIAL

mlflow = pytest.importorskip("mlflow")

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_run_spec_with_mlflow(tmp_path):
    (tmp_path / "model.py").write_text("def train(lr):\n    print('lr', lr)\n    return 1 - lr\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "spec.json").write_text(json.dumps({
        "function": "model.py:train", "strategy": "grid", "space": {"lr": [0.1, 0.2]},
        "name": "clitracked"}))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "PYTHONPATH": _REPO, "PYSPARK_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run([sys.executable, "-m", "sparkexp", "run", "spec.json", "--master",
                           "local[1]", "--root", "project", "--mlflow", uri],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"mlflow: every run logged to {uri}" in done.stdout.splitlines()
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("clitracked").experiment_id])
    assert sorted(r.data.tags.get(TAG_TRIAL, r.info.run_name) for r in runs) == \
        ["clitracked_1", "trial_00000", "trial_00001"]
    assert {r.info.status for r in runs} == {"FINISHED"}
