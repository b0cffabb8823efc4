"""Resume: a killed or interrupted experiment continues from its records, losing nothing."""

from __future__ import annotations

import json
import os
import time

import pytest
from support.killed_driver import journal_events, kill_driver_when
from support.resume_job import BOUNDS, DE, objective

from sparkexp import experiment


def results_per_trial(path):
    counts = {}
    for event in journal_events(path):
        if event["e"] == "result":
            counts[event["id"]] = counts.get(event["id"], 0) + 1
    return counts


def test_driver_killed_with_sigkill_then_resumed(any_spark, root, session_env):
    # the driver script is a classic driver, or a pure Spark Connect client of the test JVM
    path = root + "Experiments/de_1"
    kill_driver_when("resume_job.py", root, "de", "7", env=session_env,
                     until=lambda: sum(results_per_trial(path).values()) >= 5,
                     waiting_for="recorded 5 results")
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
