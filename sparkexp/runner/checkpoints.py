"""The driver's side of trial checkpoints: records, what a trial starts from, pause, lineage.

Executors write checkpoints (:mod:`sparkexp.checkpoint`); this module keeps the driver's view
of them, apart from the loop in :mod:`sparkexp.runner.driver`, which calls it at a few points:

* a trial's ``checkpoint`` message becomes a journal event and an entry in ``trial.checkpoints``
  (the newest ``keep``, as on disk);
* the ``trial`` message sent to a slot says how many to keep and, for a trial that starts from
  another trial's state (population based training), which checkpoint;
* a strategy that needs checkpoints (``needs_checkpoints``) gets a clear error when a trial
  reports twice, or ends, without ever checkpointing, instead of silent restarts from scratch.

Example:
    >>> from sparkexp.trial import Trial
    >>> book = CheckpointBook(keep=2, required_by=None)
    >>> t = Trial(id="trial_00000", index=0, params={})
    >>> for step in (1, 2, 3):
    ...     event = book.record(t, {"step": step, "path": f"/x/ckpt_{step}", "time": 0.0})
    >>> [c["step"] for c in t.checkpoints], event.to_json()["e"]
    ([2, 3], 'checkpoint')
"""

from __future__ import annotations

import collections
from typing import Any

from sparkexp.checkpoint import DEFAULT_KEEP
from sparkexp.journal import TrialCheckpointed
from sparkexp.store import now
from sparkexp.trial import Trial

__all__ = ["CheckpointBook", "lineage"]


def lineage(parent: Trial | None, params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``origin`` of a trial that starts from ``parent``'s newest checkpoint with
    ``params`` (the hyperparameters that changed, old and new)."""
    if parent is None:
        return None
    latest = parent.checkpoints[-1] if parent.checkpoints else None
    changed = {k: [parent.params.get(k), v] for k, v in params.items() if parent.params.get(k) != v}
    return {"parent": parent.id, "step": None if latest is None else latest.get("step"),
            "checkpoint": None if latest is None else latest.get("path"), "changed": changed,
            "t": now()}


def _step(checkpoint: dict[str, Any]) -> int:
    step = checkpoint.get("step")
    return step if isinstance(step, int) else -1


class CheckpointBook:
    """The driver's record of checkpoints for one experiment.

    Args:
        keep: Checkpoints kept per trial (executors delete older ones).
        required_by: Name of the strategy that needs every trial to checkpoint, or None.
    """

    def __init__(self, *, keep: int = DEFAULT_KEEP, required_by: str | None = None) -> None:
        self.keep = keep
        self.required_by = required_by
        # per run of a trial: reports and checkpoints seen since it was dispatched
        self._reports: collections.Counter[str] = collections.Counter()
        self._saved: collections.Counter[str] = collections.Counter()

    def message(self, trial: Trial) -> dict[str, Any]:
        """The ``checkpoints`` part of the ``trial`` message a slot gets."""
        self._reports[trial.id] = 0
        self._saved[trial.id] = 0
        origin = trial.origin or {}
        return {"keep": self.keep, "from": origin.get("checkpoint")}

    def record(self, trial: Trial, checkpoint: dict[str, Any]) -> TrialCheckpointed:
        """Note a checkpoint the trial wrote; returns its journal event."""
        entry = {"step": checkpoint.get("step"), "path": checkpoint.get("path"),
                 "time": checkpoint.get("time")}
        self.replay(trial, entry)
        self._saved[trial.id] += 1
        return TrialCheckpointed(trial.id, entry)

    def replay(self, trial: Trial, entry: dict[str, Any]) -> None:
        """Apply a journalled checkpoint to the trial's record."""
        kept = [c for c in trial.checkpoints if c.get("step") != entry.get("step")]
        kept.append(entry)
        kept.sort(key=_step)
        trial.checkpoints = kept[-self.keep:]

    def missing(self, trial: Trial, *, ended: bool = False) -> str | None:
        """The error when the strategy needs checkpoints and this run of ``trial`` reported
        twice (or ended after reporting) without writing one; else None. Counts a report."""
        if not ended:
            self._reports[trial.id] += 1
        if self.required_by is None or self._saved[trial.id]:
            return None
        if self._reports[trial.id] >= 2 or (ended and self._reports[trial.id] >= 1):
            return (f"the '{self.required_by}' search continues trials from their checkpoints, but "
                    f"{trial.id} reported {self._reports[trial.id]} time(s) without calling "
                    "reporter.checkpoint(state): save the trial's state after each report "
                    "(and start with state = reporter.restore())")
        return None
