"""Spark Connect sessions: what only a Connect client needs (the shared behaviours run on both
kinds of session through the ``any_spark`` fixture in the other test modules)."""

from __future__ import annotations

import sys
import time

import pytest

from sparkexp import experiment
from sparkexp.errors import ConfigError, ExperimentAborted
from sparkexp.runner.connect import (
    CLIENT_HOST_CONF,
    CLIENT_HOST_ENV,
    CONNECT_TIMEOUT_CONF,
    SLOT_JOBS_CONF,
    add_py_file,
    check_connect,
    conf_snapshot,
    connect_problem,
    is_connect,
)
from sparkexp.runner.resources import inspect_session, plan_trials


@pytest.fixture()
def connect(connect_spark, monkeypatch):
    """The Connect session, in a process set up as a Connect client's."""
    monkeypatch.setenv("SPARK_CONNECT_MODE_ENABLED", "1")
    return connect_spark


@pytest.mark.parametrize("client, server, missing, message", [
    ("3.5.3", "3.5.3", [], r"needs PySpark 4.0 or later for Spark Connect sessions \(this client has "
                           r"3.5.3\): pip install 'pyspark\[connect\]>=4.0'"),
    ("4.0.1", "3.5.1", [], r"needs a Spark 4.0 or later Spark Connect server \(this server runs Spark 3.5.1\)"),
    ("4.1.0", "4.1.0", ["interruptTag"], r"lacks interruptTag \(PySpark 4.1.0\); sparkexp needs PySpark 4.0"),
])
def test_old_clients_and_servers_get_one_line_naming_the_version_needed(client, server, missing, message):
    problem = connect_problem(client, server, missing)
    assert problem is not None and "\n" not in problem
    import re

    assert re.search(message, problem), problem
    assert connect_problem("4.0.0", "4.3.0") is None


def test_this_connect_session_is_recognised_and_accepted(connect, spark):
    assert is_connect(connect) and not is_connect(spark)
    check_connect(connect)  # PySpark 4.3 against a 4.3 server: nothing to say


def test_capacity_without_a_spark_context(connect):
    info = inspect_session(connect)
    assert (info.master, info.mode, info.slots, info.executors) == ("local[2]", "local", 2, 1)
    plan = plan_trials(connect)
    assert plan.max_parallel == 2
    with pytest.raises(ConfigError, match="cpus_per_trial=3 but this local\\[2\\] session has 2 cores"):
        plan_trials(connect, cpus_per_trial=3)
    # off local[N] the default parallelism comes from a probe query on the server
    from sparkexp.runner.connect import default_parallelism

    assert default_parallelism(connect, "spark://elsewhere:7077") == 2


def test_a_conf_snapshot_answers_as_the_session_does_in_one_round_trip(connect):
    # an experiment's start reads ~20 keys: one getAll instead of a round trip per key
    connect.conf.set(CONNECT_TIMEOUT_CONF, "7")
    try:
        snapshot = conf_snapshot(connect)
        for key in ("spark.master", "spark.app.id", "spark.driver.host", CONNECT_TIMEOUT_CONF,
                    CLIENT_HOST_CONF, "spark.task.cpus", "spark.executor.memory",
                    "spark.dynamicAllocation.enabled", "spark.sparkexp.gpus"):
            assert snapshot.get(key, None) == connect.conf.get(key, None), key
        assert snapshot.get(CONNECT_TIMEOUT_CONF) == "7"
        assert snapshot.get("spark.task.cpus", "1") == "1"  # unset: the default given
    finally:
        connect.conf.unset(CONNECT_TIMEOUT_CONF)


def test_executors_that_cannot_reach_the_client_stop_it_before_any_trial(connect, root, monkeypatch):
    # an address no executor can reach (TEST-NET-1); tasks give up after 3 s instead of 30
    monkeypatch.setenv(CLIENT_HOST_ENV, "192.0.2.1")
    connect.conf.set(CONNECT_TIMEOUT_CONF, "3")
    try:
        t0 = time.time()
        with pytest.raises(ExperimentAborted) as caught:
            experiment.grid_search(connect, lambda x: x, {"x": [1, 2]}, root=root, name="far", progress=False)
        elapsed = time.time() - t0
    finally:
        connect.conf.unset(CONNECT_TIMEOUT_CONF)
    message = str(caught.value)
    assert "could not reach the sparkexp driver at 192.0.2.1:" in message
    assert CLIENT_HOST_CONF in message and CLIENT_HOST_ENV in message and "\n" not in message
    assert elapsed < 30, elapsed
    res = experiment.load(root + "Experiments/far_1")
    assert res.state == "aborted" and res.trials == []  # no trial was ever handed out


def test_a_module_shipped_with_add_artifacts_is_importable_by_executors(connect, root, tmp_path,
                                                                        monkeypatch):
    module = tmp_path / "shipped_trainer_i18.py"
    module.write_text("def train(x):\n    return x * 10\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("shipped_trainer_i18", None)
    from shipped_trainer_i18 import train  # executors can only get it from the artifact

    with pytest.raises(ExperimentAborted, match=r"cannot import module 'shipped_trainer_i18' .*"
                                                 r"spark.addArtifacts\(path, pyfile=True\)"):
        experiment.grid_search(connect, train, {"x": [1]}, root=root, progress=False)
    add_py_file(connect, str(module))
    res = experiment.grid_search(connect, train, {"x": [1, 2]}, root=root, progress=False)
    assert [t.metric for t in res.trials] == [10, 20], [t.error for t in res.trials]


def test_a_session_of_a_connect_server_refuses_executor_settings():
    import sparkexp

    with pytest.raises(ConfigError, match=r"^executor_memory, executor_gpus: settings of the Spark "
                                          r"Connect server at sc://spark-driver:15002, not of a client"):
        sparkexp.session("sc://spark-driver:15002", executor_memory="4g", executor_gpus=2)


def test_doctor_probes_the_executors_of_a_connect_session(connect, root):
    from sparkexp.runner.doctor import doctor

    text = doctor(connect, root=root)
    assert "Spark Connect client of 127.0.0.1 (Spark 4." in text
    assert "master: local[2] (local)" in text and "task slots: 2" in text
    assert f"executor Python: {sys.executable}" in text  # from a DataFrame job on the executors
    assert text.rstrip().endswith("problems: none found"), text


def test_a_classic_session_can_run_dataframe_slot_jobs(spark, root):
    def tagged(x):
        from pyspark import TaskContext

        return {"metric": x * 2, "tags": TaskContext.get().getLocalProperty("spark.job.tags")}

    spark.conf.set(SLOT_JOBS_CONF, "dataframe")  # the measurement switch (dispatch --slot-jobs)
    try:
        res = experiment.grid_search(spark, tagged, {"x": [1, 2, 3]}, root=root, progress=False)
    finally:
        spark.conf.unset(SLOT_JOBS_CONF)
    assert [t.metric for t in res.trials] == [2, 4, 6], [t.error for t in res.trials]
    group = res.manifest["job_group"]
    for t in res.trials:  # each ran in a DataFrame slot job tagged with the experiment and slot
        tags = t.outputs["tags"].split(",")  # Spark prefixes a session's tags with its id
        assert any(tag.endswith(f"-{group}") for tag in tags), tags
        assert any(f"-{group}-slot{t.slot}-" in tag for tag in tags), tags
