"""Resume without Spark: a fresh scheduler replays a journal and goes on as the old one would."""

from __future__ import annotations

import pytest
from support.scheduling import Clock, Told, Worker, given, result

from sparkexp.errors import ConfigError
from sparkexp.journal import Resumed
from sparkexp.options import RunOptions
from sparkexp.runner.replay import replay
from sparkexp.runner.scheduler import Scheduler
from sparkexp.search import RandomSearch

SPACE = {"lr": [0.0, 1.0]}


def scheduler(seed: int = 3, **options) -> Scheduler:
    clock = Clock()
    return Scheduler(RandomSearch(SPACE, samples=6, seed=seed),
                     options=RunOptions(max_parallel=2, **options),
                     trial_dir=lambda tid: f"/exp/{tid}", clock=clock, wall=clock)


def run_until_the_driver_dies(sched: Scheduler) -> list[dict]:
    """Two trials finish (one failed), two are running when the driver dies."""
    lines: list[dict] = []
    a, b = Worker(0), Worker(1)
    for actions in (sched.on_next(a), sched.on_next(b)):
        lines += [e.to_json() for e in actions.journal]
    first, second = sched.trials["trial_00000"], sched.trials["trial_00001"]
    lines += [e.to_json() for e in sched.on_next(a, result(first.id, metric=0.7)).journal]
    lines += [e.to_json() for e in sched.on_next(b, result(second.id, "error", error="x")).journal]
    return lines


def test_a_resumed_scheduler_proposes_what_the_old_one_would_have():
    old = scheduler(max_failures=3)
    lines = run_until_the_driver_dies(old)
    new = scheduler(max_failures=3)
    replay(new, {"metric": "metric"}, lines)
    resumed = new.take().journal
    assert isinstance(resumed[-1], Resumed) and resumed[-1].rerun == ["trial_00002", "trial_00003"]
    assert [t.status for t in new.trials.values()] == ["complete", "error", "queued", "queued"]
    assert new.policy.failures == 1 and new.book.metric_name == "metric"
    # the unfinished trials run first, again from the start, then the search goes on as before
    a, b = Worker(0), Worker(1)
    rerun = given(new.on_next(a), a)
    assert (rerun.id, rerun.attempt) == ("trial_00002", 2)
    assert given(new.on_next(b), b).id == "trial_00003"
    fresh = given(new.on_next(a, result("trial_00002")), a)
    expected = RandomSearch(SPACE, samples=6, seed=3).ask(6)[4]
    assert (fresh.id, fresh.index, fresh.params) == ("trial_00004", 4, expected.params)


def test_a_changed_seed_is_refused():
    lines = run_until_the_driver_dies(scheduler(seed=3))
    with pytest.raises(ConfigError, match="was the space, seed or strategy changed"):
        replay(scheduler(seed=4), {}, lines, where="exp_1")


def test_retry_reruns_a_finished_trial_and_archives_it():
    lines = run_until_the_driver_dies(scheduler())
    new = scheduler()
    replay(new, {}, lines, rerun=["trial_00001"])
    journal = new.take().journal
    assert [e.to_json()["e"] for e in journal] == ["attempt", "resume"]
    assert journal[-1].retry == ["trial_00001"]
    assert new.trials["trial_00001"].status == "queued" and "trial_00001" in new.book.told


def test_resume_tells_the_search_each_objective_and_constraint_as_the_live_run_did():
    def two_objectives() -> Scheduler:
        clock = Clock()
        options = RunOptions(max_parallel=1, metric=["acc", "ms"], direction=["max", "min"],
                             constraints={"ms": {"max": 20.0}})
        return Scheduler(Told({"x": [0, 1, 2]}), options=options,
                         trial_dir=lambda tid: f"/exp/{tid}", clock=clock, wall=clock)

    live, lines = two_objectives(), []
    w = Worker(0)
    lines += [e.to_json() for e in live.on_next(w).journal]
    for tid, ms in (("trial_00000", 30.0), ("trial_00001", 10.0)):
        done = {"id": tid, "status": "complete", "metric": 0.9, "outputs": {"acc": 0.9, "ms": ms}}
        lines += [e.to_json() for e in live.on_next(w, done).journal]
    resumed = two_objectives()
    replay(resumed, {"metric": "acc"}, lines)
    assert resumed.search.told == live.search.told == [
        ("constraints", 0, [10.0]), ("objectives", 0, [-0.9, 30.0]),
        ("constraints", 1, [-10.0]), ("objectives", 1, [-0.9, 10.0])]
    assert [t.feasible for t in resumed.trials.values()] == [False, True, None]
