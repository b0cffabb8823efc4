"""Experiments on a real Spark standalone cluster: master + 2 workers, 2 fake GPUs each.

The driver runs in its own process (``cluster_driver.py``; a process holds one SparkContext and
the rest of the suite shares the local[2] one). It runs the experiments once per module and
reports what every trial saw; the tests below check one property each.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from support.cluster_fixture import StandaloneCluster, cluster, overlap, run_driver  # noqa: F401 - fixture

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def seen(cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    root = tmp_path_factory.mktemp("project")
    try:
        return run_driver(cluster.env(), "standalone", cluster.master_url, cluster.webui_url,
                          str(root) + "/")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from None


def test_session_sees_the_real_executors(seen):
    info = seen["info"]
    assert info["executors"] == 2 and info["slots"] == 4 and info["executor_gpus"] == 2
    assert sorted(info["cores"].values()) == [2, 2]
    assert "2 executor(s) x 2 cores, 512m, 2 GPUs each; 4 task slots" in info["summary"]


def test_trials_run_in_separate_executor_processes(seen):
    trials = seen["gpu_trials"]
    assert [t["status"] for t in trials] == ["complete"] * 8, [t["error"] for t in trials]
    by_executor: dict[str, set[int]] = {}
    for t in trials:
        by_executor.setdefault(t["executor"], set()).add(t["jvm"])
    assert len(by_executor) == 2, by_executor
    jvms = [next(iter(p)) for p in by_executor.values()]
    assert all(len(p) == 1 for p in by_executor.values()) and len(set(jvms)) == 2
    # each executor runs in its own worker's work dir: <work>/<app-id>/<executor-id>
    workdirs = {t["cwd"].split("/worker")[1][0] for t in trials}
    assert workdirs == {"0", "1"}


def test_concurrent_trials_never_share_a_gpu(seen):
    trials = seen["gpu_trials"]
    for t in trials:
        assert len(t["gpus"]) == 1 and t["cuda"] == t["gpus"][0], t
    assert {g for t in trials for g in t["gpus"]} == {"0", "1", "2", "3"}
    for a, b in itertools.combinations(trials, 2):
        if overlap(a, b):
            assert not set(a["gpus"]) & set(b["gpus"]), (a, b)


def test_max_parallel_is_exact(seen):
    trials = seen["gpu_trials"]
    # at each trial's start, how many trials were running (itself included)
    running = [sum(1 for o in trials if o["t0"] <= t["t0"] < o["t1"]) for t in trials]
    assert max(running) == 4, running


def test_executor_memory_reaches_the_executors(seen):
    assert {t["xmx"].lower() for t in seen["gpu_trials"]} == {"-xmx512m"}


def test_trials_without_gpus_see_none(seen):
    trials = seen["plain_trials"]
    assert [t["status"] for t in trials] == ["complete"] * 2, [t["error"] for t in trials]
    assert all(t["gpus"] == [] and t["cuda"] == "" for t in trials)


def test_more_gpus_than_an_executor_has_fails_fast(seen):
    failure = seen["too_many_gpus"]
    assert failure["error"] and failure["seconds"] < 5
    assert "gpus_per_trial=3 but each executor" in failure["error"]
    assert "has 2 GPUs" in failure["error"]


def test_more_memory_than_a_worker_has_fails_fast(seen):
    failure = seen["too_much_memory"]
    assert failure["error"] and failure["seconds"] < 5
    assert "spark.executor.memory=2g" in failure["error"]
    # each worker's offer, from the master itself (the test never told it the web UI's port)
    assert "offers 1024 MiB, 2 cores, 2 GPUs -> cannot host one: not enough memory" in failure["error"]
    # a stopped session's GPU settings did not leak into the new one
    assert "spark.executor.resource.gpu.amount=0" in failure["error"]


def test_doctor_describes_the_cluster(seen):
    text = seen["doctor"]
    assert "(standalone)" in text and "executors: 2" in text and "task slots: 4" in text
    assert "GPUs per executor: 2" in text and "memory per executor: 512m" in text
    assert "problems: none found" in text


@pytest.fixture(scope="module")
def seen_connect(cluster: StandaloneCluster, seen: dict[str, Any],  # noqa: F811 - after `seen`
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The GPU experiment from a Spark Connect client of a Connect server on the same cluster."""
    root = tmp_path_factory.mktemp("connect-project")
    try:
        return run_driver(cluster.env(), "connect", cluster.master_url, cluster.webui_url,
                          str(root) + "/")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from None


def test_connect_client_trials_get_their_own_gpus_on_the_cluster(seen_connect):
    assert seen_connect["session"].startswith("pyspark.sql.connect")
    assert seen_connect["master"].startswith("spark://")
    trials = seen_connect["gpu_trials"]
    assert [t["status"] for t in trials] == ["complete"] * 8, [t["error"] for t in trials]
    # Spark assigned each trial one GPU through the slot job's resource profile
    for t in trials:
        assert len(t["gpus"]) == 1 and t["cuda"] == t["gpus"][0], t
    assert {g for t in trials for g in t["gpus"]} == {"0", "1", "2", "3"}
    for a, b in itertools.combinations(trials, 2):
        if overlap(a, b):
            assert not set(a["gpus"]) & set(b["gpus"]), (a, b)
    running = [sum(1 for o in trials if o["t0"] <= t["t0"] < o["t1"]) for t in trials]
    assert max(running) == 4, running
    assert len({t["executor"] for t in trials}) == 2  # both executors of the Connect server's app
