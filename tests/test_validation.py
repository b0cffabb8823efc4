"""Bad input gets a clear error naming it, before any Spark job starts, and writes nothing."""

from __future__ import annotations

import os
import threading

import pytest

from sparkexp import experiment
from sparkexp.errors import ConfigError, SearchSpaceError, StorageError


def train(learning_rate, dropout):
    return learning_rate


GOOD = {"learning_rate": [0.1], "dropout": [0.5]}

CASES = [
    ({"grid": {"lr": [0.1], "dropout": [0.5]}}, ConfigError,
     "unknown hyperparameter 'lr': train() takes learning_rate, dropout"),
    ({"grid": {"learning_rate": [0.1]}}, ConfigError, "train() needs a value for 'dropout'"),
    ({"grid": {}}, SearchSpaceError, "grid is empty"),
    ({"grid": {"learning_rate": [], "dropout": [0.5]}}, SearchSpaceError,
     "grid value for 'learning_rate' is empty"),
    ({"grid": {"learning_rate": 0.1, "dropout": [0.5]}}, SearchSpaceError,
     "grid value for 'learning_rate' must be a list of values to try"),
    ({"grid": {"learning_rate": "0.1", "dropout": [0.5]}}, SearchSpaceError,
     "grid value for 'learning_rate' must be a list"),
    ({"grid": [("learning_rate", [0.1])]}, SearchSpaceError, "grid must be a dict"),
    ({"direction": "maximize"}, ConfigError, "direction must be 'max' or 'min', got 'maximize'"),
    ({"direction": None}, ConfigError, "direction must be 'max' or 'min'"),
    ({"metric": 3}, ConfigError, "metric must be the name of an output"),
    ({"metric": ""}, ConfigError, "metric must be the name of an output"),
    ({"max_parallel": 0}, ConfigError, "max_parallel must be a positive whole number, got 0"),
    ({"max_parallel": -2}, ConfigError, "max_parallel must be a positive whole number, got -2"),
    ({"max_parallel": 1.5}, ConfigError, "max_parallel must be a positive whole number"),
    ({"max_parallel": True}, ConfigError, "max_parallel must be a positive whole number"),
    ({"fn": "train"}, ConfigError, "the training function must be callable"),
    ({"grid": {"learning_rate": [0.1] * 400, "dropout": [0.5] * 400}}, SearchSpaceError,
     "grid has 160,000 points (learning_rate=400 x dropout=400), more than max_grid=100,000"),
    ({"name": "../.."}, ConfigError, "experiment name '../..' has no usable characters"),
    ({"name": 5}, ConfigError, "name must be a string"),
    ({"target": "high"}, ConfigError, "target must be a number"),
    ({"spark": "local[2]"}, ConfigError, "spark must be a SparkSession"),
]


@pytest.mark.parametrize("change, error, message", CASES, ids=[c[2][:40] for c in CASES])
def test_bad_input(spark, root, change, error, message):
    args = {"spark": spark, "fn": train, "grid": GOOD, "root": root, **change}
    with pytest.raises(error) as info:
        experiment.grid_search(args.pop("spark"), args.pop("fn"), args.pop("grid"), **args)
    assert message in str(info.value)
    assert os.listdir(root) == []  # nothing written, so no experiment (and no job) started


def test_unpicklable_function_is_refused_before_running(spark, root):
    lock = threading.Lock()

    def holds_a_lock(x):
        with lock:
            return x

    with pytest.raises(ConfigError, match=r"holds_a_lock\(\) cannot be sent to executors"):
        experiment.grid_search(spark, holds_a_lock, {"x": [1]}, root=root)
    assert os.listdir(root) == []


def test_missing_project_root(spark, tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(StorageError, match="does not exist"):
        experiment.grid_search(spark, train, GOOD, root=missing)
    assert not os.path.exists(missing)


def test_unwritable_project_root(spark, tmp_path):
    if os.geteuid() == 0:
        # root ignores permission bits: make the root a path *under a file* instead
        blocker = tmp_path / "file"
        blocker.write_text("x")
        bad = str(blocker)
        expected = "does not exist or is not a directory"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        bad = str(ro)
        expected = "cannot create experiments directory"
    with pytest.raises(StorageError, match=expected):
        experiment.grid_search(spark, train, GOOD, root=bad)


def test_launch_params_must_be_a_dict(spark, root):
    with pytest.raises(ConfigError, match="params must be a dict"):
        experiment.launch(spark, train, [0.1, 0.5], root=root)


def test_kwargs_function_accepts_any_name(spark, root):
    res = experiment.grid_search(spark, lambda **kw: sum(kw.values()), {"a": [1], "b": [2]}, root=root)
    assert res.trials[0].metric == 3
