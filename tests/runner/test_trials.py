"""The book of trials on its own (no Spark, a hand-moved clock): proposals, starts, reports and
what the early-stopping rule says of them, results as the worker sends them, what the search is
told (once), failures, retries and pauses, each with its journal event.

The scheduler deciding where and when: tests/runner/test_scheduler.py and
test_scheduler_checkpoints.py.
"""

from __future__ import annotations

import pytest
from support.scheduling import Told

from sparkexp import journal
from sparkexp.options import RunOptions
from sparkexp.runner.policy import FailurePolicy
from sparkexp.runner.trials import TrialBook
from sparkexp.search import GridSearch
from sparkexp.search.stopping import MedianStopping
from sparkexp.status import StopCause

pytestmark = pytest.mark.timeout(60)


class Wall:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


def book_of(search=None, *, stopper=None, **options) -> TrialBook:
    opts = RunOptions(**options)
    return TrialBook(search or Told({"x": [1, 2, 3, 4, 5]}), options=opts, policy=FailurePolicy(opts),
                     trial_dir=lambda tid: f"/root/Experiments/e_1/{tid}", wall=Wall(), stopper=stopper)


def done(trial_id: str, metric: float | None = 1.0, status: str = "complete", **extra) -> dict:
    """A result as the worker sends it."""
    outputs = extra.pop("outputs", {} if metric is None else {"metric": metric})
    return {"id": trial_id, "status": status, "metric": metric, "outputs": outputs, "started": 10.0,
            "finished": 12.0, "host": "h2", "executor": "3", "gpus": ["0"], "pid": 77, **extra}


def test_proposals_come_from_the_search_with_their_folders_until_it_has_none():
    book = book_of(GridSearch({"x": [1, 2]}))
    first, second = book.propose(), book.propose()
    assert book.propose() is None
    assert (first.id, first.index, first.params, first.status) == ("trial_00000", 0, {"x": 1}, "queued")
    assert second.logdir == "/root/Experiments/e_1/trial_00001"
    assert book.trials == {"trial_00000": first, "trial_00001": second}
    assert book.journal == [journal.TrialProposed("trial_00000", 0, {"x": 1}, "/root/Experiments/e_1/trial_00000",
                                          1_700_000_000.0, None),
                            journal.TrialProposed("trial_00001", 1, {"x": 2}, "/root/Experiments/e_1/trial_00001",
                                          1_700_000_000.0, None)]


def test_a_start_records_where_the_trial_runs():
    book = book_of()
    trial = book.propose()
    book.journal.clear()
    book.start(trial, {"host": "h1", "executor": "2", "slot": 1, "task": 41, "pid": 5})
    assert (trial.status, trial.host, trial.executor, trial.slot, trial.spark_task) == \
        ("running", "h1", "2", 1, 41)
    assert book.journal == [journal.TrialStarted("trial_00000", 1_700_000_000.0, "h1", "2", 1, 41, 1)]


# -- reports and early stopping --------------------------------------------------------------


def test_the_loss_is_the_metric_in_the_users_direction_and_the_name_is_learned_once():
    up = book_of(direction="max")
    assert up.metric_name is None
    assert up.loss_of({"step": 1, "accuracy": 0.8, "_time": 3.0}) == -0.8
    assert up.metric_name == "accuracy"  # the one number in the first report
    assert up.loss_of({"step": 2, "accuracy": 0.9, "loss": 0.1}) == -0.9  # now it knows which
    down = book_of(direction="min", metric="loss")
    assert down.loss_of({"step": 1, "loss": 0.25, "accuracy": 0.8}) == 0.25
    assert down.loss_of({"step": 1, "accuracy": 0.8}) is None  # no metric in this report
    assert book_of().loss_of({"step": 1, "a": 1.0, "b": 2.0}) is None  # which one? not guessed


def test_every_report_is_journalled_and_the_stopping_rule_decides_on_steps():
    book = book_of(stopper=MedianStopping(grace_steps=1, min_trials=2), direction="min", metric="loss")
    trials = [book.propose() for _ in range(3)]
    for t in trials:
        book.start(t, {"slot": 0})
    book.journal.clear()
    assert book.report(trials[0], {"step": 1, "loss": 0.1}) is False
    assert book.report(trials[1], {"step": 1, "loss": 0.2}) is False
    # far worse than the median of the others at step 1 (step 0 would be the grace step)
    assert book.report(trials[2], {"step": 1, "loss": 5.0}) is True
    assert book.report(trials[2], {"loss": 9.0}) is False  # no step: the rule cannot place it
    assert [e.r for e in book.journal if isinstance(e, journal.TrialReported)][-1] == {"loss": 9.0}
    assert len(trials[2].history) == 2


def test_without_a_stopping_rule_reports_never_stop_a_trial():
    book = book_of(metric="loss", direction="min")
    trial = book.propose()
    assert not any(book.report(trial, {"step": s, "loss": 100.0 * s}) for s in range(1, 20))


# -- results ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sent, cause, recorded", [
    ("complete", None, "complete"),
    ("complete", StopCause.KILL, "complete"),  # it finished before the stop reached it
    ("error", StopCause.KILL, "error"),
    ("stopped", StopCause.TRIAL_TIMEOUT, "timeout"),
    ("stopped", StopCause.EXPERIMENT_TIMEOUT, "timeout"),
    ("timeout", StopCause.KILL, "stopped"),
    ("stopped", StopCause.EARLY_STOPPING, "stopped"),
    ("stopped", StopCause.PAUSE, "stopped"),
])
def test_a_result_takes_the_status_its_stop_cause_gives(sent, cause, recorded):
    book = book_of()
    trial = book.propose()
    book.result(trial, done(trial.id, status=sent), cause)
    assert trial.status == recorded


def test_a_result_is_copied_into_the_trial():
    book = book_of()
    trial = book.propose()
    book.start(trial, {"host": "h1", "executor": "1"})
    book.result(trial, done(trial.id, 0.75, outputs={"metric": 0.75, "extra": [1, 2]},
                            restored={"step": 3}), None)
    assert (trial.metric, trial.outputs, trial.started, trial.finished) == \
        (0.75, {"metric": 0.75, "extra": [1, 2]}, 10.0, 12.0)
    assert (trial.host, trial.executor, trial.gpus, trial.pid, trial.restored) == \
        ("h2", "3", ["0"], 77, {"step": 3})
    book.result(trial, {"status": "error", "error": "boom"}, None)  # a sparse result keeps where it ran
    assert (trial.status, trial.error, trial.metric, trial.host) == ("error", "boom", None, "h2")
    book.result(trial, {}, None)
    assert trial.status == "error"  # no status: an error, never a success


def test_constraints_are_evaluated_on_completed_trials_only():
    book = book_of(constraints={"latency": {"max": 100.0}})
    ok, slow, failed = book.propose(), book.propose(), book.propose()
    book.result(ok, done(ok.id, 0.9, outputs={"metric": 0.9, "latency": 80.0}), None)
    book.result(slow, done(slow.id, 0.95, outputs={"metric": 0.95, "latency": 130.0}), None)
    book.result(failed, done(failed.id, None, "error", outputs={"latency": 500.0}), None)
    assert (ok.constraints, ok.feasible) == ([-20.0], True)
    assert (slow.constraints, slow.feasible, slow.status) == ([30.0], False, "complete")
    assert failed.constraints is None


def test_a_constraints_function_that_raises_is_the_trials_error():
    book = book_of(constraints=lambda outputs: outputs["latency"] - 100)
    trial = book.propose()
    book.result(trial, done(trial.id, 0.9), None)
    assert (trial.status, trial.metric) == ("error", None)
    assert trial.error == "constraints: KeyError: 'latency'"


def test_a_stopped_trial_whose_task_was_lost_keeps_its_last_reported_metric():
    book = book_of(direction="max", metric="acc")
    trial = book.propose()
    for r in ({"step": 1, "acc": 0.5}, {"step": 2, "acc": 0.7}, {"step": 3, "note": 1.0}):
        book.report(trial, r)
    book.wall.t += 30  # type: ignore[attr-defined]
    book.stopped_without_result(trial, "early stopping", StopCause.EARLY_STOPPING)
    assert (trial.status, trial.metric, trial.finished) == ("stopped", 0.7, 1_700_000_030.0)
    assert trial.error == "stopped: early stopping (its task was killed)"
    never = book.propose()
    book.stopped_without_result(never, "trial over 5s", StopCause.TRIAL_TIMEOUT)
    assert (never.status, never.metric) == ("timeout", None)


# -- what the search learns ------------------------------------------------------------------


def test_a_finished_trial_is_told_once_with_its_loss_and_journalled_with_its_failure():
    search = Told({"x": [1, 2, 3]})
    book = book_of(search, direction="max", max_failures=5)
    good, bad = book.propose(), book.propose()
    book.result(good, done(good.id, 0.8), None)
    assert book.finish(good, None) is False
    book.result(bad, done(bad.id, None, "error", error="boom"), None)
    assert book.finish(bad, None) is True
    assert search.told == [("tell", 0, -0.8), ("tell", 1, None)]
    finished = [e for e in book.journal if isinstance(e, journal.TrialFinished)]
    assert [(e.id, e.failed, e.trial["status"]) for e in finished] == \
        [("trial_00000", False, "complete"), ("trial_00001", True, "error")]
    assert book.records == [good, bad]
    # a retry the search already heard of (resume) is not told again
    book.told.add(bad.id)
    book.result(bad, done(bad.id, 0.9), None)
    book.finish(bad, None)
    assert search.told == [("tell", 0, -0.8), ("tell", 1, None)]


def test_a_stop_the_experiment_made_is_not_a_failure_of_the_trial():
    book = book_of(max_failures=1)
    killed, slow = book.propose(), book.propose()
    book.result(killed, done(killed.id, None, "stopped"), StopCause.KILL)
    assert book.finish(killed, StopCause.KILL) is False
    book.result(slow, done(slow.id, None, "stopped"), StopCause.TRIAL_TIMEOUT)
    assert book.finish(slow, StopCause.TRIAL_TIMEOUT) is True  # over trial_timeout: its failure


def test_several_objectives_tell_one_loss_each_in_their_directions():
    search = Told({"x": [1, 2]})
    book = book_of(search, metric=["acc", "ms"], direction=["max", "min"])
    trial = book.propose()
    book.result(trial, done(trial.id, 0.9, outputs={"acc": 0.9, "ms": 30.0}), None)
    book.finish(trial, None)
    assert search.told == [("objectives", 0, [-0.9, 30.0])]


# -- target, retries, pauses, abandoning -----------------------------------------------------


@pytest.mark.parametrize("direction, metric, reached", [
    ("max", 0.95, True), ("max", 0.9, True), ("max", 0.85, False),
    ("min", 0.85, True), ("min", 0.95, False),
])
def test_the_target_is_reached_by_a_metric_at_least_as_good(direction, metric, reached):
    book = book_of(direction=direction, target=0.9)
    trial = book.propose()
    book.result(trial, done(trial.id, metric), None)
    assert book.reached_target(trial) is reached


def test_an_infeasible_or_metricless_trial_never_reaches_the_target():
    book = book_of(target=0.5, constraints={"ms": {"max": 10}})
    infeasible, failed = book.propose(), book.propose()
    book.result(infeasible, done(infeasible.id, 0.99, outputs={"metric": 0.99, "ms": 50}), None)
    book.result(failed, done(failed.id, None, "error"), None)
    assert not book.reached_target(infeasible) and not book.reached_target(failed)
    assert not book_of().reached_target(failed)  # no target at all


def test_a_retried_trial_archives_its_attempt_and_continues_from_its_checkpoint():
    book = book_of()
    trial = book.propose()
    for step in (1, 2, 3):
        book.report(trial, {"step": step, "metric": 0.1 * step})
    trial.checkpoints = [{"step": 2, "path": "ckpt-2"}]
    book.result(trial, done(trial.id, None, "error", error="lost"), None)
    book.journal.clear()
    book.requeue(trial, archive=True)
    assert (trial.status, trial.attempt) == ("queued", 2)
    assert [r["step"] for r in trial.history] == [1, 2]  # step 3 comes again
    (archived,) = book.journal
    assert isinstance(archived, journal.TrialAttempt) and archived.trial["status"] == "error"
    book.requeue(trial, archive=False)
    assert trial.attempt == 3 and len(book.journal) == 1


def test_a_paused_trial_is_recorded_then_queued_again_from_its_checkpoint():
    book = book_of()
    trial = book.propose()
    for step in (1, 2, 3):
        book.report(trial, {"step": step, "metric": 0.5})
    trial.checkpoints = [{"step": 1, "path": "ckpt-1"}]
    trial.error = "stopped: paused"
    book.journal.clear()
    book.pause(trial)
    assert (trial.status, trial.error) == ("paused", None)
    assert isinstance(book.journal[0], journal.TrialPaused) and book.journal[0].trial["status"] == "paused"
    assert book.records == [trial]
    book.unpause(trial)
    assert (trial.status, trial.attempt, [r["step"] for r in trial.history]) == ("queued", 2, [1])
    assert book.journal[1] == journal.TrialUnpaused(trial.id, 1_700_000_000.0)


def test_trials_abandoned_at_the_end_are_stopped_and_not_failures():
    book = book_of(max_failures=1)
    trial = book.propose()
    book.abandon(trial, "the experiment ended")
    assert (trial.status, trial.error) == ("stopped", "stopped: the experiment ended")
    (event,) = [e for e in book.journal if isinstance(e, journal.TrialFinished)]
    assert event.failed is False and book.policy.failures == 0
