"""The channel's messages as typed classes: what a slot's task and the driver say to each other.

Frames carry JSON objects (:mod:`sparkexp.runner.channel`); ``op`` names the kind. Each class
builds its frame with :meth:`to_wire`; :func:`parse_request` reads what a task sends.

A slot's task (worker) asks, the driver answers each request once::

    worker -> driver   {"op": "next", "result": {...} | null}          NextRequest
                       {"op": "report", "id": ..., "report": {...}}     ReportRequest
    driver -> worker   {"op": "trial", "id", "index", "params", "logdir", "attempt"[, "gpus"]}
                                                                        TrialAssignment
                       {"op": "stop"}                                   Stop (no more trials)
                       {"op": "ok", "stop": null | "<reason>"[, "cause": "<StopCause>"]}
                                                                        ReportAck
    driver -> worker, unasked, at any time:
                       {"op": "cancel", "id": ..., "reason": ..., "cause": "<StopCause>"}
                                                                        Cancel

A stop's ``cause`` is a :class:`~sparkexp.status.StopCause` value (``"trial timeout"``,
``"early stopping"``, ...): the task records the trial ``timeout`` or ``stopped`` from it
(:attr:`StopCause.status`), never from the reason's text, which is for people.

A control client (``sparkexp kill``) sends ``{"op": "kill"}`` or ``{"op": "ping"}`` and gets
``{"op": "ok", "state": ..., "running": n}`` (:class:`ControlReply`).

Example:
    >>> parse_request({"op": "report", "id": "trial_00001", "report": {"step": 1, "acc": 0.5}})
    ReportRequest(id='trial_00001', report={'step': 1, 'acc': 0.5})
    >>> Cancel("trial_00001", "timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT).to_wire()
    {'op': 'cancel', 'id': 'trial_00001', 'reason': 'timeout (trial over 5s)', 'cause': 'trial timeout'}
    >>> stop_cause({"op": "cancel", "cause": "experiment timeout"}).status
    'timeout'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparkexp.status import StopCause

__all__ = ["NextRequest", "ReportRequest", "CheckpointRequest", "TrialAssignment", "Stop", "ReportAck", "Cancel",
           "ControlReply", "Request", "Reply", "parse_request", "stop_cause", "STOP"]


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
    """The answer to a report; ``stop`` is a reason when the trial must stop now, ``cause``
    why (set with ``stop``)."""

    stop: str | None = None
    cause: StopCause | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"op": "ok", "stop": self.stop}
        if self.cause is not None:
            wire["cause"] = self.cause.value
        return wire


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the running trial ``id`` now (pushed, not a reply), for ``reason`` (for people) and
    ``cause`` (what the task records)."""

    id: str
    reason: str
    cause: StopCause

    def to_wire(self) -> dict[str, Any]:
        return {"op": "cancel", "id": self.id, "reason": self.reason, "cause": self.cause.value}


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


def stop_cause(message: dict[str, Any]) -> StopCause | None:
    """The :class:`~sparkexp.status.StopCause` of a ``cancel`` or a stopping ``ok`` frame, or
    None when it names none (or one this version does not know)."""
    try:
        return StopCause(message.get("cause"))
    except ValueError:
        return None
