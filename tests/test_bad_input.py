"""One table of bad input: each gets a clear error naming the input, before any Spark job
starts, and nothing is written under the project root.

The table gathers the grid cases of ``test_validation.py`` and the strategy cases of
``test_strategies_spark.py`` (imported, not rewritten) and adds resources, sessions, roots,
options and search settings. Spark jobs are counted with the scheduler's job counter, which
``test_the_job_counter_sees_an_experiment`` shows really moves when an experiment runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import test_strategies_spark
import test_validation

import sparkexp
from sparkexp import experiment
from sparkexp.errors import ConfigError, SearchSpaceError, SparkexpError, StorageError
from sparkexp.space import loguniform

train = test_validation.train
GOOD = test_validation.GOOD
Call = Callable[[Any, str], Any]


def grid(**change: Any) -> Call:
    """``grid_search`` with a good grid and function, changed by ``change``."""
    def call(spark: Any, root: str) -> Any:
        args = {"spark": spark, "fn": train, "grid": GOOD, "root": root, **change}
        return experiment.grid_search(args.pop("spark"), args.pop("fn"), args.pop("grid"), **args)
    return call


def lr(learning_rate, dropout=0.5):
    return learning_rate


def evo(bounds: Any, **kw: Any) -> Call:
    return lambda s, r: experiment.evolutionary_search(s, lr, bounds, root=r, **kw)


def rand(space: Any = None, **kw: Any) -> Call:
    return lambda s, r: experiment.random_search(s, lr, space or {"learning_rate": [0.1, 0.2]},
                                                 root=r, **kw)


def bayes(**kw: Any) -> Call:
    return lambda s, r: experiment.bayesian_search(s, lr, {"learning_rate": loguniform(1e-4, 1e-1)},
                                                   root=r, **kw)


def session(**kw: Any) -> Call:
    return lambda s, r: sparkexp.session("local[2]", **kw)


def with_conf(key: str, value: str, call: Call) -> Call:
    """``call`` while the session has ``key`` set to ``value`` (unset after)."""
    def run(spark: Any, root: str) -> Any:
        spark.conf.set(key, value)
        try:
            return call(spark, root)
        finally:
            spark.conf.unset(key)
    return run


# (id, call(spark, root), error class, text the message must contain)
NEW: list[tuple[str, Call, type[Exception], str]] = [
    # sessions and resources
    ("executor_memory 4gb", session(executor_memory="4gb"), ConfigError, "executor_memory"),
    ("executor_memory -1", session(executor_memory="-1"), ConfigError, "executor_memory"),
    ("executor_memory 0", session(executor_memory=0), ConfigError, "executor_memory"),
    ("executor_cores -1", session(executor_cores=-1), ConfigError, "executor_cores"),
    ("executor_gpus -1", session(executor_gpus=-1), ConfigError, "executor_gpus"),
    ("task_gpus > executor_gpus", session(executor_gpus=1, task_gpus=2), ConfigError,
     "task_gpus=2 is more than executor_gpus=1"),
    ("master empty", lambda s, r: sparkexp.session(""), ConfigError, "master must be a Spark master URL"),
    ("gpus_per_trial -1", grid(gpus_per_trial=-1), ConfigError, "gpus_per_trial must be a whole number >= 0"),
    ("gpus_per_trial '1'", grid(gpus_per_trial="1"), ConfigError, "gpus_per_trial must be"),
    ("GPUs where none exist", grid(gpus_per_trial=1), ConfigError, "gpus_per_trial=1 but this local[2] session has no GPUs"),
    ("cpus_per_trial 0", grid(cpus_per_trial=0), ConfigError, "cpus_per_trial must be a positive whole number"),
    ("cpus_per_trial > cores", grid(cpus_per_trial=3), ConfigError, "cpus_per_trial=3 but this local[2] session has 2 cores"),
    # options
    ("direction up", grid(direction="up"), ConfigError, "direction must be 'max' or 'min', got 'up'"),
    ("metric list", grid(metric=["acc"]), ConfigError, "metric must be the name of an output"),
    ("max_parallel '2'", grid(max_parallel="2"), ConfigError, "max_parallel must be a positive whole number, got '2'"),
    ("timeout 0", grid(timeout=0), ConfigError, "timeout must be a positive number of seconds, got 0"),
    ("trial_timeout '5'", grid(trial_timeout="5"), ConfigError, "trial_timeout must be a number, got '5'"),
    ("kill_grace -1", grid(kill_grace=-1), ConfigError, "kill_grace must be a positive number of seconds"),
    ("max_trial_retries -1", grid(max_trial_retries=-1), ConfigError, "max_trial_retries must be a whole number >= 0, got -1"),
    ("max_failures 0", grid(max_failures=0), ConfigError, "max_failures must be a positive whole number, got 0"),
    ("target NaN-like string", grid(target="nan"), ConfigError, "target must be a number"),
    ("unknown option", grid(retries=3), ConfigError, "unknown option 'retries'; accepted: "),
    ("echo_output 'all'", grid(echo_output="all"), ConfigError, "echo_output must be True, False, 'tail' or 'auto'"),
    ("description 3", grid(description=3), ConfigError, "description must be a string, got 3"),
    # hops keywords: either they work or the error names what to write instead
    ("hops versioned_resources", grid(versioned_resources=["a.py"]), ConfigError,
     "versioned_resources= is a hops keyword sparkexp does not take"),
    ("hops popsize", evo({"learning_rate": [0.1, 0.2]}, popsize=10), ConfigError, "write population="),
    ("hops maxiter", evo({"learning_rate": [0.1, 0.2]}, maxiter=10), ConfigError, "write generations="),
    ("hops cleanup_generations", evo({"learning_rate": [0.1, 0.2]}, cleanup_generations=True),
     ConfigError, "cleanup_generations=True: every trial keeps its folder"),
    ("hops optimization_key vs metric", grid(metric="a", optimization_key="b"), ConfigError,
     "optimization_key='b' and metric='a' disagree"),
    ("hops grid given twice", grid(grid_dict=GOOD), ConfigError, "give the grid once"),
    ("hops args_dict lengths", lambda s, r: experiment.launch(
        s, lr, args_dict={"learning_rate": [0.1, 0.2], "dropout": [0.5]}, root=r),
     ConfigError, "one common, non-zero length"),
    ("launch params and args_dict", lambda s, r: experiment.launch(
        s, lr, {"learning_rate": 0.1}, args_dict={"learning_rate": [0.1]}, root=r),
     ConfigError, "give params or hops' args_dict, not both"),
    # project roots
    ("root is a file", lambda s, r: experiment.grid_search(s, train, GOOD, root=r + "../file.txt"),
     StorageError, "file.txt/' does not exist or is not a directory"),
    ("root under a file", lambda s, r: experiment.grid_search(s, train, GOOD, root=r + "../file.txt/sub"),
     StorageError, "file.txt/sub/' does not exist or is not a directory"),
    ("root missing", lambda s, r: experiment.grid_search(s, train, GOOD, root=r + "missing/"),
     StorageError, "missing/' does not exist"),
    # grids and bounds
    ("huge grid", grid(grid={f"p{i}": list(range(10)) for i in range(12)}, fn=lambda **kw: 0.0),
     SearchSpaceError, "more than max_grid=100,000"),
    ("bounds equal", evo({"learning_rate": [0.1, 0.1]}), SearchSpaceError, "learning_rate"),
    # (["a", 1] is a valid choice, not a bad range; distribution errors name the bound, not
    # the hyperparameter: "uniform: high must be finite, got inf")
    ("bounds infinite", evo({"learning_rate": [0.0, float("inf")]}), SearchSpaceError,
     "high must be finite, got inf"),
    ("loguniform from 0", lambda s, r: evo({"learning_rate": loguniform(0, 1)})(s, r),
     SearchSpaceError, "low must be > 0"),
    ("dict bound without method", evo({"learning_rate": {"low": 0, "high": 1}}), SearchSpaceError,
     "'learning_rate' is a dict without 'method'"),
    ("distribution bound non-numeric", lambda s, r: evo({"learning_rate": loguniform("a", 1)})(s, r),
     SearchSpaceError, "low must be a number, got 'a'"),
    ("bounds not a dict", evo([0.1, 0.2]), ConfigError, "bounds must be a dict"),
    ("population 1", evo({"learning_rate": [0.01, 0.1]}, population=1), SparkexpError, "population"),
    ("generations -1", evo({"learning_rate": [0.01, 0.1]}, generations=-1), SparkexpError, "generations"),
    ("crossover 2", evo({"learning_rate": [0.01, 0.1]}, crossover=2), SparkexpError, "crossover"),
    ("DE strategy", evo({"learning_rate": [0.01, 0.1]}, strategy="best9"), SparkexpError, "best9"),
    ("DE mode", evo({"learning_rate": [0.01, 0.1]}, mode="sync"), SparkexpError, "mode"),
    ("samples 0", rand(samples=0), SparkexpError, "samples"),
    ("seed string", rand(seed="one"), SparkexpError, "seed"),
    ("warm start unknown name", rand(warm_start=[{"lr": 0.1}]), SparkexpError, "lr"),
    ("bayes trials 0", bayes(trials=0), SparkexpError, "trials"),
    ("bayes n_startup -1", bayes(n_startup=-1), SparkexpError, "n_startup"),
    ("asha max_steps 0", lambda s, r: experiment.asha_search(s, lr, {"learning_rate": [0.1, 0.2]},
                                                            samples=3, max_steps=0, root=r),
     SparkexpError, "max_steps"),
    # the entry points that stop trials themselves refuse early_stopping=
    ("asha early_stopping", lambda s, r: experiment.asha_search(
        s, lr, {"learning_rate": [0.1, 0.2]}, samples=3, max_steps=3, early_stopping="median", root=r),
     ConfigError, "asha_search sets early stopping itself; use random_search(early_stopping=...)"),
    ("hyperband early_stopping", lambda s, r: experiment.hyperband_search(
        s, lr, {"learning_rate": [0.1, 0.2]}, samples=3, max_steps=3, early_stopping="asha", root=r),
     ConfigError, "hyperband_search sets early stopping itself; use random_search(early_stopping=...)"),
    ("bohb early_stopping", lambda s, r: experiment.bohb_search(
        s, lr, {"learning_rate": [0.1, 0.2]}, trials=3, max_steps=3, early_stopping="median", root=r),
     ConfigError, "the 'bohb' search stops trials itself; do not pass early_stopping= with it"),
    ("pbt early_stopping", lambda s, r: experiment.pbt_search(
        s, lr, {"learning_rate": [0.1, 0.2]}, population=2, max_steps=4, interval=2,
        early_stopping="median", root=r),
     ConfigError, "the 'pbt' search stops trials itself; do not pass early_stopping= with it"),
    ("slotJobs conf", with_conf("spark.sparkexp.slotJobs", "pandas", grid()),
     ConfigError, "spark.sparkexp.slotJobs must be 'rdd' or 'dataframe', got 'pandas'"),
    ("bohb space a list", lambda s, r: experiment.bohb_search(s, lr, [0.1, 0.2], trials=3, max_steps=3, root=r),
     ConfigError, "space must be a dict"),
]


def _from_validation() -> list[tuple[str, Call, type[Exception], str]]:
    return [(f"grid {n}: {message[:40]}", grid(**change), error, message)
            for n, (change, error, message) in enumerate(test_validation.CASES)]


def _from_strategies() -> list[tuple[str, Call, type[Exception], str]]:
    (mark,) = [m for m in test_strategies_spark.test_strategy_bad_input.pytestmark if m.name == "parametrize"]
    return [(f"strategy: {message}", call, error, message) for call, error, message in mark.args[1]]


TABLE = _from_validation() + _from_strategies() + NEW


def spark_jobs(spark: Any) -> int:
    """How many Spark jobs this application has started so far (the scheduler's counter)."""
    return int(spark.sparkContext._jsc.sc().dagScheduler().numTotalJobs())


def tree(path: Any) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), path)
                  for d, dirs, files in os.walk(path) for f in dirs + files)


def test_the_table_is_big_enough():
    assert len(TABLE) >= 30
    assert len({case[0] for case in TABLE}) == len(TABLE)


@pytest.mark.parametrize("call, error, message", [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_bad_input(spark, root, tmp_path, call, error, message):
    (tmp_path / "file.txt").write_text("not a directory")
    before, files = spark_jobs(spark), tree(tmp_path)
    with pytest.raises(error) as info:
        call(spark, root)
    assert message in str(info.value)
    assert spark_jobs(spark) == before, "a Spark job started before the input was refused"
    assert os.listdir(root) == [] and tree(tmp_path) == files, "something was written"


def test_the_job_counter_sees_an_experiment(spark, root):
    before = spark_jobs(spark)
    experiment.grid_search(spark, train, GOOD, root=root)
    assert spark_jobs(spark) == before + 1
