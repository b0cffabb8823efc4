"""The core, as a user meets it: grid search and launch on a real local[2] Spark session."""

from __future__ import annotations

import json
import os
import time

import pyarrow.parquet as pq
import pytest

from sparkexp import experiment, hdfs, tensorboard
from sparkexp.errors import NotInTrialError

SEED_GRID = {"learning_rate": [0.001, 0.0005, 0.0001], "dropout": [0.45, 0.7]}


def seed_train(learning_rate, dropout):
    """The README's example: reads a project file, writes TensorBoard, prints, returns a number."""
    from tensorboardX import SummaryWriter

    data = hdfs.project_path() + "Resources/train.csv"
    with open(data) as f:
        rows = len(f.read().splitlines())
    logdir = tensorboard.logdir()
    writer = SummaryWriter(logdir)
    writer.add_scalar("accuracy", 1 - dropout / 2, 1)
    writer.close()
    print(f"training lr={learning_rate} dropout={dropout} on {rows} rows")
    return rows / 100 - abs(learning_rate - 0.0005) * 100 - dropout / 10


def test_seed_example_grid_search(any_spark, root):
    os.makedirs(root + "Resources")
    with open(root + "Resources/train.csv", "w") as f:
        f.write("\n".join(str(i) for i in range(100)))

    res = experiment.grid_search(any_spark, seed_train, SEED_GRID, direction="max", root=root, name="seed")

    # cartesian order, first key slowest
    assert [t.params for t in res.trials] == [
        {"learning_rate": 0.001, "dropout": 0.45},
        {"learning_rate": 0.001, "dropout": 0.7},
        {"learning_rate": 0.0005, "dropout": 0.45},
        {"learning_rate": 0.0005, "dropout": 0.7},
        {"learning_rate": 0.0001, "dropout": 0.45},
        {"learning_rate": 0.0001, "dropout": 0.7},
    ]
    assert all(t.status == "complete" for t in res.trials), [t.error for t in res.trials]
    assert res.best_params == {"learning_rate": 0.0005, "dropout": 0.45}
    assert res.best_metric == pytest.approx(1.0 - 0.045)
    assert res.path == root + "Experiments/seed_1"
    # one directory per trial, which is also its TensorBoard logdir, distinct per trial
    logdirs = [t.logdir for t in res.trials]
    assert len(set(logdirs)) == 6
    for t in res.trials:
        files = os.listdir(t.logdir)
        assert any(f.startswith("events.out.tfevents") for f in files), files
        record = json.load(open(os.path.join(t.logdir, "trial.json")))
        assert record["params"] == t.params and record["status"] == "complete"
        assert record["metric"] == pytest.approx(t.metric)
        out = open(os.path.join(t.logdir, "stdout.log")).read()
        assert f"training lr={t.params['learning_rate']} dropout={t.params['dropout']} on 100 rows" in out
        assert t.started <= t.finished and t.host and t.pid
    manifest = json.load(open(res.path + "/experiment.json"))
    assert manifest["state"] == "finished" and manifest["strategy"] == "grid"
    assert manifest["direction"] == "max" and manifest["counts"] == {"complete": 6}
    assert manifest["app_id"] == any_spark.conf.get("spark.app.id")
    table = pq.read_table(res.path + "/results.parquet")
    assert table.num_rows == 6 and table.column("param.dropout").to_pylist()[:2] == [0.45, 0.7]


def test_result_object(spark, root):
    res = experiment.grid_search(spark, lambda a: {"score": a * 2, "tag": f"a{a}"}, {"a": [1, 3, 2]},
                                 direction="min", root=root)
    assert res.best.params == {"a": 1} and res.best_metric == 2
    assert res.metric == "score"
    assert res.trials[1].outputs == {"score": 6, "tag": "a3"}
    table = res.to_arrow()
    assert table.column("output.tag").to_pylist() == ["a1", "a3", "a2"]
    df = res.to_pandas()
    assert list(df["metric"]) == [2, 6, 4]
    # read back from disk gives the same trials
    again = experiment.load(res.path)
    assert [t.to_dict() for t in again.trials] == [t.to_dict() for t in res.trials]
    assert again.best_params == {"a": 1}


def test_default_name_is_app_id_and_runs_count_up(spark, root):
    r1 = experiment.grid_search(spark, lambda x: x, {"x": [1]}, root=root)
    r2 = experiment.grid_search(spark, lambda x: x, {"x": [1]}, root=root)
    app = spark.sparkContext.applicationId
    assert r1.path.endswith(f"Experiments/{app}_1") and r2.path.endswith(f"Experiments/{app}_2")
    assert [r.path for r in experiment.list_experiments(root)] == [r1.path, r2.path]
    assert [r.path for r in experiment.list(root)] == [r1.path, r2.path]  # the hops name


def failing(x):
    if x == 2:
        raise ValueError("bad hyperparameter x=2")
    return x


def test_exception_is_recorded_and_others_go_on(spark, root):
    res = experiment.grid_search(spark, failing, {"x": [1, 2, 3]}, root=root)
    statuses = [t.status for t in res.trials]
    assert statuses == ["complete", "error", "complete"]
    bad = res.trials[1]
    assert "ValueError: bad hyperparameter x=2" in bad.error and "Traceback" in bad.error
    assert bad.metric is None
    assert res.best_params == {"x": 3}
    record = json.load(open(os.path.join(bad.logdir, "trial.json")))
    assert record["status"] == "error" and "bad hyperparameter" in record["error"]


@pytest.mark.parametrize(
    "returned, metric, message",
    [
        (None, None, "returned None"),
        ("high", None, "returned 'high'"),
        (float("nan"), None, "is nan"),
        ({"a": 1.0}, "acc", "without the metric key 'acc' (keys: a)"),
    ],
)
def test_unusable_return_values_are_trial_errors(spark, root, returned, metric, message):
    res = experiment.grid_search(spark, lambda x: returned, {"x": [1]}, metric=metric, root=root)
    (trial,) = res.trials
    assert trial.status == "error"
    assert message in trial.error


def test_launch_runs_one_trial(spark, root):
    res = experiment.launch(spark, lambda lr, layers=2: {"loss": lr * layers, "model": "m.bin"},
                            {"lr": 0.5}, metric="loss", direction="min", root=root, name="one")
    (trial,) = res.trials
    assert trial.status == "complete" and trial.metric == 1.0
    assert trial.outputs == {"loss": 1.0, "model": "m.bin"}
    assert res.path.endswith("Experiments/one_1")


def sleepy(duration):
    time.sleep(duration)
    return duration


def test_max_parallel_is_respected(spark, root):
    res = experiment.grid_search(spark, sleepy, {"duration": [0.2] * 4}, max_parallel=1, root=root)
    spans = sorted((t.started, t.finished) for t in res.trials)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # never two at once


def test_slots_never_idle_behind_a_slow_trial(root):
    # one slow trial and five short ones on two slots: the short ones flow through the other
    # slot while the slow one runs; a generation-synchronous runner would start the second pair
    # only when the slow trial ends, so most short trials would finish after it. Judged by the
    # order of events, not by wall time. Its own session (a driver script), so that it measures
    # scheduling alone: late in the full suite the shared session once had a task slot held by a
    # slot task killed at the end of an earlier experiment (PySpark frees it 2-4 s later; finished
    # experiments now let such tasks stop instead, and every test checks that it leaves no task
    # running: tests/support/leaked_tasks.py).
    import subprocess
    import sys

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "support", "never_idle_job.py"),
                          root], env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stderr[-3000:]
    trials = json.loads(lines[0][len("RESULT "):])
    (slow,) = [t for t in trials if t[0] == 1.5]
    short = [t for t in trials if t is not slow]
    assert sum(t[2] < slow[2] for t in short) >= 4, trials
    assert len({t[3] for t in trials}) == 2  # one reused Python worker per slot


def test_python_workers_are_reused(spark, root):
    res = experiment.grid_search(spark, lambda i: os.getpid(), {"i": list(range(30))}, root=root)
    assert len({t.metric for t in res.trials}) <= 2


def test_trial_api_outside_a_trial_is_a_clear_error():
    with pytest.raises(NotInTrialError, match=r"tensorboard.logdir\(\) can only be called inside a trial"):
        tensorboard.logdir()


def test_project_root_from_spark_conf(any_spark, tmp_path):
    conf_root = tmp_path / "from-conf"
    conf_root.mkdir()
    any_spark.conf.set("spark.sparkexp.projectRoot", str(conf_root))
    try:
        res = experiment.grid_search(any_spark, lambda x: len(hdfs.project_path()), {"x": [1]}, name="c")
        assert res.path == f"{conf_root}/Experiments/c_1"
        assert res.trials[0].metric == len(str(conf_root)) + 1  # with the trailing "/"
        assert hdfs.project_path() == str(conf_root) + "/"
        assert hdfs.path("Resources/x") == f"{conf_root}/Resources/x"
    finally:
        any_spark.conf.unset("spark.sparkexp.projectRoot")


def test_project_root_from_environment(spark, tmp_path, monkeypatch):
    env_root = tmp_path / "from-env"
    env_root.mkdir()
    monkeypatch.setenv("SPARKEXP_PROJECT_ROOT", str(env_root))
    res = experiment.grid_search(spark, lambda x: x, {"x": [1]}, name="e")
    assert res.path == f"{env_root}/Experiments/e_1"


def test_default_project_root_is_local_folder(spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = experiment.grid_search(spark, lambda x: x, {"x": [1]}, name="d")
    assert res.path == f"{tmp_path}/sparkexp-project/Experiments/d_1"


def test_no_threads_left_behind(spark, root):
    import threading

    experiment.grid_search(spark, lambda x: x, {"x": list(range(300))}, root=root, progress=False)
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith(("sparkexp-accept", "sparkexp-conn", "sparkexp-slot"))], names
