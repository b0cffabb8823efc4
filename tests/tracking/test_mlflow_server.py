"""A real ``mlflow server`` killed mid-experiment and restarted: the experiment is not held up,
the sync catches up, and ``sparkexp export-mlflow`` finds nothing missing (no duplicates)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
from support.mlflow_server import MlflowServer
from support.mlflow_trials import kills_server

from sparkexp import experiment
from sparkexp.tracking import TAG_TRIAL

mlflow = pytest.importorskip("mlflow")

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _trial_runs(uri: str, name: str) -> tuple[object, list[object]]:
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id], max_results=1000)
    parents = [r for r in runs if TAG_TRIAL not in r.data.tags]
    assert len(parents) == 1
    return parents[0], sorted((r for r in runs if TAG_TRIAL in r.data.tags),
                              key=lambda r: r.data.tags[TAG_TRIAL])


@pytest.mark.slow
def test_server_killed_mid_experiment(spark, root, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="sparkexp")
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    with MlflowServer(server_dir) as server:
        server.start()
        assert server.proc is not None
        res = experiment.grid_search(
            spark, kills_server, {"x": list(range(12)), "pid": [server.proc.pid], "at": [3]},
            name="crash", root=root, mlflow=server.uri, progress=False, echo_output=False)
        returned = time.time()
        assert res.state == "finished" and [t.status for t in res.trials] == ["complete"] * 12
        # the experiment was not held up by the dead server: it returned right after its last trial
        assert returned - max(t.finished for t in res.trials) < 15
        assert server.proc.poll() is not None, "trial 3 should have killed the server"
        assert not res.tracking.wait(0), "the sync cannot have finished while MLflow is down"

        server.start()  # same port, same database: the sync process catches up
        assert res.tracking.wait(300)
        assert f"MLflow tracking to {server.uri} failed" in caplog.text
        assert f"MLflow tracking to {server.uri} works again; catching up" in caplog.text
        parent, children = _trial_runs(server.uri, "crash")
        assert parent.info.status == "FINISHED"
        assert parent.data.metrics["trials_complete"] == 12
        assert [r.data.tags[TAG_TRIAL] for r in children] == [t.id for t in res.trials]
        client = mlflow.MlflowClient(server.uri)
        for run, trial in zip(children, res.trials):
            assert run.info.status == "FINISHED"
            assert run.data.metrics["metric"] == trial.metric
            assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "value")] \
                == [(0, float(trial.params["x"]))]
            assert [a.path for a in client.list_artifacts(run.info.run_id, "logs")] \
                == ["logs/stderr.log", "logs/stdout.log"]

        env = {**os.environ, "PYTHONPATH": _REPO}
        done = subprocess.run([sys.executable, "-m", "sparkexp", "export-mlflow", res.path,
                               "--tracking-uri", server.uri],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{res.path}: 0 MLflow run(s) written (MLflow held everything already)"
        assert len(_trial_runs(server.uri, "crash")[1]) == 12

    # MLflow gone for good: export says so in one line and exits 1
    done = subprocess.run([sys.executable, "-m", "sparkexp", "export-mlflow", res.path,
                           "--tracking-uri", server.uri], capture_output=True, text=True,
                          env={**env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}, timeout=300)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("sparkexp export-mlflow: error: MLflow: ")
