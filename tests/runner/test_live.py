"""Live trials on real local Spark: reports, early stopping, timeouts, cancellation, progress."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import pytest

from sparkexp import experiment, reporter
from sparkexp.errors import ExperimentAborted
from sparkexp.progress import NotebookProgress, TerminalProgress
from sparkexp.search import GridSearch
from sparkexp.search.stopping import ASHA


def journal_events(path):
    with open(os.path.join(path, "journal.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def reports_then_sleeps(lr, reporter):
    for step in range(3):
        reporter.log(step=step, loss=lr / (step + 1))
    time.sleep(1.5)
    return {"loss": lr / 4}


def test_reports_reach_the_driver_while_the_trial_runs(spark, root):
    seen = {}

    def watch():
        path = root + "Experiments/live_1/journal.jsonl"
        deadline = time.time() + 20
        while time.time() < deadline and "t" not in seen:
            if os.path.exists(path):
                for line in open(path):
                    event = json.loads(line) if line.endswith("\n") else {}
                    if event.get("e") == "report" and event["r"]["step"] == 2:
                        seen["t"] = time.time()
                        seen["sent"] = event["r"]["_time"]
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    res = experiment.grid_search(spark, reports_then_sleeps, {"lr": [0.3]}, direction="min",
                                 metric="loss", root=root, name="live")
    watcher.join()
    (trial,) = res.trials
    assert trial.status == "complete"
    # the third report was on disk under a second after it was sent, while the trial slept on
    assert seen["t"] - seen["sent"] < 1.0
    assert seen["t"] < trial.finished
    assert [r["step"] for r in trial.history] == [0, 1, 2]
    assert trial.history[1]["loss"] == pytest.approx(0.15)
    record = json.load(open(os.path.join(trial.logdir, "trial.json")))
    assert [r["loss"] for r in record["history"]] == pytest.approx([0.3, 0.15, 0.1])
    # and as TensorBoard scalars, without user code
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(trial.logdir)
    acc.Reload()
    assert [round(e.value, 4) for e in acc.Scalars("loss")] == [0.3, 0.15, 0.1]
    assert experiment.load(res.path).trials[0].history == trial.history


def module_level_reporting(x):
    reporter.log(step=1, score=x)
    reporter.log(score=x + 1)  # step defaults to the next one


def test_module_reporter_and_returning_nothing_uses_the_last_report(spark, root):
    res = experiment.grid_search(spark, module_level_reporting, {"x": [1.0, 5.0]}, root=root)
    assert [t.status for t in res.trials] == ["complete", "complete"]
    assert [t.metric for t in res.trials] == [2.0, 6.0]
    assert [r["step"] for r in res.trials[0].history] == [1, 2]


def curve(quality, reporter):
    """A learning curve that flattens at ``quality``; steps take 20 ms."""
    for step in range(1, 28):
        reporter.log(step=step, accuracy=quality * (1 - 0.5 ** step))
        time.sleep(0.02)
    return {"accuracy": quality}


class Recording(GridSearch):
    def __init__(self, grid):
        super().__init__(grid)
        self.told = []

    def tell(self, key, loss, status="complete"):
        self.told.append((key, loss, status))


def test_asha_stops_weak_trials_and_the_search_sees_them(any_spark, root):
    qualities = [0.5, 0.9, 0.4, 0.95, 0.3, 0.6]
    search = Recording({"quality": qualities})
    res = experiment.run_search(any_spark, curve, search, param_names=["quality"], direction="max",
                                metric="accuracy", root=root,
                                early_stopping=ASHA(max_steps=27, min_steps=1, reduction_factor=3))
    by_q = {t.params["quality"]: t for t in res.trials}
    assert by_q[0.95].status == "complete" and res.best_params == {"quality": 0.95}
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert stopped, [t.status for t in res.trials]
    for t in stopped:
        assert t.error.startswith("stopped: early stopping (asha)")
        assert t.metric == pytest.approx(t.history[-1]["accuracy"])  # its last reported metric
        assert len(t.history) < 27
    told = {key: status for key, _loss, status in search.told}
    assert sorted(told) == list(range(6))
    assert {told[t.index] for t in stopped} == {"stopped"}


def test_median_rule_via_early_stopping_option(spark, root):
    res = experiment.grid_search(spark, curve, {"quality": [0.9, 0.92, 0.91, 0.2, 0.1]},
                                 direction="max", metric="accuracy", root=root,
                                 early_stopping="median", max_parallel=2)
    statuses = {t.params["quality"]: t.status for t in res.trials}
    assert statuses[0.9] == "complete"
    assert statuses[0.1] == "stopped"
    manifest = json.load(open(res.path + "/experiment.json"))
    assert manifest["early_stopping"]["name"] == "median"


def sleeper(seconds):
    time.sleep(seconds)
    return seconds


def test_trial_timeout_interrupts_a_sleeping_trial(any_spark, root):
    t0 = time.time()
    res = experiment.grid_search(any_spark, sleeper, {"seconds": [30, 0.1]}, root=root,
                                 trial_timeout=1.0)
    assert time.time() - t0 < 8
    slow, fast = res.trials
    assert slow.status == "timeout" and "timeout (trial over 1s)" in slow.error
    assert slow.finished - slow.started < 2.5
    assert fast.status == "complete"


def stubborn(seconds):
    """Ignores the interrupt: only killing its Spark task ends it."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
    return seconds


def test_trial_that_ignores_the_stop_has_its_task_killed(any_spark, root):
    t0 = time.time()
    res = experiment.grid_search(any_spark, stubborn, {"seconds": [40, 0.1, 0.2]}, root=root,
                                 trial_timeout=1.0, kill_grace=1.0)
    elapsed = time.time() - t0
    assert elapsed < 20, elapsed
    slow = res.trials[0]
    assert slow.status == "timeout" and "its task was killed" in slow.error
    assert [t.status for t in res.trials[1:]] == ["complete", "complete"]
    # the session is still usable afterwards
    again = experiment.grid_search(any_spark, sleeper, {"seconds": [0.01]}, root=root)
    assert again.trials[0].status == "complete"


def test_experiment_timeout(spark, root):
    # the timeout counts from the call; start the Python workers first so a cold session's
    # start-up (seconds) does not use up the 3 s (slot jobs can take a second or more to start
    # on a loaded machine: the bounds leave room for that, all 20 would need 6 s)
    experiment.grid_search(spark, sleeper, {"seconds": [0.01, 0.01]}, root=root)
    t0 = time.time()
    res = experiment.grid_search(spark, sleeper, {"seconds": [0.6] * 20}, root=root, timeout=3,
                                 max_parallel=2)
    assert time.time() - t0 < 8
    statuses = [t.status for t in res.trials]
    assert 2 <= statuses.count("complete") <= 10
    assert len(res.trials) < 20  # the rest were never started
    assert set(statuses) <= {"complete", "timeout"}


def _signal_when_running(journal, sig, sent):
    """Send ``sig`` to this process once one trial completed and two others are running."""

    def watch():
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(journal):
                events = [json.loads(line) for line in open(journal) if line.endswith("\n")]
                results = sum(e["e"] == "result" for e in events)
                starts = sum(e["e"] == "start" for e in events)
                if results >= 1 and starts >= 3:
                    time.sleep(0.2)
                    sent.append(time.time())
                    os.kill(os.getpid(), sig)
                    return
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_stops_running_trials_within_two_seconds(any_spark, root, sig):
    sent = []
    _signal_when_running(root + "Experiments/int_1/journal.jsonl", sig, sent)
    with pytest.raises(KeyboardInterrupt):
        experiment.grid_search(any_spark, sleeper, {"seconds": [0.05, 30, 30, 30]}, root=root,
                               name="int", max_parallel=2)
    assert time.time() - sent[0] < 2.0
    res = experiment.load(root + "Experiments/int_1")
    assert res.state == "interrupted"
    statuses = [t.status for t in res.trials]
    assert statuses[0] == "complete"
    assert "stopped" in statuses and "running" not in statuses and "queued" not in statuses
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert all("interrupted" in t.error for t in stopped)


def flaky_then_ok(x, marker_dir):
    marker = os.path.join(marker_dir, f"{x}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return x


def test_max_trial_retries_reruns_a_failed_trial(spark, root, tmp_path):
    res = experiment.grid_search(spark, flaky_then_ok, {"x": [1, 2], "marker_dir": [str(tmp_path)]},
                                 root=root, max_trial_retries=1)
    assert [(t.status, t.attempt) for t in res.trials] == [("complete", 2), ("complete", 2)]
    attempts = [e for e in journal_events(res.path) if e["e"] == "attempt"]
    assert len(attempts) == 2 and "first attempt fails" in attempts[0]["trial"]["error"]


def fails_on_odd(x):
    time.sleep(0.05)
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def test_max_failures_ends_the_experiment_cleanly(spark, root):
    with pytest.raises(ExperimentAborted, match=r"2 trial\(s\) failed \(max_failures=2\)") as info:
        experiment.grid_search(spark, fails_on_odd, {"x": list(range(40))}, root=root,
                               max_failures=2, max_parallel=2, name="mf")
    res = info.value.result
    assert len(res.trials) < 40
    assert res.state == "aborted"
    assert sum(t.status == "error" for t in res.trials) >= 2
    on_disk = experiment.load(root + "Experiments/mf_1")
    assert on_disk.state == "aborted" and len(on_disk.trials) == len(res.trials)


def test_fail_fast(spark, root):
    with pytest.raises(ExperimentAborted, match="max_failures=1"):
        experiment.grid_search(spark, fails_on_odd, {"x": [1, 2, 4, 6, 8, 10]}, root=root,
                               fail_fast=True, max_parallel=1)


def test_experiment_timeout_is_not_a_failure_even_with_fail_fast(spark, root):
    # the trials the experiment's own timeout stops are recorded as "timeout" but did not fail:
    # with fail_fast the experiment ends in state "timeout" (resumable), not ExperimentAborted
    # (the timeout leaves time for the slots to start trials on a loaded machine)
    res = experiment.grid_search(spark, sleeper, {"seconds": [60, 60, 60, 60]}, root=root,
                                 name="tff", timeout=15, fail_fast=True, max_parallel=2,
                                 kill_grace=1)
    assert res.state == "timeout"
    timed_out = [t for t in res.trials if t.status == "timeout"]
    assert timed_out and all("experiment over 15s" in t.error for t in timed_out)
    results = [e for e in journal_events(res.path) if e["e"] == "result"]
    assert [e["failed"] for e in results] == [False] * len(timed_out)


def test_trial_timeout_is_a_failure(spark, root):
    with pytest.raises(ExperimentAborted, match=r"1 trial\(s\) failed \(max_failures=1\)") as info:
        experiment.grid_search(spark, sleeper, {"seconds": [30, 30, 30]}, root=root,
                               trial_timeout=1, fail_fast=True, max_parallel=1, kill_grace=1)
    assert [t.status for t in info.value.result.trials] == ["timeout"]


def test_terminal_progress_line(spark, root):
    out = io.StringIO()
    experiment.grid_search(spark, sleeper, {"seconds": [0.01] * 5}, root=root, name="p",
                           progress=TerminalProgress(out, interval=0))
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("sparkexp p_1: 5/5 done, 0 running, best metric=0.01")


def test_notebook_progress_renders_running_trials(spark, root):
    view = NotebookProgress()
    html_seen = []

    class Capture(NotebookProgress):
        def draw(self, snap, *, final):
            html_seen.append(self.render(snap))

    experiment.grid_search(spark, curve, {"quality": [0.5, 0.6]}, metric="accuracy", root=root,
                           progress=Capture(interval=0))
    assert any("running" in h and "accuracy=" in h for h in html_seen)
    assert "best" in html_seen[-1]
    assert isinstance(view, NotebookProgress)


def where_am_i(x):
    from pyspark import TaskContext

    tc = TaskContext.get()
    return {"metric": x, "task": tc.taskAttemptId(),
            "description": tc.getLocalProperty("spark.job.description"),
            "group": tc.getLocalProperty("spark.jobGroup.id")}


def test_each_trial_names_its_spark_job_and_task(spark, root):
    res = experiment.grid_search(spark, where_am_i, {"x": [1, 2, 3, 4]}, name="ui", root=root,
                                 metric="metric", max_parallel=2, progress=False)
    name = os.path.basename(res.path)
    for t in res.trials:
        assert t.status == "complete", t.error
        # the Spark job the trial ran in, as the Spark UI shows it, names experiment and slot
        assert t.slot in (0, 1)
        assert t.outputs["description"] == f"sparkexp experiment {name}: where_am_i() trials, slot {t.slot}"
        assert t.outputs["group"] == res.manifest["job_group"]
        # and the record names the task (the stage page's "Task ID") that ran it
        assert t.spark_task == t.outputs["task"]
    loaded = experiment.load(res.path)  # replayed from the journal: the same mapping
    assert [(t.slot, t.spark_task) for t in loaded.trials] == [(t.slot, t.spark_task) for t in res.trials]
    table = res.to_arrow()
    assert table.column("spark_task").to_pylist() == [t.spark_task for t in res.trials]
    import collections

    snap = {"running": [res.trials[0]], "best": res.trials[1], "metric": "metric", "total": 4,
            "name": name, "elapsed": 1.0, "counts": collections.Counter(complete=3)}
    html = NotebookProgress().render(snap)
    assert f"slot {res.trials[0].slot} / task {res.trials[0].spark_task}" in html
