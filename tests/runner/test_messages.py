"""The channel's typed messages: what goes on the wire, and what a worker's frame parses to."""

from __future__ import annotations

import json

import pytest

from sparkexp.runner.messages import (
    STOP,
    Cancel,
    ControlReply,
    NextRequest,
    ReportAck,
    ReportRequest,
    TrialAssignment,
    parse_request,
    stop_cause,
)
from sparkexp.status import StopCause


@pytest.mark.parametrize("message, wire", [
    (NextRequest(None), {"op": "next", "result": None}),
    (ReportRequest("trial_00001", {"step": 2}), {"op": "report", "id": "trial_00001", "report": {"step": 2}}),
    (TrialAssignment("trial_00001", 1, {"x": 1}, "/e/t", 2),
     {"op": "trial", "id": "trial_00001", "index": 1, "params": {"x": 1}, "logdir": "/e/t", "attempt": 2}),
    (TrialAssignment("t", 0, {}, None, 1, ["0", "1"]),
     {"op": "trial", "id": "t", "index": 0, "params": {}, "logdir": None, "attempt": 1, "gpus": ["0", "1"]}),
    (STOP, {"op": "stop"}),
    (ReportAck(), {"op": "ok", "stop": None}),
    (ReportAck("early stopping (asha)", StopCause.EARLY_STOPPING),
     {"op": "ok", "stop": "early stopping (asha)", "cause": "early stopping"}),
    (Cancel("t", "killed (sparkexp kill)", StopCause.KILL),
     {"op": "cancel", "id": "t", "reason": "killed (sparkexp kill)", "cause": "kill"}),
    (Cancel("t", "timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT),
     {"op": "cancel", "id": "t", "reason": "timeout (trial over 5s)", "cause": "trial timeout"}),
    (ControlReply("killing", 2), {"op": "ok", "state": "killing", "running": 2}),
])
def test_wire_format(message, wire):
    assert message.to_wire() == wire
    json.dumps(message.to_wire(), allow_nan=False)  # the channel sends JSON


def test_worker_frames_parse_to_requests():
    assert parse_request({"op": "next", "result": {"id": "t"}}) == NextRequest({"id": "t"})
    assert parse_request({"op": "next", "result": "garbage"}) == NextRequest(None)
    assert parse_request({"op": "report", "id": "t", "report": {}}) == ReportRequest("t", {})
    with pytest.raises(ValueError, match="not a worker request: 'kill'"):
        parse_request({"op": "kill"})


@pytest.mark.parametrize("cause", list(StopCause))
def test_a_stops_cause_survives_the_wire_and_decides_the_status(cause):
    # the task records timeout/stopped from the cause, whatever the reason's words say
    frame = json.loads(json.dumps(Cancel("t", "a reason for people", cause).to_wire()))
    assert stop_cause(frame) is cause
    assert stop_cause(json.loads(json.dumps(ReportAck("why", cause).to_wire()))) is cause
    assert cause.status == ("timeout" if cause in (StopCause.TRIAL_TIMEOUT,
                                                   StopCause.EXPERIMENT_TIMEOUT) else "stopped")


def test_a_frame_without_a_known_cause_has_none():
    assert stop_cause({"op": "cancel", "id": "t", "reason": "timeout (trial over 5s)"}) is None
    assert stop_cause({"op": "ok", "stop": "x", "cause": "solar flare"}) is None
