"""Operating experiments: metrics printed as JSON lines, status, kill and retry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from support.live_job import slow_learner

from sparkexp import control, experiment, reporter
from sparkexp.search.stopping import ASHA

HERE = os.path.dirname(os.path.abspath(__file__))


def prints_metrics(x):
    print("starting")  # not JSON: left alone
    print(json.dumps([1, 2]))  # JSON but not an object: left alone
    print(json.dumps({"step": 1, "loss": x}))
    print(json.dumps({"step": 2, "loss": x / 2, "note": "half"}))
    return {"loss": x / 2}


def test_json_lines_on_stdout_are_reports(spark, root):
    res = experiment.grid_search(spark, prints_metrics, {"x": [0.8]}, direction="min", root=root)
    (trial,) = res.trials
    assert [(r["step"], r["loss"]) for r in trial.history] == [(1, 0.8), (2, 0.4)]
    assert trial.history[1]["note"] == "half" and "_time" in trial.history[0]
    log = open(os.path.join(trial.logdir, "stdout.log")).read()
    assert '{"step": 1, "loss": 0.8}' in log and "starting" in log  # lines stay in the log


def script_trial(quality):
    code = reporter.run([sys.executable, os.path.join(HERE, "support", "curve_script.py"), str(quality)])
    return None if code == 0 else {"accuracy": -1.0}


def test_a_script_printing_json_lines_drives_asha(spark, root):
    res = experiment.grid_search(spark, script_trial, {"quality": [0.5, 0.9, 0.4, 0.95, 0.3, 0.6]},
                                 direction="max", metric="accuracy", root=root,
                                 early_stopping=ASHA(max_steps=27, reduction_factor=3))
    by_q = {t.params["quality"]: t for t in res.trials}
    assert by_q[0.95].status == "complete"
    assert by_q[0.95].metric == pytest.approx(0.95 * (1 - 0.5 ** 27))
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert stopped and all(len(t.history) < 27 for t in stopped)
    log = open(os.path.join(by_q[0.95].logdir, "stdout.log")).read()
    assert "epoch 27 done" in log and '"step": 27' in log


def _start_driver(root, name, env=None):
    env = {**(os.environ if env is None else env), "PYSPARK_PYTHON": sys.executable}
    return subprocess.Popen([sys.executable, os.path.join(HERE, "support", "live_job.py"), root, name],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)


def _wait_for(predicate, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail("timed out waiting")


def test_status_and_kill_a_live_experiment_from_another_process(any_spark, session_env, root):
    """The driver script runs on a classic session, then as a Spark Connect client."""
    driver = _start_driver(root, "live", session_env)
    path = root + "Experiments/live_1"
    try:
        def two_running_with_reports():
            if not os.path.exists(path + "/experiment.json") or not os.path.exists(path + "/journal.jsonl"):
                return None
            info = control.status(path)
            ok = len(info["running"]) == 2 and all(r["last"] for r in info["running"])
            return info if ok else None

        info = _wait_for(two_running_with_reports)
        assert info["state"] == "running" and info["live"]
        assert info["running"][0]["last"]["step"] >= 1
        assert "running trial_0000" in control.format_status(info)

        t0 = time.time()
        assert control.kill(path, timeout=15)
        out, _ = driver.communicate(timeout=60)
        assert driver.returncode == 0
        assert "RESULT killed" in out  # the driver's experiment call returned normally
        assert time.time() - t0 < 10
    finally:
        if driver.poll() is None:
            driver.kill()
    res = experiment.load(path)
    assert res.state == "killed"
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert len(stopped) == 2 and all("killed (sparkexp kill)" in t.error for t in stopped)
    assert all(t.metric is not None for t in stopped)  # their last reported metric
    assert not control.status(path)["live"]
    assert control.kill(path) is False  # nothing runs it any more

    # retry the stopped trials (on the same kind of session): new attempts beside the old ones
    again = control.retry(any_spark, path, slow_learner, failed=False, stopped=True)
    retried = [t for t in again.trials if t.id in {s.id for s in stopped}]
    assert len(retried) == 2 and all(t.status == "complete" and t.attempt == 2 for t in retried)
    events = [json.loads(line) for line in open(path + "/journal.jsonl")]
    archived = [e for e in events if e["e"] == "attempt"]
    assert {e["id"] for e in archived} == {t.id for t in stopped}
    assert all(e["trial"]["status"] == "stopped" for e in archived)


def flaky(x, marker_dir):
    marker = os.path.join(marker_dir, f"ran-{x}")
    if x % 2 and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"transient failure for x={x}")
    return x


def test_retry_failed_trials(spark, root, tmp_path):
    res = experiment.grid_search(spark, flaky, {"x": [1, 2, 3, 4], "marker_dir": [str(tmp_path)]},
                                 root=root, name="r")
    assert [t.status for t in res.trials] == ["error", "complete", "error", "complete"]
    again = control.retry(spark, res.path)  # the function is re-imported from the manifest
    assert [t.status for t in again.trials] == ["complete"] * 4
    assert [t.attempt for t in again.trials] == [2, 1, 2, 1]
    assert again.best_params["x"] == 4
    info = control.status(res.path)
    assert info["failed"] == 0 and info["finished"] == 4
