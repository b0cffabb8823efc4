"""hops-util-py calls port unchanged (imports and ``spark`` first only), on real local[2] Spark:
hops' keywords, its return shapes, its ``hdfs`` helpers, its high-first bounds, its default
``'metric'`` key, and a dict result that names no metric stopping the experiment at once."""

from __future__ import annotations

import json
import os

import pytest

from sparkexp import Result, experiment, hdfs
from sparkexp.errors import ExperimentAborted


def hops_train(learning_rate, dropout):
    """Shaped like hops' examples: uses hops' hdfs helpers, returns a dict of outputs."""
    hdfs.log(f"training with lr={learning_rate}, dropout={dropout}")
    data = hdfs.load("Resources/data.txt")
    hdfs.mkdir("Resources/outputs")
    out = f"Resources/outputs/lr{learning_rate:.6f}.txt"
    with hdfs.open_file(out, flags="w") as f:
        f.write(data.upper())
    accuracy = 1.0 - abs(learning_rate - 0.0005) * 100 - dropout / 10
    return {"accuracy": accuracy, "loss": 1 - accuracy, "rows": len(data.splitlines()),
            "exists": hdfs.exists(out) and hdfs.isdir("Resources/outputs")}


@pytest.fixture()
def project(root):
    os.makedirs(root + "Resources")
    with open(root + "Resources/data.txt", "w") as f:
        f.write("a\nb\nc\n")
    return root


def test_grid_search_with_hops_keywords_unpacks_as_hops_return_value(spark, project):
    grid_dict = {"learning_rate": [0.001, 0.0005], "dropout": [0.45, 0.7]}
    res = experiment.grid_search(spark, hops_train, grid_dict, direction=experiment.Direction.MAX,
                                 name="mnist_grid", local_logdir=False,
                                 description="hops' grid search", optimization_key="accuracy",
                                 root=project)
    assert isinstance(res, Result)
    logdir, best_params, return_dict = res  # hops: logdir, best_param, return_dict
    assert logdir == res.path and logdir.endswith("Experiments/mnist_grid_1")
    assert best_params == {"learning_rate": 0.0005, "dropout": 0.45}
    assert return_dict["accuracy"] == pytest.approx(0.955)
    assert return_dict["rows"] == 3 and return_dict["exists"] is True
    assert res.metric == "accuracy" and res.manifest["description"] == "hops' grid search"
    # hdfs.log lines are in the trial's log, timestamped as hops writes them
    assert "training with lr=0.0005, dropout=0.45" in res.best.stdout()
    assert open(project + "Resources/outputs/lr0.000500.txt").read() == "A\nB\nC\n"


def de_train(learning_rate, dropout):
    return {"metric": -(learning_rate - 0.0004) ** 2 * 1e6 - dropout, "note": "m.keras", "epochs": 1}


def test_differential_evolution_with_hops_arguments(spark, project):
    # hops' own example writes the learning-rate bound high-first; the range is what it means
    boundary_dict = {"learning_rate": [0.001, 0.0001], "dropout": [0.45, 0.7]}
    res = experiment.differential_evolution(
        spark, de_train, boundary_dict, direction=experiment.Direction.MAX, generations=1,
        population=4, mutation=0.5, crossover=0.7, name="mnist_de", local_logdir=True,
        description="hops DE", cleanup_generations=False, root=project)
    logdir, best_params, return_dict = res
    assert len(res.trials) <= 8 and all(t.status == "complete" for t in res.trials)
    assert all(0.0001 <= t.params["learning_rate"] <= 0.001 for t in res.trials)
    # no metric= given: hops' default key 'metric' is the one optimised
    assert res.metric == "metric" and return_dict["metric"] == res.best_metric
    assert best_params == res.best_params and logdir == res.path


def fit_only(learning_rate=0.01):
    print(f"fitting with {learning_rate}")


def metrics_dict(a, b):
    return {"accuracy": a / 10, "loss": b / 10}


def test_launch_returns_logdir_and_return_dict_and_accepts_a_function_returning_nothing(spark, project):
    logdir, return_dict = experiment.launch(spark, fit_only, name="fit", root=project)
    assert logdir.endswith("Experiments/fit_1") and return_dict == {}
    res = experiment.load(logdir)
    assert res.trials[0].status == "complete" and "fitting with 0.01" in res.trials[0].stdout()

    # hops' args_dict: one run per list position; metric_key is hops' launch name for metric
    res = experiment.launch(spark, metrics_dict, args_dict={"a": [1, 2], "b": [5, 3]},
                            metric_key="accuracy", root=project)
    assert [t.params for t in res.trials] == [{"a": 1, "b": 5}, {"a": 2, "b": 3}]
    logdir, return_dict = res
    assert return_dict == {"accuracy": 0.2, "loss": 0.3}


def two_numbers(x):
    import time

    time.sleep(0.3 if x > 0 else 0)
    return {"accuracy": 0.5 + x, "loss": 0.5 - x}


def test_a_dict_of_numbers_without_a_metric_stops_the_experiment_after_the_first_result(spark, project):
    with pytest.raises(ExperimentAborted) as info:
        experiment.grid_search(spark, two_numbers, {"x": [0, 1, 2, 3, 4, 5]}, max_parallel=2,
                               root=project, name="ambiguous")
    message = str(info.value)
    assert "several numbers (accuracy, loss)" in message and "optimization_key=" in message
    assert "\n" not in message
    res = info.value.result
    first = res.trials[0]
    assert first.status == "error" and first.outputs == {"accuracy": 0.5, "loss": 0.5}
    assert "several numbers" in first.stderr()
    record = json.load(open(os.path.join(first.logdir, "trial.json")))
    assert record["outputs"] == {"accuracy": 0.5, "loss": 0.5}
    # only what was already running when the first result came back ever started
    started = [t for t in res.trials if t.started is not None]
    assert len(started) <= 2
    assert all(t.status != "complete" for t in res.trials)


def hdfs_helpers(x):
    import tempfile

    from sparkexp import hdfs

    here = hdfs.project_path()
    hdfs.dump("w=1", "Models/model.txt")
    hdfs.cp("Models/model.txt", "Models/copy.txt")
    local = hdfs.copy_to_local("Models/copy.txt", tempfile.mkdtemp())
    back = hdfs.copy_to_hdfs(local, "Models/back", overwrite=True)
    listing = [p.rsplit("/", 1)[1] for p in hdfs.ls("Models")]
    hdfs.rmr("Models/back")
    return {"metric": float(x), "root": here, "listing": listing, "copy": open(local).read(),
            "back": back.endswith("Models/back/copy.txt"), "gone": not hdfs.exists("Models/back"),
            "plain": hdfs.get_plain_path("hdfs://nn:8020/Projects/demo/x")}


def test_hops_hdfs_helpers_inside_a_trial(spark, project):
    res = experiment.launch(spark, hdfs_helpers, {"x": 1}, root=project)
    out = res.trials[0].outputs
    assert res.trials[0].status == "complete", res.trials[0].error
    assert out["root"] == project
    assert out["listing"] == ["back", "copy.txt", "model.txt"]
    assert out["copy"] == "w=1" and out["back"] and out["gone"]
    assert out["plain"] == "/Projects/demo/x"


def test_hdfs_calls_with_hops_project_keyword(monkeypatch, tmp_path):
    from sparkexp.errors import ConfigError

    root = tmp_path / "demo"
    root.mkdir()
    monkeypatch.setenv("SPARKEXP_PROJECT_ROOT", str(root))
    monkeypatch.delenv("HOPSWORKS_PROJECT_NAME", raising=False)
    assert hdfs.project_path(project="demo") == str(root) + "/"
    hdfs.mkdir("Resources", project="demo")
    assert hdfs.exists("Resources", project="demo") and hdfs.isdir("Resources", project="demo")
    with pytest.raises(ConfigError, match=r"^project='other': sparkexp works in one project root \('demo'\)"):
        hdfs.ls("Resources", project="other")
