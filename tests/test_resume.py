"""Resume: a killed or interrupted experiment continues from its records, losing nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from support.resume_job import BOUNDS, DE, objective

from sparkexp import experiment


def results_per_trial(path):
    counts = {}
    with open(os.path.join(path, "journal.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event["e"] == "result":
                counts[event["id"]] = counts.get(event["id"], 0) + 1
    return counts


def test_driver_killed_with_sigkill_then_resumed(any_spark, root, session_env):
    # the driver script is a classic driver, or a pure Spark Connect client of the test JVM
    env = {**session_env, "PYSPARK_PYTHON": sys.executable}
    driver = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), "support", "resume_job.py"), root, "de", "7"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = root + "Experiments/de_1"
    journal = os.path.join(path, "journal.jsonl")
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if os.path.exists(journal) and sum(results_per_trial(path).values()) >= 5:
                break
            assert driver.poll() is None, "the driver ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the driver never recorded 5 results")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    before = experiment.load(path)
    assert before.state == "running"  # the manifest was never closed: it died
    completed = {t.id: t.to_dict() for t in before.trials if t.status == "complete"}
    assert len(completed) >= 5
    # every record file parses (a torn last journal line is the only allowed damage)
    for entry in os.listdir(path):
        if entry.startswith("trial_") and os.path.exists(os.path.join(path, entry, "trial.json")):
            json.load(open(os.path.join(path, entry, "trial.json")))

    res = experiment.resume(any_spark, path, objective)
    assert res.state == "finished" and res.path == path
    assert all(t.status == "complete" for t in res.trials)
    for tid, record in completed.items():  # completed results kept, not run again
        assert next(t for t in res.trials if t.id == tid).to_dict() == record
    assert set(results_per_trial(path).values()) == {1}  # no result recorded twice
    assert len(res.manifest["resumed"]) == 1

    # the search continued exactly: same trials as an uninterrupted run with the same seed
    reference = experiment.evolutionary_search(any_spark, objective, BOUNDS, seed=7, root=root,
                                               name="reference", **DE)
    assert [t.params for t in res.trials] == [t.params for t in reference.trials]


def slow_square(x):
    time.sleep(0.4)
    return x * x


def test_timeout_then_resume_true_continues_the_same_experiment(spark, root):
    first = experiment.grid_search(spark, slow_square, {"x": list(range(8))}, root=root, name="g",
                                   timeout=1.0, max_parallel=2, manifest_extra={"owner": "ana"})
    assert first.state == "timeout" and len(first.trials) < 8
    done_before = [t.id for t in first.trials if t.status == "complete"]
    again = experiment.grid_search(spark, slow_square, {"x": list(range(8))}, root=root, name="g",
                                   resume=True)
    assert again.path == first.path  # same experiment, not g_2
    assert again.manifest["owner"] == "ana"  # what the first run recorded survives the resume
    assert [t.params["x"] for t in again.trials] == list(range(8))
    assert again.state == "finished"
    assert {t.id for t in again.trials if t.status == "complete"} >= set(done_before)
    # nothing unfinished left: resume=True now starts a new run
    third = experiment.grid_search(spark, slow_square, {"x": [1]}, root=root, name="g", resume=True)
    assert third.path.endswith("g_2")


def test_resume_refuses_a_different_strategy(spark, root):
    from sparkexp.errors import ConfigError

    first = experiment.grid_search(spark, slow_square, {"x": list(range(6))}, root=root, name="s",
                                   timeout=0.5, max_parallel=1)
    assert first.state == "timeout"
    with pytest.raises(ConfigError, match="it ran a 'grid' search, not 'random'"):
        experiment.random_search(spark, slow_square, {"x": [0, 5]}, samples=3, root=root, name="s",
                                 resume=True)
