"""The vocabulary: statuses are enums whose members are their record strings."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa

from sparkexp.status import FAILED, FINISHED, ExperimentState, StopCause, TrialStatus, best_trial
from sparkexp.trial import Trial


def test_members_are_their_strings_everywhere():
    status = TrialStatus.COMPLETE
    assert status == "complete" and hash(status) == hash("complete")
    assert "complete" in FINISHED and status in {"complete"}
    assert (str(status), f"{status}", repr(status)) == ("complete", "complete", "'complete'")
    assert json.dumps({"s": status, status: 1}) == '{"s": "complete", "complete": 1}'
    assert Counter([status, "complete"]) == {"complete": 2}
    assert pa.array([status], pa.string()).to_pylist() == ["complete"]
    assert TrialStatus("timeout") is TrialStatus.TIMEOUT
    assert ExperimentState("killed") is ExperimentState.KILLED


def test_record_values_do_not_change():
    assert [s.value for s in TrialStatus] == [
        "created", "queued", "running", "paused", "complete", "error", "stopped", "timeout"]
    assert {s.value for s in ExperimentState} == {
        "running", "finished", "timeout", "aborted", "killed", "interrupted", "paused"}
    assert FINISHED == {"complete", "error", "stopped", "timeout"}
    assert FAILED == {"error", "timeout"}


def test_only_a_trials_own_timeout_is_a_failure():
    assert [c for c in StopCause if c.is_failure] == [StopCause.TRIAL_TIMEOUT]
    assert {c for c in StopCause if c.status == "timeout"} == {
        StopCause.TRIAL_TIMEOUT, StopCause.EXPERIMENT_TIMEOUT}


def test_best_trial_ignores_failures_and_breaks_ties_by_index():
    trials = [Trial("trial_00002", 2, {}, status="complete", metric=0.9),
              Trial("trial_00000", 0, {}, status="error", metric=5.0),
              Trial("trial_00001", 1, {}, status="complete", metric=0.9),
              Trial("trial_00003", 3, {}, status="stopped", metric=2.0)]
    assert best_trial(trials, "max").id == "trial_00001"
    assert best_trial(trials, "min").id == "trial_00001"
    assert best_trial(trials[1:2], "max") is None
