"""The trial scheduler with a fake clock: every policy path, no Spark, no sockets, no threads."""

from __future__ import annotations

from typing import Any

import pytest
from support.scheduling import Told, Worker, finished_events, given, make, result

from sparkexp.errors import ExperimentAborted, SparkexpError
from sparkexp.journal import TrialAttempt, TrialProposed, TrialStarted
from sparkexp.runner.messages import STOP, Cancel, ReportAck
from sparkexp.runner.policy import Phase
from sparkexp.search import FixedSearch
from sparkexp.search.stopping import Stopper
from sparkexp.status import ExperimentState, StopCause


# -- handing out trials -------------------------------------------------------------------------
def test_free_slots_get_trials_in_order_and_stop_at_the_end():
    sched, _ = make(3)
    a, b = Worker(0), Worker(1)
    first = sched.on_next(a)
    assert given(first, a).params == {"x": 0}
    assert [type(e) for e in first.journal] == [TrialProposed, TrialStarted]
    assert given(sched.on_next(b), b).params == {"x": 1}
    out = sched.on_next(a, result("trial_00000", metric=0.5))
    assert given(out, a).params == {"x": 2}
    assert finished_events(out)[0].failed is False
    assert sched.trials["trial_00000"].status == "complete"
    # nothing left to propose: the idle slot ends at once (its task slot goes back to Spark)
    assert sched.on_next(b, result("trial_00001")).replies == [(b, STOP)]
    end = sched.on_next(a, result("trial_00002"))
    assert [w.slot for w, r in end.replies if r is STOP] == [0]
    assert sched.finished() and sched.outcome() is ExperimentState.FINISHED


def test_max_parallel_holds_back_a_third_slot_and_can_grow():
    sched, _ = make(4, max_parallel=1)
    a, b = Worker(0), Worker(1)
    assert given(sched.on_next(a), a) is not None
    assert sched.on_next(b).replies == [] and list(sched.waiting) == [b]
    sched.max_parallel = 2  # elastic: one more slot came up
    assert given(sched.tick(), b) is not None


def test_a_result_for_a_trial_the_worker_does_not_run_is_ignored():
    sched, _ = make(2)
    a, b = Worker(0), Worker(1)
    sched.on_next(a)
    out = sched.on_next(b, result("trial_00000"))  # b never ran it
    assert finished_events(out) == [] and sched.trials["trial_00000"].status == "running"


def test_a_search_that_proposes_nothing_while_idle_is_a_bug_report():
    class Stuck(FixedSearch):
        def ask(self, n: int) -> list:
            return []

    sched, _ = make(search=Stuck([{"x": 1}]))
    with pytest.raises(SparkexpError, match="proposed no trial while nothing was running"):
        sched.on_next(Worker(0))


# -- timeouts and kills -----------------------------------------------------------------------------
def test_trial_timeout_cancels_then_kills_and_counts_as_a_failure():
    sched, clock = make(2, trial_timeout=5, kill_grace=2)
    a = Worker(0, task=77)
    trial = given(sched.on_next(a), a)
    assert sched.next_deadline() == clock.t + 5
    clock.advance(4.9)
    assert sched.tick().cancels == []
    clock.advance(0.2)
    out = sched.tick()
    assert out.cancels == [(a, Cancel(trial.id, "timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT))]
    assert sched.next_deadline() == pytest.approx(clock.t + 2)
    clock.advance(2.0)
    kills = sched.tick().kills
    # the task and its slot (a Spark Connect backend kills the slot's job)
    assert [(k.trial, k.task, k.slot) for k in kills] == [(trial.id, 77, 0)]
    assert sched.tick().kills == []  # killed once
    out = sched.on_next(a, result(trial, "stopped", error="stopped: timeout (trial over 5s)"))
    assert sched.trials[trial.id].status == "timeout"
    assert finished_events(out)[0].failed is True and sched.policy.failures == 1


def test_experiment_timeout_stops_running_trials_without_counting_failures():
    # the _record guard bug: with fail_fast a timeout ended in ExperimentAborted
    sched, clock = make(6, timeout=10, fail_fast=True)
    a, b = Worker(0), Worker(1)
    ta, tb = given(sched.on_next(a), a), given(sched.on_next(b), b)
    clock.advance(10)
    out = sched.tick()
    assert sorted(c.id for _, c in out.cancels) == [ta.id, tb.id]
    assert all(c.reason == "timeout (experiment over 10s)" and c.cause is StopCause.EXPERIMENT_TIMEOUT
               for _, c in out.cancels)
    assert sched.phase is Phase.TIMED_OUT and not sched.asking
    sched.on_next(a, result(ta, "stopped"))
    out = sched.on_next(b, result(tb, "error", error="KeyboardInterrupt"))
    assert [sched.trials[t.id].status for t in (ta, tb)] == ["timeout", "error"]
    assert finished_events(out)[0].failed is False and sched.policy.failures == 0
    assert sched.finished() and sched.outcome() is ExperimentState.TIMEOUT
    assert sched.abort_reason is None


def test_kill_stops_every_trial_and_ends_killed():
    sched, clock = make(4, timeout=10)
    a = Worker(0)
    trial = given(sched.on_next(a), a)
    out = sched.kill()
    assert out.cancels == [(a, Cancel(trial.id, "killed (sparkexp kill)", StopCause.KILL))]
    assert sched.kill().cancels == []  # asked twice: once is enough
    clock.advance(20)
    assert sched.tick().cancels == []  # no timeout after a kill
    sched.on_next(a, result(trial, "stopped"))
    assert sched.trials[trial.id].status == "stopped" and sched.policy.failures == 0
    assert sched.finished() and sched.outcome() is ExperimentState.KILLED


# -- failures, retries, lost workers ----------------------------------------------------------------
def test_max_failures_aborts_and_stops_the_others():
    sched, _ = make(10, max_failures=2)
    a, b = Worker(0), Worker(1)
    ta, tb = given(sched.on_next(a), a), given(sched.on_next(b), b)
    out = sched.on_next(a, result(ta, "error", error="boom"))
    ta2 = given(out, a)
    assert sched.asking and sched.policy.failures == 1
    out = sched.on_next(a, result(ta2, "error", error="boom"))
    assert sched.phase is Phase.ABORTING and sched.abort_reason == "2 trial(s) failed (max_failures=2)"
    assert out.cancels == [(b, Cancel(tb.id, "aborted: too many failed trials", StopCause.ABORT))]
    assert given(out, a) is None
    sched.on_next(b, result(tb, "stopped"))
    assert sched.trials[tb.id].status == "stopped" and sched.policy.failures == 2
    assert sched.finished() and sched.outcome() is ExperimentState.ABORTED


def test_a_failed_trial_is_retried_then_recorded():
    sched, _ = make(1, max_trial_retries=1, max_parallel=1)
    a = Worker(0)
    first = given(sched.on_next(a), a)
    out = sched.on_next(a, result(first, "error", error="flaky"))
    again = given(out, a)
    assert (again.id, again.attempt) == (first.id, 2)
    assert [type(e) for e in out.journal] == [TrialAttempt, TrialStarted]
    assert out.journal[0].trial["error"] == "flaky"
    out = sched.on_next(a, result(again, "error", error="still"))
    assert sched.trials[first.id].status == "error" and finished_events(out)[0].failed
    assert sched.finished()


def test_a_lost_trial_runs_again_then_is_an_error():
    sched, _ = make(1, max_parallel=1)
    a, b, c = Worker(0), Worker(0, task=2), Worker(0, task=3)
    trial = given(sched.on_next(a), a)
    sched.on_lost(a)
    again = given(sched.on_next(b), b)
    assert (again.id, again.attempt) == (trial.id, 2)
    out = sched.on_lost(b)
    record = sched.trials[trial.id]
    assert record.status == "error" and "died 2 times" in record.error
    assert finished_events(out)[0].failed
    # the slot's job failed because its trial killed the worker: restarted, not charged
    assert sched.on_slot_ended(0, "Python worker exited unexpectedly").restart_slots == []  # finished
    assert sched.policy.job_restarts == 0
    assert c.hello["task"] == 3


def test_a_trial_lost_while_being_stopped_keeps_its_last_metric():
    sched, clock = make(2, trial_timeout=1, direction="max")
    a = Worker(0)
    trial = given(sched.on_next(a), a)
    sched.on_report(a, trial.id, {"step": 1, "acc": 0.4})
    sched.on_report(a, trial.id, {"step": 2, "acc": 0.6})
    clock.advance(1)
    sched.tick()
    out = sched.on_lost(a)
    record = sched.trials[trial.id]
    assert (record.status, record.metric) == ("timeout", 0.6)
    assert "its task was killed" in record.error and finished_events(out)[0].failed


def test_slot_failures_with_no_trial_to_blame_are_bounded():
    sched, _ = make(8, max_job_restarts=2)
    sched.on_next(Worker(0))
    assert sched.on_slot_ended(1, "executor lost").restart_slots == [1]
    assert sched.on_slot_ended(1, "executor lost").restart_slots == [1]
    with pytest.raises(ExperimentAborted, match="failed 3 times without a trial to blame"):
        sched.on_slot_ended(1, "executor lost")


def test_a_slot_that_cannot_import_the_function_module_aborts_at_once():
    sched, _ = make(8)
    sched.on_next(Worker(0))
    with pytest.raises(ExperimentAborted, match="cannot import module 'mylib'"):
        sched.on_slot_ended(1, "ModuleNotFoundError", missing_module="mylib")


def test_normal_and_retired_slot_ends_start_nothing():
    sched, _ = make(8)
    sched.on_next(Worker(0))
    assert sched.on_slot_ended(1, None).restart_slots == []
    sched.retire_slot(1)
    assert sched.on_slot_ended(1, "cancelled").restart_slots == []
    assert sched.policy.job_restarts == 0


# -- early stopping, target, closing -------------------------------------------------------------------
class StopAtStep2(Stopper):
    name = "step2"

    def __init__(self) -> None:
        self.completed: list[tuple[int, str]] = []

    def report(self, key: int, step: int, loss: float) -> bool:
        return step >= 2

    def complete(self, key: int, loss: float | None, status: str) -> None:
        self.completed.append((key, status))


def test_early_stopping_answers_the_report_and_is_not_a_failure():
    stopper = StopAtStep2()
    sched, _ = make(2, stopper=stopper, max_failures=1)
    a = Worker(0)
    trial = given(sched.on_next(a), a)
    assert sched.on_report(a, trial.id, {"step": 1, "metric": 0.1}).replies == [(a, ReportAck(None))]
    out = sched.on_report(a, trial.id, {"step": 2, "metric": 0.2})
    assert out.replies == [(a, ReportAck("early stopping (step2)", StopCause.EARLY_STOPPING))] and out.cancels == []
    assert sched.on_report(a, trial.id, {"step": 3}).replies == [(a, ReportAck("early stopping (step2)", StopCause.EARLY_STOPPING))]
    sched.on_next(a, result(trial, "stopped", metric=0.2))
    assert sched.trials[trial.id].status == "stopped" and len(sched.trials[trial.id].history) == 3
    assert stopper.completed == [(0, "stopped")] and sched.asking


def test_target_stops_proposing_but_retries_still_run():
    sched, _ = make(10, target=0.9, max_trial_retries=1)
    a, b = Worker(0), Worker(1)
    ta, tb = given(sched.on_next(a), a), given(sched.on_next(b), b)
    out = sched.on_next(a, result(ta, metric=0.95))
    assert sched.phase is Phase.TARGET_REACHED and given(out, a) is None
    sched.on_next(b, result(tb, metric=0.1))
    assert sched.finished() and sched.outcome() is ExperimentState.FINISHED
    assert len(sched.trials) == 2


def test_close_stops_waiting_and_running_slots_and_abandons_the_rest():
    sched, _ = make(1)
    a, b = Worker(0), Worker(1)
    trial = given(sched.on_next(a), a)
    assert sched.on_next(b).replies == [(b, STOP)]  # the grid has one point: b is not needed
    out = sched.close("interrupted")
    assert out.replies == []
    assert out.cancels == [(a, Cancel(trial.id, "interrupted", StopCause.INTERRUPT))]
    assert sched.on_next(Worker(2)).replies[0][1] is STOP
    out = sched.abandon_running("interrupted")
    record = sched.trials[trial.id]
    assert (record.status, record.error) == ("stopped", "stopped: interrupted")
    assert finished_events(out)[0].failed is False and not sched.running


def test_the_loop_is_woken_only_when_it_has_work():
    sched, _ = make(4)
    a = Worker(0)
    sched.on_next(a)
    assert not sched.needs_loop()  # a plain hand-out: the connection thread did it all
    timed, _ = make(4, trial_timeout=3)
    timed.on_next(a)
    assert timed.needs_loop()


def test_a_fatal_result_is_not_retried_and_ends_the_experiment():
    # the worker marks a mistake every trial would repeat (an ambiguous metric) as fatal
    sched, _ = make(6, max_trial_retries=3)
    a, b = Worker(0), Worker(1)
    ta, tb = given(sched.on_next(a), a), given(sched.on_next(b), b)
    out = sched.on_next(a, result(ta, "error", error="several numbers", fatal="pass metric="))
    assert given(out, a) is None and sched.trials[ta.id].attempt == 1
    assert sched.abort_reason == f"{ta.id}: pass metric="
    assert out.cancels == [(b, Cancel(tb.id, "aborted: the first result showed a mistake", StopCause.ABORT))]
    sched.on_next(b, result(tb, "stopped"))
    assert sched.finished() and sched.outcome() is ExperimentState.ABORTED


def test_slots_are_shared_at_trial_boundaries_idle_ones_first():
    sched, _ = make(10)
    a, b, c = Worker(0), Worker(1), Worker(2)
    given(sched.on_next(a), a)
    given(sched.on_next(b), b)
    sched.max_parallel = 2
    assert sched.on_next(c).replies == []  # waits: max_parallel=2
    out = sched.share(2)  # another job group waits: end two slots
    assert out.replies == [(c, STOP)] and sched.yielding == 1  # the idle one at once
    out = sched.on_next(a, result("trial_00000"))
    assert out.replies == [(a, STOP)] and sched.yielding == 0  # a busy one at its boundary
    assert given(sched.on_next(b, result("trial_00001")), b).params == {"x": 2}
    assert sched.work_left() == 1 + 7  # running + not yet proposed


# -- objectives and constraints ------------------------------------------------------------------
def test_constraints_are_evaluated_on_completion_told_first_and_never_reach_the_target():
    search = Told({"x": [0, 1]})
    sched, _ = make(search=search, max_parallel=1, target=0.5, direction="min",
                    constraints={"latency": {"max": 2.0}})
    w = Worker(0)
    first = given(sched.on_next(w), w)
    slow = {"id": first.id, "status": "complete", "metric": 0.1, "outputs": {"metric": 0.1, "latency": 3.0}}
    actions = sched.on_next(w, slow)
    second = given(actions, w)  # infeasible: never reaches the target
    assert sched.trials[first.id].feasible is False and sched.phase is Phase.RUNNING
    assert search.told == [("constraints", 0, [1.0]), ("tell", 0, 0.1)]
    assert finished_events(actions)[0].feasible is False
    fast = {"id": second.id, "status": "complete", "metric": 0.2, "outputs": {"metric": 0.2, "latency": 1.0}}
    sched.on_next(w, fast)
    assert sched.trials[second.id].feasible is True and sched.phase is Phase.TARGET_REACHED


def test_several_objectives_tell_one_loss_per_objective():
    search = Told({"x": [0]})
    sched, _ = make(search=search, max_parallel=1, metric=["acc", "ms"], direction=["max", "min"])
    w = Worker(0)
    trial = given(sched.on_next(w), w)
    actions = sched.on_next(w, {"id": trial.id, "status": "complete", "metric": 0.9,
                                "outputs": {"acc": 0.9, "ms": 30.0}})
    assert search.told == [("objectives", 0, [-0.9, 30.0])]
    record = finished_events(actions)[0].trial
    assert record["outputs"] == {"acc": 0.9, "ms": 30.0} and record["constraints"] is None


def test_a_failing_constraints_function_is_the_trials_error():
    def broken(outputs: dict[str, Any]) -> float:
        raise KeyError("latency")

    search = Told({"x": [0]})
    sched, _ = make(search=search, max_parallel=1, constraints=broken)
    w = Worker(0)
    trial = given(sched.on_next(w), w)
    sched.on_next(w, result(trial))
    t = sched.trials[trial.id]
    assert (t.status, t.metric, t.feasible) == ("error", None, None)
    assert t.error == "constraints: KeyError: 'latency'" and search.told == [("tell", 0, None)]
