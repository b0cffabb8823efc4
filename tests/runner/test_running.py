"""The trials running now, on a hand-moved clock (no Spark): who runs what, trial timeouts,
stops with their kill grace, the Spark tasks to kill (once each), and the next deadline the
driver sleeps until.

The scheduler acting on them: tests/runner/test_scheduler.py.
"""

from __future__ import annotations

import pytest

from sparkexp.runner.policy import KillTask
from sparkexp.runner.running import RunningTrials, Stopping, describe_worker
from sparkexp.status import StopCause

pytestmark = pytest.mark.timeout(60)


class Slot:
    """A slot task's connection as the scheduler holds it: what its hello said."""

    def __init__(self, slot: int, task: int | None = None) -> None:
        self.hello = {"host": "h1", "executor": "2", "pid": 100 + slot, "slot": slot,
                      "task": 1000 + slot if task is None else task}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def test_without_a_trial_timeout_nothing_is_ever_overdue(clock):
    runs = RunningTrials(clock=clock, trial_timeout=None, kill_grace=3.0)
    a = Slot(0)
    runs.assign(a, "trial_00000")
    assert runs.by_worker == {a: "trial_00000"} and runs.by_trial == {"trial_00000": a}
    clock.now += 1e6
    assert runs.overdue() == [] and runs.next_deadline() is None and runs.kills_due() == []


def test_each_trial_times_out_its_own_timeout_after_it_started(clock):
    runs = RunningTrials(clock=clock, trial_timeout=10.0, kill_grace=3.0)
    runs.assign(Slot(0), "trial_00000")
    clock.now += 4
    runs.assign(Slot(1), "trial_00001")
    assert runs.next_deadline() == 110.0
    clock.now = 109.999
    assert runs.overdue() == []
    clock.now = 110.0  # at the deadline, not only after it
    assert runs.overdue() == ["trial_00000"]
    clock.now = 114.0
    assert runs.overdue() == ["trial_00000", "trial_00001"]


def test_a_stop_gives_the_worker_to_tell_once_and_moves_the_deadline_to_the_kill(clock):
    runs = RunningTrials(clock=clock, trial_timeout=10.0, kill_grace=3.0)
    a, b = Slot(0), Slot(1)
    runs.assign(a, "trial_00000")
    clock.now = 105.0
    runs.assign(b, "trial_00001")
    clock.now = 110.0
    assert runs.stop("trial_00000", "timeout (trial over 10s)", StopCause.TRIAL_TIMEOUT) is a
    assert runs.stop("trial_00000", "killed", StopCause.KILL) is None  # the first stop stands
    assert runs.stopping["trial_00000"] == Stopping("timeout (trial over 10s)", StopCause.TRIAL_TIMEOUT, 113.0)
    assert runs.stop("trial_00009", "killed", StopCause.KILL) is None  # not running
    assert runs.overdue() == []  # being stopped: not overdue again
    # the kill (113), not trial_00000's passed timeout (110) nor trial_00001's later one (115)
    assert runs.next_deadline() == 113.0
    runs.release("trial_00000")
    assert runs.next_deadline() == 115.0


def test_a_stopped_trial_that_does_not_end_gets_its_task_killed_once(clock):
    runs = RunningTrials(clock=clock, trial_timeout=None, kill_grace=3.0)
    a = Slot(1, task=4242)
    runs.assign(a, "trial_00003")
    runs.stop("trial_00003", "early stopping", StopCause.EARLY_STOPPING)
    clock.now += 2.9
    assert runs.kills_due() == []
    clock.now += 0.1
    assert runs.kills_due() == [KillTask("trial_00003", 4242, "early stopping", 1)]
    assert runs.kills_due() == []  # killed already: not again
    assert runs.next_deadline() is None  # nothing left to wait for
    stop = runs.release("trial_00003")  # its task ended at last
    assert stop is not None and stop.killed and stop.cause is StopCause.EARLY_STOPPING
    assert runs.by_worker == {} and runs.by_trial == {} and runs.stopping == {}


def test_no_grace_means_the_kill_is_due_at_once(clock):
    runs = RunningTrials(clock=clock, trial_timeout=None, kill_grace=0.0)
    runs.assign(Slot(0), "trial_00000")
    runs.stop("trial_00000", "killed (sparkexp kill)", StopCause.KILL)
    assert [k.trial for k in runs.kills_due()] == ["trial_00000"]


def test_a_stop_whose_worker_is_gone_still_reports_the_kill_without_a_task(clock):
    """The worker's connection was forgotten while its trial was being stopped."""
    runs = RunningTrials(clock=clock, trial_timeout=None, kill_grace=1.0)
    a = Slot(0)
    runs.assign(a, "trial_00000")
    runs.stop("trial_00000", "abort", StopCause.ABORT)
    del runs.by_trial["trial_00000"]
    clock.now += 1
    assert runs.kills_due() == [KillTask("trial_00000", None, "abort", None)]


def test_a_released_worker_runs_the_next_trial_with_a_fresh_timeout(clock):
    runs = RunningTrials(clock=clock, trial_timeout=5.0, kill_grace=1.0)
    a = Slot(0)
    runs.assign(a, "trial_00000")
    clock.now += 4
    assert runs.release("trial_00000") is None  # it ended on its own: no stop
    runs.assign(a, "trial_00001")
    assert runs.by_worker == {a: "trial_00001"} and "trial_00000" not in runs.by_trial
    assert runs.next_deadline() == 109.0
    assert runs.release("trial_00042") is None  # unknown: nothing happens


def test_a_worker_is_named_by_its_own_description_or_its_hello():
    class Described(Slot):
        def describe(self) -> str:
            return "task 7 on h9"

    assert describe_worker(Described(0)) == "task 7 on h9"
    assert describe_worker(Slot(3)) == "task on h1 (executor 2, pid 103)"
