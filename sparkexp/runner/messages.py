"""The channel's messages as typed classes: what a slot's task and the driver say to each other.

Frames carry JSON objects (:mod:`sparkexp.runner.channel`); ``op`` names the kind. Each class
builds its frame with :meth:`to_wire`; :func:`parse_request` reads what a task sends.

A slot's task (worker) asks, the driver answers each request once::

    worker -> driver   {"op": "next", "result": {...} | null}          NextRequest
                       {"op": "report", "id": ..., "report": {...}}     ReportRequest
    driver -> worker   {"op": "trial", "id", "index", "params", "logdir", "attempt"[, "gpus"]}
                                                                        TrialAssignment
                       {"op": "stop"}                                   Stop (no more trials)
                       {"op": "ok", "stop": null | "<reason>"}          ReportAck
    driver -> worker, unasked, at any time:
                       {"op": "cancel", "id": ..., "reason": ...}       Cancel

A control client (``sparkexp kill``) sends ``{"op": "kill"}`` or ``{"op": "ping"}`` and gets
``{"op": "ok", "state": ..., "running": n}`` (:class:`ControlReply`).

Example:
    >>> parse_request({"op": "report", "id": "trial_00001", "report": {"step": 1, "acc": 0.5}})
    ReportRequest(id='trial_00001', report={'step': 1, 'acc': 0.5})
    >>> Cancel("trial_00001", "timeout (trial over 5s)").to_wire()["op"]
    'cancel'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NextRequest", "ReportRequest", "CheckpointRequest", "TrialAssignment", "Stop", "ReportAck", "Cancel",
           "ControlReply", "Request", "Reply", "parse_request", "STOP"]


@dataclass(frozen=True, slots=True)
class NextRequest:
    """A free slot asks for a trial, handing in the result of its last one (None at first)."""

    result: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"op": "next", "result": self.result}


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A running trial's ``reporter.log``."""

    id: Any
    report: Any

    def to_wire(self) -> dict[str, Any]:
        return {"op": "report", "id": self.id, "report": self.report}


@dataclass(frozen=True, slots=True)
class TrialAssignment:
    """The trial a slot runs next; ``gpus`` only when the driver hands out GPUs (local mode)."""

    id: str
    index: int
    params: dict[str, Any]
    logdir: str | None
    attempt: int
    gpus: list[str] | None = None
    #: ``{"keep": n, "from": path | None}``: checkpoints kept, and another trial's to start from
    checkpoints: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        wire = {"op": "trial", "id": self.id, "index": self.index, "params": self.params,
                "logdir": self.logdir, "attempt": self.attempt}
        if self.gpus is not None:
            wire["gpus"] = self.gpus
        if self.checkpoints is not None:
            wire["checkpoints"] = self.checkpoints
        return wire


@dataclass(frozen=True, slots=True)
class Stop:
    """No more trials: the slot's task ends."""

    def to_wire(self) -> dict[str, Any]:
        return {"op": "stop"}


#: the one Stop (it has no fields)
STOP = Stop()


@dataclass(frozen=True, slots=True)
class ReportAck:
    """The answer to a report; ``stop`` is a reason when the trial must stop now."""

    stop: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"op": "ok", "stop": self.stop}


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the running trial ``id`` now (pushed, not a reply)."""

    id: str
    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"op": "cancel", "id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ControlReply:
    """The answer to a control client: the experiment's state and how many trials run."""

    state: str
    running: int

    def to_wire(self) -> dict[str, Any]:
        return {"op": "ok", "state": self.state, "running": self.running}


@dataclass(frozen=True, slots=True)
class CheckpointRequest:
    """A running trial wrote a checkpoint (``reporter.checkpoint``); answered with a ReportAck."""

    id: Any
    checkpoint: Any

    def to_wire(self) -> dict[str, Any]:
        return {"op": "checkpoint", "id": self.id, "checkpoint": self.checkpoint}


Request = NextRequest | ReportRequest | CheckpointRequest
Reply = TrialAssignment | Stop | ReportAck | ControlReply


def parse_request(message: dict[str, Any]) -> Request:
    """The typed request of a worker's frame (the server admits only ``next`` and ``report``).

    Raises:
        ValueError: another operation.
    """
    op = message.get("op")
    if op == "next":
        result = message.get("result")
        return NextRequest(result if isinstance(result, dict) else None)
    if op == "report":
        return ReportRequest(message.get("id"), message.get("report"))
    if op == "checkpoint":
        return CheckpointRequest(message.get("id"), message.get("checkpoint"))
    raise ValueError(f"not a worker request: {op!r}")
