"""The journal's typed events and its one fold, as load, status and resume read it."""

from __future__ import annotations

import json

from sparkexp.journal import (
    Fold,
    Resumed,
    TrialAttempt,
    TrialFinished,
    TrialProposed,
    TrialReported,
    TrialStarted,
    fold,
    parse,
)
from sparkexp.trial import Trial


def finished(tid: str, index: int, status: str, metric: float | None = None) -> TrialFinished:
    record = Trial(tid, index, {"x": index}, status=status, metric=metric, attempt=1).to_dict()
    record.pop("history")
    return TrialFinished(tid, record, status == "error")


EVENTS = [
    TrialProposed("trial_00000", 0, {"x": 0}, "/e/trial_00000", 1.0),
    TrialStarted("trial_00000", 1.5, host="h", executor="1", slot=0, task=11),
    TrialProposed("trial_00001", 1, {"x": 1}, "/e/trial_00001", 2.0),
    TrialStarted("trial_00001", 2.5, host="h", executor="2", slot=1, task=12),
    TrialReported("trial_00000", {"step": 1, "acc": 0.5}),
    finished("trial_00000", 0, "complete", 0.5),
    TrialReported("trial_00001", {"step": 1, "acc": 0.1}),
]


def test_every_event_round_trips_through_a_journal_line():
    more = [TrialAttempt("trial_00001", {"id": "trial_00001", "status": "error"}),
            Resumed(3.0, ["trial_00001"], []), TrialFinished("trial_00000", {"id": "trial_00000"})]
    for event in [*EVENTS, *more]:
        line = json.loads(json.dumps(event.to_json()))
        assert parse(line) == event


def test_the_fold_gives_each_trials_latest_state():
    trials = fold(e.to_json() for e in EVENTS)
    done, running = trials["trial_00000"], trials["trial_00001"]
    assert (done.status, done.metric, done.history) == ("complete", 0.5, [{"step": 1, "acc": 0.5}])
    assert (running.status, running.slot, running.spark_task) == ("running", 1, 12)
    assert fold(EVENTS) == trials  # typed events fold the same as their lines


def test_a_resume_starts_the_rerun_trials_reports_afresh():
    trials = fold([*EVENTS, Resumed(9.0, ["trial_00001"], [])])
    assert trials["trial_00001"].history == [] and trials["trial_00001"].status == "queued"


def test_unreadable_lines_are_skipped():
    lines = [{"e": "trial", "id": 3}, {"e": "start"}, {"e": "nonsense", "id": "x"},
             {"e": "trial", "id": "trial_00000", "index": "zero"}, {"e": "report", "id": "t", "r": 5}]
    assert [parse(line) for line in lines] == [None] * len(lines)
    assert fold(lines) == {}


def test_older_results_without_failed_count_by_status():
    old = {"e": "result", "id": "trial_00000", "trial": {"id": "trial_00000", "status": "timeout"}}
    assert parse(old).counts_as_failure
    assert not TrialFinished("trial_00000", {"status": "timeout"}, False).counts_as_failure


def test_a_subclass_sees_every_event_in_order():
    seen = []

    class Tracing(Fold):
        def on_reported(self, event):
            super().on_reported(event)
            seen.append((event.id, event.r["step"]))

    folder = Tracing()
    for event in EVENTS:
        folder.apply(event)
    assert seen == [("trial_00000", 1), ("trial_00001", 1)]


def test_a_result_carries_objective_values_and_feasibility_through_the_fold():
    record = Trial("trial_00002", 2, {"x": 2}, status="complete", metric=0.9,
                   outputs={"accuracy": 0.9, "latency": 3.0}, constraints=[1.4]).to_dict()
    record.pop("history")
    event = TrialFinished("trial_00002", record, False)
    line = json.loads(json.dumps(event.to_json()))
    assert parse(line) == event and event.feasible is False
    trial = fold([TrialProposed("trial_00002", 2, {"x": 2}, None, 1.0), line])["trial_00002"]
    assert trial.feasible is False and trial.constraints == [1.4]
    assert trial.outputs == {"accuracy": 0.9, "latency": 3.0}
    assert TrialFinished("trial_00000", {"id": "trial_00000"}).feasible is None
