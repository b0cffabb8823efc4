"""Trial checkpoints on real Spark (local[2]): a trial run again continues, it does not redo.

Retries, a Python worker that dies mid-trial, a driver killed and resumed, and pausing and
resuming one trial from the control endpoint: every time the trial's next run starts from its
latest checkpoint, its total is right (no step lost or done twice) and its records list the
checkpoints it kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from support.checkpoint_jobs import counting, never_checkpoints, runs, toy
from support.killed_driver import journal_events, kill_driver_when

from sparkexp import control, experiment
from sparkexp.errors import ExperimentAborted
from sparkexp.search import FixedSearch

TOTAL_20 = float(sum(range(20)))


def marks_dir(root):
    marks = os.path.join(root, "marks")
    os.makedirs(marks, exist_ok=True)
    return marks


def test_a_retried_trial_continues_from_its_checkpoint(spark, root):
    marks = marks_dir(root)
    res = experiment.grid_search(spark, counting, {"name": ["r"], "steps": [20], "marks": [marks],
                                                   "fail_at": [7]},
                                 root=root, name="retry", metric="loss", direction="min",
                                 max_trial_retries=1, keep_checkpoints=2, progress=False)
    trial = res.trials[0]
    assert trial.status == "complete" and trial.attempt == 2
    assert runs(marks, "r") == [0, 8]  # the retry started after the step-7 checkpoint
    assert trial.outputs["total"] == TOTAL_20
    assert trial.restored["step"] == 7
    # two kept, on disk and in the records; the trial's reports are each step once
    assert [c["step"] for c in trial.checkpoints] == [18, 19]
    on_disk = sorted(os.listdir(os.path.join(res.path, trial.id, "checkpoints")))
    assert on_disk == ["ckpt_000018", "ckpt_000019"]
    assert [r["step"] for r in trial.history] == list(range(20))
    saved = json.load(open(os.path.join(res.path, trial.id, "trial.json")))
    assert [c["step"] for c in saved["checkpoints"]] == [18, 19]
    live = experiment.load(res.path).trials[0]  # folded from the journal: the same
    assert [r["step"] for r in live.history] == list(range(20)) and live.restored == trial.restored
    assert sum(1 for e in journal_events(res.path) if e["e"] == "checkpoint") == 8 + 12


def test_a_trial_whose_worker_dies_continues_from_its_checkpoint(spark, root):
    marks = marks_dir(root)
    res = experiment.grid_search(spark, counting, {"name": ["x"], "steps": [20], "marks": [marks],
                                                   "fail_at": [11], "how": ["exit"]},
                                 root=root, name="lost", metric="loss", direction="min",
                                 progress=False)
    trial = res.trials[0]
    assert trial.status == "complete" and trial.attempt == 2, trial.error
    assert runs(marks, "x") == [0, 12]
    assert trial.outputs["total"] == TOTAL_20
    assert [r["step"] for r in trial.history] == list(range(20))


def test_a_driver_killed_then_resumed_continues_the_trial(spark, root):
    path = root + "Experiments/killed_1"
    kill_driver_when("checkpoint_jobs.py", root, env=os.environ,
                     until=lambda: any(e["e"] == "checkpoint" and e["c"]["step"] >= 5 for e in journal_events(path)),
                     waiting_for="checkpointed step 5")
    last = max(e["c"]["step"] for e in journal_events(path) if e["e"] == "checkpoint")
    assert experiment.load(path).trials[0].checkpoints[-1]["step"] == last
    res = experiment.resume(spark, path, counting)
    trial = res.trials[0]
    marks = os.path.join(root, "marks")
    assert res.state == "finished" and trial.status == "complete"
    started = runs(marks, "a")
    assert started[0] == 0 and started[-1] >= last + 1 >= 6  # not from scratch
    assert trial.outputs["total"] == float(sum(range(40)))
    assert trial.restored["step"] == started[-1] - 1
    assert [r["step"] for r in trial.history] == list(range(40))  # each step once


def run_two(spark, root, name, trials):
    """Start an experiment of ``counting`` trials ``(name, steps)`` in a thread."""
    marks = marks_dir(root)
    points = [{"name": n, "steps": steps, "marks": marks, "sleep": 0.1} for n, steps in trials]
    out = {}

    def target():
        try:
            out["result"] = experiment.run_search(
                spark, counting, FixedSearch(points), param_names=list(points[0]), root=root,
                name=name, metric="loss", direction="min", progress=False)
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def wait_for_checkpoint(root, name, tid, step):
    deadline = time.time() + 60
    while time.time() < deadline:
        found = [p for p in os.listdir(root + "Experiments")] if os.path.exists(root + "Experiments") else []
        for entry in found:
            path = os.path.join(root, "Experiments", entry)
            if entry.startswith(name) and os.path.exists(os.path.join(path, "journal.jsonl")):
                if any(e["e"] == "checkpoint" and e["id"] == tid and e["c"]["step"] >= step
                       for e in journal_events(path)):
                    return path
        time.sleep(0.05)
    pytest.fail(f"{tid} never checkpointed step {step}")


def pause_during(spark, root, name, trials, at_step, *, then_resume):
    """Run two trials; pause the first once it checkpointed ``at_step`` (and resume it)."""
    thread, out = run_two(spark, root, name, trials)
    try:
        path = wait_for_checkpoint(root, name, "trial_00000", at_step)
        assert control.pause(path, "trial_00000")
        paused = next(t for t in experiment.load(path).trials if t.id == "trial_00000")
        assert paused.status == "paused"
        with pytest.raises(ValueError, match="not running or queued"):
            control.pause(path, "trial_00000")
        if then_resume:
            control.resume_trial(path, "trial_00000")
    finally:
        thread.join(120)
    assert "error" not in out, out.get("error")
    return path, out["result"]


def test_pause_and_resume_a_trial_of_a_running_experiment(spark, root):
    _, res = pause_during(spark, root, "pause", [("p", 20), ("long", 40)], 3, then_resume=True)
    first = res.trials[0]
    assert res.state == "finished" and first.status == "complete"
    started = runs(marks_dir(root), "p")
    assert len(started) == 2 and started[1] >= 4
    assert first.outputs["total"] == TOTAL_20
    assert [r["step"] for r in first.history] == list(range(20))
    kinds = [e["e"] for e in journal_events(res.path) if e.get("id") == "trial_00000"]
    assert "pause" in kinds and "unpause" in kinds


def test_an_experiment_ending_with_a_paused_trial_is_resumed_from_its_checkpoint(spark, root):
    path, ended = pause_during(spark, root, "paused", [("q", 20), ("short", 12)], 2, then_resume=False)
    assert ended.state == "paused"
    assert [t.status for t in ended.trials] == ["paused", "complete"]
    # from the shell: the function is imported from the manifest's function_ref
    from support.cli import sparkexp

    proc = sparkexp("resume", path, "--master", "local[2]", cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = experiment.load(path)
    assert res.state == "finished" and res.trials[0].status == "complete"
    assert res.trials[0].outputs["total"] == TOTAL_20
    assert runs(marks_dir(root), "q")[1] >= 3


def test_pause_without_a_running_driver_is_a_clear_error(root):
    res_dir = os.path.join(root, "nothing")
    os.makedirs(res_dir)
    with open(os.path.join(res_dir, "experiment.json"), "w") as f:
        json.dump({"name": "nothing", "state": "finished"}, f)
    with pytest.raises(OSError, match="no driver is running"):
        control.pause(res_dir, "trial_00000")
    # the same from the shell: one line, exit 2
    from support.cli import sparkexp

    for args in (["pause", res_dir, "trial_00000"], ["resume", res_dir, "--trial", "trial_00000"]):
        proc = sparkexp(*args, cwd=root)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "no driver is running" in proc.stderr


def test_pbt_copies_better_members_and_records_the_lineage(spark, root):
    together = marks_dir(root)
    res = experiment.pbt_search(spark, toy, {"h0": [0.0, 1.0], "h1": [0.0, 1.0], "together": together},
                                population=2, max_steps=20, interval=4, seed=3, root=root, name="pbt",
                                metric="q", direction="max", progress=False)
    assert res.state == "finished"
    assert sum(t.status == "complete" for t in res.trials) == 2  # two lines, each to the end
    children = [t for t in res.trials if t.origin]
    assert children, "no member was ever exploited"
    by_id = {t.id: t for t in res.trials}
    for child in children:
        parent = by_id[child.origin["parent"]]
        assert child.index > parent.index and child.origin["changed"]
        for name, (old, new) in child.origin["changed"].items():
            assert parent.params[name] == old and child.params[name] == new
        # it continued from the parent's checkpoint: its first report is past the copied step
        assert child.restored is not None and child.restored["path"].startswith(parent.logdir)
        assert child.history[0]["step"] == child.restored["step"] + 1
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert len(stopped) == len(children)  # every exploited member made way for one child
    loaded = experiment.load(res.path)
    assert [t.origin for t in loaded.trials] == [t.origin for t in res.trials]


def test_pbt_with_a_function_that_never_checkpoints_is_a_clear_error(spark, root):
    with pytest.raises(ExperimentAborted, match="reported 2 time.*without calling reporter.checkpoint"):
        experiment.pbt_search(spark, never_checkpoints, {"name": ["a", "b"]}, population=2,
                              max_steps=5, interval=2, root=root, name="nockpt", metric="loss",
                              direction="min", progress=False)


def test_pbt_population_larger_than_the_slots_is_refused_before_spark_runs(spark, root):
    with pytest.raises(ValueError, match="trains 4 trials at once, but only 2 can run"):
        experiment.pbt_search(spark, toy, {"h0": [0.0, 1.0], "h1": [0.0, 1.0]}, population=4,
                              max_steps=20, interval=4, root=root, max_parallel=2, progress=False)


def test_a_bohb_experiment_killed_midway_is_resumed_with_its_model_and_brackets(spark, root):
    from support.checkpoint_jobs import curve

    out = {}

    def run():
        out["first"] = experiment.bohb_search(
            spark, curve, {"x": [0.0, 1.0]}, trials=8, max_steps=9, min_steps=3, seed=2, root=root,
            name="bohb", metric="loss", direction="min", progress=False)

    thread = threading.Thread(target=run)
    thread.start()
    path = root + "Experiments/bohb_1"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if os.path.exists(os.path.join(path, "journal.jsonl")) and \
                    sum(e["e"] == "result" for e in journal_events(path)) >= 3:
                break
            time.sleep(0.05)
        assert control.kill(path, timeout=60)
    finally:
        thread.join(120)
    first = out["first"]
    assert first.state == "killed" and len([t for t in first.trials if t.done]) < 8
    res = experiment.resume(spark, first.path, curve, progress=False)
    assert res.state == "finished" and len(res.trials) == 8
    assert res.manifest["strategy"] == "bohb" and res.manifest["early_stopping"] is None  # it stops itself
    stopped = {t.id for t in res.trials if t.status == "stopped"}
    assert all(len(t.history) < 9 for t in res.trials if t.id in stopped)


def test_a_retried_trial_continues_from_its_checkpoint_on_a_webhdfs_root(spark, tmp_path):
    """The project root is the suite's WebHDFS server (the protocol of a namenode and its
    datanodes, as sparkexp reaches HDFS without libhdfs): the executor writes each checkpoint
    through it, the retry reads the newest back through it, old ones are pruned there."""
    from urllib.parse import urlparse

    from support.webhdfs_server import WebHdfsTestServer

    marks = marks_dir(str(tmp_path))
    with WebHdfsTestServer(lifetime=300) as srv:
        os.makedirs(srv.local("/Projects/demo"))  # the project's folder exists, as on Hopsworks
        res = experiment.grid_search(spark, counting, {"name": ["w"], "steps": [20], "marks": [marks],
                                                       "fail_at": [7]},
                                     root=srv.uri("/Projects/demo"), name="hdfs_retry", metric="loss",
                                     direction="min", max_trial_retries=1, keep_checkpoints=2,
                                     progress=False)
        trial = res.trials[0]
        assert res.path.startswith(srv.uri("/Projects/demo/"))
        assert trial.status == "complete" and trial.attempt == 2
        assert runs(marks, "w") == [0, 8]  # the retry started after the step-7 checkpoint
        assert trial.outputs["total"] == TOTAL_20 and trial.restored["step"] == 7
        assert [c["step"] for c in trial.checkpoints] == [18, 19]
        assert all(c["path"].startswith(res.path) for c in trial.checkpoints)
        on_server = srv.local(urlparse(res.path).path + f"/{trial.id}/checkpoints")
        assert sorted(os.listdir(on_server)) == ["ckpt_000018", "ckpt_000019"]  # pruned, no .tmp-
        # written through the datanode (two-step CREATE), renamed into place by the namenode
        written = [p for op, p in srv.datanode_calls if op == "CREATE" and "/checkpoints/" in p]
        assert any(p.endswith("/state.pkl") for p in written)
        assert any(op == "RENAME" and "/checkpoints/.tmp-ckpt_" in p for _m, op, p, _u in srv.calls)
        assert any(op == "OPEN" and "/checkpoints/ckpt_000007/" in p for op, p in srv.datanode_calls)
        loaded = experiment.load(res.path).trials[0]  # the records, read back over WebHDFS
        assert [c["step"] for c in loaded.checkpoints] == [18, 19] and loaded.restored == trial.restored


def test_an_hdfs_root_with_a_webhdfs_url_checkpoints_through_the_namenode(tmp_path):
    """``hdfs://`` roots where libhdfs is missing (as here) go over WebHDFS when
    ``SPARKEXP_WEBHDFS_URL`` is set: a driver of its own, whose executors inherit the variable
    (on a cluster: ``spark.executorEnv``), runs the retried trial against the suite's server."""
    from urllib.parse import urlparse

    from support.webhdfs_server import WebHdfsTestServer

    marks = marks_dir(str(tmp_path))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support", "checkpoint_jobs.py")
    with WebHdfsTestServer(lifetime=300) as srv:
        os.makedirs(srv.local("/Projects/demo"))
        env = {**os.environ, "SPARKEXP_WEBHDFS_URL": srv.url, "HADOOP_USER_NAME": "alice"}
        done = subprocess.run([sys.executable, script, "retry", "hdfs://namenode:8020/Projects/demo", marks],
                              env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        trial = json.loads(done.stdout.strip().splitlines()[-1])
        assert trial["path"].startswith("hdfs://namenode:8020/Projects/demo/")  # the URI users gave
        assert trial["status"] == "complete" and trial["attempt"] == 2
        assert runs(marks, "h") == [0, 8] and trial["total"] == TOTAL_20 and trial["restored"]["step"] == 7
        assert [c["step"] for c in trial["checkpoints"]] == [18, 19]
        on_server = srv.local(urlparse(trial["path"]).path + f"/{trial['id']}/checkpoints")
        assert sorted(os.listdir(on_server)) == ["ckpt_000018", "ckpt_000019"]
        assert any(op == "OPEN" and "/checkpoints/ckpt_000007/" in p for op, p in srv.datanode_calls)
        assert {u for _m, _op, _p, u in srv.calls} == {"alice"}
