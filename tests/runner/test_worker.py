"""The executor-side helpers that need no Spark: deferred end-of-trial work, lazy folders."""

from __future__ import annotations

import os
import time

from sparkexp import tensorboard
from sparkexp.context import TrialContext, using
from sparkexp.runner.deferred import Deferred
from sparkexp.runner.worker import _Once


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
