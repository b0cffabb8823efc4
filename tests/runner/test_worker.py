"""The executor-side helpers that need no Spark: deferred end-of-trial work, lazy folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from sparkexp import tensorboard
from sparkexp.context import TrialContext, using
from sparkexp.runner.deferred import Deferred
from sparkexp.runner.worker import _Once

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)
    return predicate()


def test_deferred_work_waits_for_the_next_trial_to_run():
    done: list[int] = []
    deferred = Deferred()
    try:
        deferred.submit(lambda: done.append(1))
        time.sleep(0.1)
        assert done == []  # between trials: the round trip to the driver has the GIL alone
        with deferred.open_while():  # the next trial's function runs
            assert wait_for(lambda: done == [1])
    finally:
        deferred.close()


def test_deferred_work_does_not_pile_up_behind_short_trials():
    done: list[int] = []
    deferred = Deferred()
    try:
        for i in range(deferred.backlog + 3):
            deferred.submit(lambda i=i: done.append(i))
        # past the backlog the gate is ignored: all but `backlog` jobs run without a trial
        assert wait_for(lambda: len(done) >= 3)
        time.sleep(0.1)
        assert len(done) == 3
    finally:
        deferred.close()
    assert done == list(range(deferred.backlog + 3))  # close() drains everything, in order


def test_trial_folder_is_created_on_first_use(tmp_path):
    logdir = str(tmp_path / "trial_00000")
    calls = []
    create = _Once(lambda: (calls.append(1), os.makedirs(logdir)))
    ctx = TrialContext(trial_id="trial_00000", index=0, params={}, logdir=logdir,
                       project_root=str(tmp_path) + "/", create_logdir=create)
    assert not os.path.exists(logdir)
    with using(ctx):
        assert tensorboard.logdir() == logdir
        assert os.path.isdir(logdir)
        assert tensorboard.logdir() == logdir
    assert calls == [1]


def test_once_retries_after_a_failure():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("namenode busy")

    once = _Once(flaky)
    try:
        once()
    except OSError:
        pass
    once()
    once()
    assert len(attempts) == 2


# a slot task's trial stopped by the driver, over a real DriverLink on a socketpair (this script
# plays the driver): the status comes from the stop's cause, whatever its reason's words say
_STOPPED_TRIALS = r"""
import json, socket, sys, tempfile, threading, time
from sparkexp.runner import channel
from sparkexp.runner.link import DriverLink
from sparkexp.runner.messages import Cancel, ReportAck
from sparkexp.runner.worker import TaskSpec, run_trial
from sparkexp.status import StopCause

def sleeps(x):
    time.sleep(30)  # interrupted by the pushed cancel

def reports(x, reporter):
    for step in range(3000):
        reporter.log(step=step, loss=1.0)  # the answer to the first report says: stop
        time.sleep(0.01)

root = tempfile.mkdtemp() + "/"
out = {}
for name, fn, how, reason, cause in [
    ("cancel, trial timeout", sleeps, "cancel", "stopped by the driver", StopCause.TRIAL_TIMEOUT),
    ("cancel, kill", sleeps, "cancel", "timeout (trial over 5s)", StopCause.KILL),
    ("report, experiment timeout", reports, "ack", "stopped by the driver", StopCause.EXPERIMENT_TIMEOUT),
    ("report, early stopping", reports, "ack", "timeout (experiment over 9s)", StopCause.EARLY_STOPPING),
]:
    task_end, driver_end = socket.socketpair()
    link = DriverLink(task_end)

    def driver():
        if how == "cancel":
            time.sleep(0.3)
            channel.send(driver_end, Cancel("trial_00000", reason, cause).to_wire())
        else:
            channel.recv(driver_end)
            channel.send(driver_end, ReportAck(reason, cause).to_wire())

    threading.Thread(target=driver, daemon=True).start()
    spec = TaskSpec(host="", port=0, secret="", fn=fn, metric=None, project_root=root,
                    experiment_path=root + "Experiments/x_1", echo_output=False,
                    inject_reporter=how == "ack")
    trial = {"id": "trial_00000", "index": 0, "params": {"x": 1}, "gpus": [],
             "logdir": root + "Experiments/x_1/" + name.replace(" ", "_").replace(",", "")}
    result = run_trial(spec, trial, {"host": "h", "executor": "0", "pid": 1}, link)
    out[name] = [result["status"], result.get("error")]
    link.close()
    task_end.close()
    driver_end.close()
print(json.dumps(out), file=sys.__stdout__)
"""


def test_a_stopped_trial_is_recorded_timeout_or_stopped_from_the_stops_cause():
    run = subprocess.run([sys.executable, "-c", _STOPPED_TRIALS], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": REPO})
    assert run.returncode == 0, run.stderr
    statuses = json.loads(run.stdout.strip().splitlines()[-1])
    assert statuses == {
        "cancel, trial timeout": ["timeout", "stopped: stopped by the driver"],
        "cancel, kill": ["stopped", "stopped: timeout (trial over 5s)"],
        "report, experiment timeout": ["timeout", "stopped: stopped by the driver"],
        "report, early stopping": ["stopped", "stopped: timeout (experiment over 9s)"],
    }, statuses
