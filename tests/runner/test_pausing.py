"""Pause requests on their own (no Spark): a running trial is stopped and recorded paused when it
ends, a queued one is paused at once, a paused one goes back to the head of the queue, and
everything else gets an error the control client shows.

With the scheduler, slots and checkpoints: tests/runner/test_scheduler_checkpoints.py; from
another process against a live driver: tests/test_checkpoints.py.
"""

from __future__ import annotations

import collections

import pytest

from sparkexp.options import RunOptions
from sparkexp.runner.pausing import Pausing
from sparkexp.runner.policy import FailurePolicy
from sparkexp.runner.trials import TrialBook
from sparkexp.search import GridSearch
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def setup():
    """A real book with four trials: two queued, one running, one complete."""
    options = RunOptions()
    book = TrialBook(GridSearch({"x": [1, 2, 3, 4]}), options=options, policy=FailurePolicy(options),
                     trial_dir=lambda tid: tid, wall=lambda: 50.0)
    trials = [book.propose() for _ in range(4)]
    book.start(trials[2], {"slot": 0})
    trials[3].status = "complete"
    pending: collections.deque[Trial] = collections.deque(trials[:2])
    book.journal.clear()
    return Pausing(book, pending), book, trials, pending


def test_a_running_trial_is_stopped_and_recorded_paused_when_it_ends(setup):
    pauses, book, trials, _ = setup
    running = trials[2]
    assert pauses.control("pause", running, running=True, ending=False, where="e_1") == \
        ({"op": "ok", "state": "pausing"}, "stop")
    assert running.status == "running" and pauses.requested == {running.id}
    assert pauses.settle(running, stopped=True) is True
    assert running.status == "paused" and pauses.requested == set()
    assert [e.to_json()["e"] for e in book.journal] == ["pause"]
    assert pauses.settle(running, stopped=True) is False  # once


def test_a_trial_asked_to_pause_that_ended_on_its_own_is_not_paused(setup):
    pauses, book, trials, _ = setup
    pauses.control("pause", trials[2], running=True, ending=False, where="e_1")
    assert pauses.settle(trials[2], stopped=False) is False  # it completed before the stop
    assert trials[2].status == "running" and book.journal == []
    assert pauses.settle(trials[0], stopped=True) is False  # never asked


def test_a_queued_trial_is_paused_at_once_and_leaves_the_queue(setup):
    pauses, book, trials, pending = setup
    assert pauses.control("pause", trials[1], running=False, ending=False, where="e_1") == \
        ({"op": "ok", "state": "paused"}, None)
    assert trials[1].status == "paused" and list(pending) == [trials[0]]
    assert book.records == [trials[1]]


def test_a_resumed_trial_goes_to_the_head_of_the_queue(setup):
    pauses, book, trials, pending = setup
    pauses.control("pause", trials[1], running=False, ending=False, where="e_1")
    assert pauses.control("resume", trials[1], running=False, ending=False, where="e_1") == \
        ({"op": "ok", "state": "queued"}, "dispatch")
    assert list(pending) == [trials[1], trials[0]]  # before trials that never ran
    assert (trials[1].status, trials[1].attempt) == ("queued", 2)
    assert [e.to_json()["e"] for e in book.journal] == ["pause", "unpause"]


@pytest.mark.parametrize("op, index, running, words", [
    ("pause", 3, False, "trial_00003 is complete, not running or queued"),
    ("pause", 2, False, "trial_00002 is starting on a slot; pause it again in a moment"),  # not on a slot yet
    ("resume", 0, False, "trial_00000 is queued, not paused"),
    ("resume", 2, True, "trial_00002 is running, not paused"),
])
def test_what_cannot_be_paused_or_resumed_gets_an_error_and_nothing_changes(setup, op, index, running, words):
    pauses, book, trials, pending = setup
    before = (trials[index].status, list(pending))
    reply, then = pauses.control(op, trials[index], running=running, ending=False, where="e_1")
    assert (reply, then) == ({"op": "error", "error": words}, None)
    assert (trials[index].status, list(pending)) == before and book.journal == []


def test_a_queued_trial_not_in_the_queue_is_not_paused(setup):
    """Queued but already handed out (its assignment is on the way to a slot)."""
    pauses, _, trials, pending = setup
    pending.remove(trials[0])
    reply, _ = pauses.control("pause", trials[0], running=False, ending=False, where="e_1")
    assert reply["op"] == "error" and trials[0].status == "queued"


def test_an_experiment_that_is_ending_resumes_nothing(setup):
    pauses, _, trials, pending = setup
    pauses.control("pause", trials[0], running=False, ending=False, where="e_1")
    reply, then = pauses.control("resume", trials[0], running=False, ending=True, where="/root/e_1")
    assert reply == {"op": "error", "error": "/root/e_1 is ending; resume it later with sparkexp resume PATH"}
    assert then is None and trials[0].status == "paused" and trials[0] not in pending
