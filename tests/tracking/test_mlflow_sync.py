"""Live MLflow tracking and export against a real sqlite-backed MLflow, on real Spark."""

from __future__ import annotations

import pytest
from support.mlflow_trials import curve, slow

from sparkexp import experiment
from sparkexp.tracking import CONF_KEY, TAG_EXPERIMENT, TAG_TRIAL, export

mlflow = pytest.importorskip("mlflow")


def _runs(uri: str, name: str) -> tuple[object, list[object]]:
    """(parent run, trial runs sorted by trial id) of MLflow experiment ``name``."""
    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if TAG_TRIAL not in r.data.tags]
    children = sorted((r for r in runs if TAG_TRIAL in r.data.tags),
                      key=lambda r: r.data.tags[TAG_TRIAL])
    assert len(parents) == 1, [r.info.run_name for r in parents]
    return parents[0], children


def _snapshot(uri: str, name: str) -> dict[str, object]:
    """Everything a user sees of the runs, keyed by run name (ids and times left out)."""
    client = mlflow.MlflowClient(uri)
    parent, children = _runs(uri, name)
    seen = {}
    for run in [parent, *children]:
        history = {key: sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, key))
                   for key in run.data.metrics}
        tags = {k: v for k, v in run.data.tags.items()
                if k.startswith("sparkexp.") and k not in ("sparkexp.best_run_id",)}
        seen[run.info.run_name] = (run.info.status, dict(run.data.params), history, tags)
    return seen


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """MLflow puts a sqlite store's artifacts under ./mlruns: keep them in tmp_path."""
    monkeypatch.chdir(tmp_path)


def test_live_tracking_records_every_trial(spark, root, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = experiment.grid_search(spark, curve, {"lr": [0.1, 0.2, 0.3], "fail": [False, True]},
                                 metric="accuracy", name="live", root=root, mlflow=uri,
                                 progress=False, echo_output=False)
    assert res.tracking.wait(300)
    parent, children = _runs(uri, "live")
    client = mlflow.MlflowClient(uri)

    assert parent.info.run_name == "live_1" and parent.info.status == "FINISHED"
    assert parent.data.tags[TAG_EXPERIMENT] == res.path
    assert parent.data.params["strategy"] == "grid" and parent.data.params["metric"] == "accuracy"
    assert parent.data.metrics["best_accuracy"] == pytest.approx(res.best.metric)
    assert parent.data.metrics["trials_complete"] == 3 and parent.data.metrics["trials_error"] == 3
    assert parent.data.tags["sparkexp.best_trial"] == res.best.id
    assert "experiment.json" in [a.path for a in client.list_artifacts(parent.info.run_id)]

    assert [r.data.tags[TAG_TRIAL] for r in children] == [t.id for t in res.trials]
    for run, trial in zip(children, res.trials):
        tags = run.data.tags
        assert run.info.run_name == trial.id
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.params == {"lr": str(trial.params["lr"]), "fail": str(trial.params["fail"]).lower()}
        assert tags["sparkexp.status"] == trial.status
        assert tags["sparkexp.slot"] == str(trial.slot)
        assert tags["sparkexp.host"] == trial.host
        assert tags["sparkexp.spark_task"] == str(trial.spark_task)
        assert tags["sparkexp.attempt"] == "1"
        history = client.get_metric_history(run.info.run_id, "acc")
        assert sorted((m.step, m.value) for m in history) == [(s, pytest.approx(s / 3)) for s in range(3)]
        logs = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/logs/stdout.log")
        assert f"training lr={trial.params['lr']}" in logs
        errors = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/logs/stderr.log")
        assert f"warning from lr={trial.params['lr']}" in errors
        if trial.params["fail"]:
            assert run.info.status == "FAILED"
            assert f"diverged at lr={trial.params['lr']}" in tags["sparkexp.error"]
        else:
            assert run.info.status == "FINISHED" and "sparkexp.error" not in tags
            assert run.data.metrics["accuracy"] == pytest.approx(trial.metric)

    # exporting again writes nothing and changes nothing
    before = _snapshot(uri, "live")
    assert export(res.path, uri) == 0
    assert _snapshot(uri, "live") == before

    # a backfill into an empty MLflow gives what live tracking gave
    other = f"sqlite:///{tmp_path / 'backfill.db'}"
    assert export(res.path, other) == 7
    assert _snapshot(other, "live") == before


def test_resume_makes_no_duplicates(spark, root, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spark.conf.set(CONF_KEY, uri)  # tracking from the Spark conf, no mlflow= given
    try:
        first = experiment.grid_search(spark, slow, {"x": list(range(8))}, name="resumed", root=root,
                                       max_parallel=1, timeout=2.0, progress=False, echo_output=False)
    finally:
        spark.conf.unset(CONF_KEY)
    assert first.state == "timeout" and first.tracking.wait(300)
    parent, children = _runs(uri, "resumed")
    assert parent.info.status == "FINISHED" and parent.data.tags["sparkexp.state"] == "timeout"
    started = [t.id for t in first.trials if t.status != "queued"]
    assert [r.data.tags[TAG_TRIAL] for r in children] == started and len(started) < 8

    assert first.manifest["mlflow"] == uri  # recorded, so resume and retry keep tracking
    res = experiment.resume(spark, first.path, slow, timeout=None, progress=False)
    assert res.state == "finished" and res.tracking.wait(300)
    again, children = _runs(uri, "resumed")
    assert again.info.run_id == parent.info.run_id
    assert again.info.status == "FINISHED" and again.data.tags["sparkexp.state"] == "finished"
    assert [r.data.tags[TAG_TRIAL] for r in children] == [t.id for t in res.trials]
    assert [r.data.tags["sparkexp.status"] for r in children] == [t.status for t in res.trials]
    client = mlflow.MlflowClient(uri)
    for run, trial in zip(children, res.trials):  # the re-run's reports are not logged twice
        assert len(client.get_metric_history(run.info.run_id, "value")) == len(trial.history)
    assert export(res.path, uri) == 0
