"""Slots the experiment no longer needs go back to Spark, on the shared local[2] session."""

from __future__ import annotations

import threading
import time

from sparkexp import experiment


def test_fewer_trials_left_than_slots_releases_the_idle_slot(spark, root):
    # one long trial and two short ones on two slots: once the short ones are done and the
    # grid has nothing left to propose, the idle slot's task (and job) ends while the long
    # trial still runs, so its core is free for other work
    def sleepy(duration: float) -> float:  # defined here: pickled by value (tests/runner is
        import time  # not on the executors' path)

        time.sleep(duration)
        return duration

    tracker = spark.sparkContext.statusTracker()
    seen: list[tuple[float, int]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            seen.append((time.time(), len(tracker.getActiveJobsIds())))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        res = experiment.grid_search(spark, sleepy, {"duration": [4.0, 0.2, 0.2]}, max_parallel=2,
                                     root=root, progress=False)
    finally:
        done.set()
        watcher.join(5)
    long = next(t for t in res.trials if t.params["duration"] == 4.0)
    shorts_done = max(t.finished for t in res.trials if t.params["duration"] == 0.2)
    during = [n for t, n in seen if shorts_done + 1.0 < t < long.finished - 0.2]
    assert during and max(n for _t, n in seen) == 2, seen
    assert set(during) == {1}, (during, seen)  # only the long trial's slot job is left


def test_a_slot_task_too_late_for_a_trial_stops_instead_of_being_killed(spark, root):
    # slot 1's task starts (a cold Python worker) while slot 0 runs all three trials: when the
    # experiment ends, that task is running on the executor but has not reached the driver yet.
    # It is let connect and told to stop; cancelling its job instead killed it, and a killed
    # task's thread holds its executor task slot until PySpark ends its worker
    # (spark.python.task.killTimeout, 2 s, plus up to 2 s of polling): after the experiment
    # returned, the next one found one task slot of two taken
    from support.late_slot import late_on_slot
    from support.leaked_tasks import wait_for_leak_free

    sc = spark.sparkContext
    assert wait_for_leak_free(sc) == []  # nothing left running by earlier tests

    def plus(x):
        return x + 1

    res = experiment.grid_search(spark, late_on_slot(plus, slot=1, seconds=3.0), {"x": [1, 2, 3]},
                                 max_parallel=2, root=root, progress=False)
    assert [t.status for t in res.trials] == ["complete"] * 3
    assert {t.slot for t in res.trials} == {0}  # the late slot got no trial: the case at hand
    # the experiment's task slots are free when it returns (a killed task would run 2-4 s more)
    assert wait_for_leak_free(sc, seconds=1.0) == []
