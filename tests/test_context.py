"""The current trial as the in-trial API reads it (no Spark): outside a trial a clear error,
inside the trial's own context, restored after the block however it ends, never mixed between
threads, and the trial folder created on first use only.

The in-trial API on executors (``tensorboard.logdir()``, ``hdfs.project_path()``, the
reporter): tests/runner/test_worker.py, tests/test_hdfs_api.py, tests/test_reporter.py.
"""

from __future__ import annotations

import contextvars
import threading

import pytest

from sparkexp.context import TrialContext, current, current_or_none, using
from sparkexp.errors import NotInTrialError

pytestmark = pytest.mark.timeout(60)


def trial(i: int, **extra) -> TrialContext:
    return TrialContext(trial_id=f"trial_{i:05d}", index=i, params={"lr": 0.1 * i},
                        logdir=f"/root/Experiments/e_1/trial_{i:05d}", project_root="/root/", **extra)


def test_outside_a_trial_the_error_names_what_was_called():
    assert current_or_none() is None
    with pytest.raises(NotInTrialError, match=r"tensorboard.logdir\(\) can only be called inside a trial"):
        current("tensorboard.logdir()")
    with pytest.raises(NotInTrialError, match="this function can only be called inside a trial"):
        current()


def test_inside_the_block_the_trial_is_current_and_afterwards_it_is_gone():
    ctx = trial(3)
    with using(ctx) as given:
        assert given is ctx and current() is ctx and current_or_none() is ctx
        assert current().params == {"lr": pytest.approx(0.3)}
    assert current_or_none() is None


def test_the_outer_trial_comes_back_after_an_inner_block_even_when_it_raised():
    outer, inner = trial(1), trial(2)
    with using(outer):
        with pytest.raises(RuntimeError), using(inner):
            assert current() is inner
            raise RuntimeError("the training function failed")
        assert current() is outer
    assert current_or_none() is None


def test_trials_in_two_threads_never_see_each_other():
    both_inside = threading.Barrier(2)
    seen: dict[str, str] = {}

    def run(ctx: TrialContext) -> None:
        with using(ctx):
            both_inside.wait(10)  # both blocks are open at once
            seen[ctx.trial_id] = current().trial_id
            both_inside.wait(10)

    threads = [threading.Thread(target=run, args=(trial(i),)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"trial_00000": "trial_00000", "trial_00001": "trial_00001"}
    assert current_or_none() is None  # and this thread saw neither


def test_a_thread_the_trial_starts_sees_it_when_started_in_its_context():
    seen: list[TrialContext | None] = []
    with using(trial(4)):
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(lambda: seen.append(current_or_none()),))
        worker.start()
        worker.join(10)
    assert seen and seen[0] is not None and seen[0].trial_id == "trial_00004"


def test_the_trial_folder_is_created_only_when_asked_for():
    created: list[str] = []
    ctx = trial(5, create_logdir=lambda: created.append("made"))
    with using(ctx):
        assert created == []  # entering the trial makes nothing
        assert current().ensure_logdir() == "/root/Experiments/e_1/trial_00005"
    assert created == ["made"]
    assert trial(6).ensure_logdir() == "/root/Experiments/e_1/trial_00006"  # nothing to create


def test_a_context_knows_only_what_the_runner_gave_it():
    ctx = trial(7)
    assert (ctx.experiment_path, ctx.gpus, ctx.reporter, ctx.allow_outside_root) == ("", [], None, False)
    assert "create_logdir" not in repr(ctx)
