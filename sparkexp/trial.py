"""The trial record: one evaluation of the training function at one point of the space.

A :class:`Trial` is what users read back (``result.trials``), what the store writes to
``trial.json`` and what the journal replays on resume. It is a plain dataclass that converts
to and from JSON-compatible dicts.

Example:
    >>> t = Trial(id="trial_00000", index=0, params={"lr": 0.1})
    >>> t.status
    'created'
    >>> t.history_until_checkpoint()
    []
    >>> Trial.from_dict(t.to_dict()) == t
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sparkexp.status import FINISHED, TrialStatus

__all__ = ["Trial", "TrialStatus", "STATUSES", "FINISHED_STATUSES", "trial_id", "feasible"]

#: Every status, in life order (the vocabulary lives in :mod:`sparkexp.status`).
STATUSES: tuple[str, ...] = tuple(TrialStatus)
#: Statuses after which a trial never runs again (:data:`sparkexp.status.FINISHED`).
FINISHED_STATUSES: frozenset[str] = frozenset(FINISHED)


def trial_id(index: int) -> str:
    """The id (and directory name) of the trial with this index: ``trial_00042``."""
    return f"trial_{index:05d}"


@dataclass
class Trial:
    """One evaluation of the training function.

    Attributes:
        id: Stable id, also the trial's directory name (``trial_00000``).
        index: Position in the order the search proposed trials.
        params: The hyperparameters passed to the function, by name.
        status: One of ``created, queued, running, paused, complete, error, stopped, timeout``
            (``paused``: stopped by ``sparkexp pause``, continues from its checkpoint when
            resumed).
        metric: The optimised number (``None`` when the trial did not complete).
        outputs: Everything the function returned, as a dict (a bare number becomes
            ``{"metric": value}``).
        error: Traceback text when the trial failed.
        logdir: The trial's own directory (also its TensorBoard logdir).
        started: Epoch seconds when the function was called.
        finished: Epoch seconds when it returned or failed.
        host: Host name of the executor that ran it.
        executor: Spark executor id that ran it.
        gpus: GPU addresses assigned to the trial.
        pid: Process id of the Python worker that ran it.
        slot: The trial slot that ran it; each slot is one single-task Spark job, described in
            the Spark UI as ``sparkexp experiment <name>: <function>() trials, slot <k>``.
        spark_task: Spark's task attempt id of that slot's task (the "Task ID" column of the
            Spark UI's stage page), so a trial can be found in the UI and in executor logs.
        attempt: 1 for the first run, higher when re-run (lost executor, retry).
        history: Intermediate reports (``reporter.log``), each a dict with ``step``.
        checkpoints: The trial's kept checkpoints, oldest first, each
            ``{"step", "path", "time"}`` (``reporter.checkpoint``; see ``docs/checkpoints.md``).
        restored: ``{"step", "path"}`` of the checkpoint its last run started from, if any.
        origin: Where a trial started from another trial's checkpoint (population based
            training): ``{"parent", "step", "checkpoint", "changed": {name: [old, new]}}``.
        constraints: Values of the experiment's constraints for this trial's outputs (each
            ``<= 0`` when satisfied); None without constraints or without outputs.
    """

    id: str
    index: int
    params: dict[str, Any]
    status: str = TrialStatus.CREATED
    metric: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    logdir: str | None = None
    started: float | None = None
    finished: float | None = None
    host: str | None = None
    executor: str | None = None
    gpus: list[str] = field(default_factory=list)
    pid: int | None = None
    slot: int | None = None
    spark_task: int | None = None
    attempt: int = 1
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    restored: dict[str, Any] | None = None
    origin: dict[str, Any] | None = None
    constraints: list[float] | None = None

    @property
    def feasible(self) -> bool | None:
        """False when a constraint is violated, True when all hold, None when not evaluated."""
        return feasible(self.constraints)

    @property
    def duration(self) -> float | None:
        """Seconds the function ran, when known."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def stdout(self) -> str:
        """Everything the trial wrote to standard output (its ``stdout.log``; "" if none).

        Example:
            >>> print(result.trials[3].stdout())          # doctest: +SKIP
        """
        return self._log("stdout.log")

    def stderr(self) -> str:
        """Everything the trial wrote to standard error, a failed trial's traceback included
        (its ``stderr.log``; "" if none)."""
        return self._log("stderr.log")

    def _log(self, name: str) -> str:
        if not self.logdir:
            return ""
        from sparkexp.fs import filesystem_for

        fs = filesystem_for(self.logdir)
        path = fs.join(self.logdir, name)
        return fs.read_text(path) if fs.exists(path) else ""

    @property
    def done(self) -> bool:
        """True once the trial reached a final status."""
        return self.status in FINISHED

    def history_until_checkpoint(self) -> list[dict[str, Any]]:
        """The reports a run from the trial's latest checkpoint keeps (those up to its step);
        none when it has no checkpoint (a run from scratch reports everything again)."""
        if not self.checkpoints:
            return []
        step = self.checkpoints[-1].get("step", -1)
        return [r for r in self.history if isinstance(r.get("step"), int) and r["step"] <= step]

    def to_dict(self) -> dict[str, Any]:
        """A dict of every field (containers copied one level deep; values as the trial holds
        them). Cheaper than ``dataclasses.asdict``, which deep-copies: this runs for every
        trial on the driver's dispatch path."""
        data = {name: getattr(self, name) for name in _FIELDS}
        data["params"] = dict(self.params)
        data["outputs"] = dict(self.outputs)
        data["gpus"] = list(self.gpus)
        data["history"] = list(self.history)
        data["checkpoints"] = list(self.checkpoints)
        if self.constraints is not None:
            data["constraints"] = list(self.constraints)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trial:
        """Rebuild a trial from :meth:`to_dict` output, ignoring unknown keys."""
        return cls(**{k: v for k, v in data.items() if k in _FIELD_SET})


_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Trial))
_FIELD_SET = frozenset(_FIELDS)


def feasible(constraints: Sequence[float] | None) -> bool | None:
    """Whether constraint values (each ``<= 0`` when satisfied) all hold; None without any.

    Example:
        >>> feasible([-1.0, 0.0]), feasible([0.5]), feasible(None)
        (True, False, None)
    """
    if constraints is None:
        return None
    return all(v <= 0 for v in constraints)
