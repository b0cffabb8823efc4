"""The scheduler's side of checkpoints with a fake clock: records, pause/resume, lineage, the
needs-checkpoints abort (no Spark, no sockets)."""

from __future__ import annotations

from support.scheduling import Worker, given, make, result

from sparkexp.journal import TrialCheckpointed, TrialPaused, TrialProposed, TrialUnpaused
from sparkexp.runner.messages import Cancel, ReportAck
from sparkexp.search import PopulationBasedTraining
from sparkexp.status import ExperimentState, StopCause


def ckpt(step):
    return {"step": step, "path": f"/exp/trial_00000/checkpoints/ckpt_{step:06d}", "time": 0.0}


def test_checkpoints_are_listed_kept_to_keep_and_journalled():
    sched, _ = make(1, max_parallel=1, keep_checkpoints=2)
    w = Worker(0)
    trial = given(sched.on_next(w), w)
    assert trial.to_wire()["checkpoints"] == {"keep": 2, "from": None}
    for step in (1, 2, 3):
        out = sched.on_checkpoint(w, trial.id, ckpt(step))
        assert out.replies == [(w, ReportAck(None))]
        assert [type(e) for e in out.journal] == [TrialCheckpointed]
    assert [c["step"] for c in sched.trials[trial.id].checkpoints] == [2, 3]
    sched.on_checkpoint(Worker(5), trial.id, ckpt(9))  # not the worker running it: ignored
    assert [c["step"] for c in sched.trials[trial.id].checkpoints] == [2, 3]


def test_a_paused_trial_frees_its_slot_and_continues_when_resumed():
    sched, _ = make(2, max_parallel=1)
    w = Worker(0)
    first = given(sched.on_next(w), w)
    sched.on_report(w, first.id, {"step": 1, "metric": 0.1})
    sched.on_checkpoint(w, first.id, ckpt(1))
    sched.on_report(w, first.id, {"step": 2, "metric": 0.2})
    assert sched.pause_control("pause", first.id, "exp")["state"] == "pausing"
    assert sched.take().cancels == [(w, Cancel(first.id, "paused (sparkexp pause)", StopCause.PAUSE))]
    out = sched.on_next(w, result(first, "stopped", error="stopped: paused"))
    assert sched.trials[first.id].status == "paused"
    assert any(isinstance(e, TrialPaused) for e in out.journal)
    second = given(out, w)
    assert second.id == "trial_00001"  # the slot went on with other work
    assert sched.pause_control("resume", "trial_00009", "exp")["op"] == "error"
    assert sched.pause_control("resume", first.id, "exp")["state"] == "queued"
    assert [type(e) for e in sched.take().journal] == [TrialUnpaused]
    again = given(sched.on_next(w, result(second)), w)
    assert again.id == first.id and again.attempt == 2
    assert [r["step"] for r in sched.trials[first.id].history] == [1]  # up to its checkpoint
    sched.on_next(w, result(first))
    assert sched.finished() and sched.outcome() is ExperimentState.FINISHED


def test_an_experiment_left_with_a_paused_trial_ends_paused():
    sched, _ = make(1, max_parallel=1)
    w = Worker(0)
    trial = given(sched.on_next(w), w)
    sched.pause_control("pause", trial.id, "exp")
    sched.on_next(w, result(trial, "stopped"))
    assert sched.finished() and sched.outcome() is ExperimentState.PAUSED


def test_pbt_copies_name_their_parent_and_checkpoint_and_a_function_that_never_checkpoints_aborts():
    pbt = PopulationBasedTraining({"lr": [0.01, 0.1]}, population=2, max_steps=10, interval=2, seed=0)
    sched, _ = make(search=pbt, max_parallel=2, stopper=pbt, direction="min")
    a, b = Worker(0), Worker(1)
    ta, tb = given(sched.on_next(a), a), given(sched.on_next(b), b)
    sched.on_checkpoint(a, ta.id, {"step": 2, "path": "/exp/trial_00000/checkpoints/ckpt_000002"})
    sched.on_checkpoint(b, tb.id, {"step": 2, "path": "/exp/trial_00001/checkpoints/ckpt_000002"})
    assert sched.on_report(a, ta.id, {"step": 2, "metric": 0.1}).replies == [(a, ReportAck(None))]
    stop = sched.on_report(b, tb.id, {"step": 2, "metric": 0.9}).replies[0][1]
    assert stop.stop and stop.stop.startswith("early stopping (pbt)")
    out = sched.on_next(b, result(tb, "stopped", metric=0.9))
    child = given(out, b)
    proposed = [e for e in out.journal if isinstance(e, TrialProposed)][0]
    assert proposed.origin["parent"] == ta.id and proposed.origin["step"] == 2
    assert child.to_wire()["checkpoints"]["from"] == "/exp/trial_00000/checkpoints/ckpt_000002"
    # the child reports twice without a checkpoint of its own: the experiment aborts, named
    sched.on_report(b, child.id, {"step": 3, "metric": 0.5})
    sched.on_report(b, child.id, {"step": 4, "metric": 0.4})
    assert sched.abort_reason and "without calling reporter.checkpoint" in sched.abort_reason
