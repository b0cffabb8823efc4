"""Pausing one trial (``sparkexp pause``) and queueing it again (``sparkexp resume --trial``).

Pure Python, owned by :class:`~sparkexp.runner.scheduler.Scheduler`: a running trial asked to
pause is stopped like any other and recorded ``paused`` when it ends (it continues later from
its latest checkpoint); a queued one is paused at once; a paused one is queued again first in
line. The scheduler stops the trial and hands out work; this class decides and keeps the
trials asked to pause.

Example:
    >>> import collections
    >>> from sparkexp.trial import Trial
    >>> class Book:
    ...     def pause(self, trial): trial.status = "paused"
    ...     def unpause(self, trial): trial.status = "queued"
    >>> trial = Trial(id="trial_00001", index=1, params={}, status="queued")
    >>> pending = collections.deque([trial])
    >>> pauses = Pausing(Book(), pending)
    >>> pauses.control("pause", trial, running=False, ending=False, where="exp")
    ({'op': 'ok', 'state': 'paused'}, None)
    >>> pauses.control("resume", trial, running=False, ending=False, where="exp")
    ({'op': 'ok', 'state': 'queued'}, 'dispatch')
    >>> list(pending) == [trial]
    True
"""

from __future__ import annotations

import collections
from typing import Any

from sparkexp.status import TrialStatus
from sparkexp.trial import Trial

__all__ = ["Pausing"]


class Pausing:
    """The pause requests of one experiment.

    Args:
        book: Records a trial paused or queued again (``pause``, ``unpause``).
        pending: The scheduler's queue of trials waiting for a slot.
    """

    def __init__(self, book: Any, pending: collections.deque[Trial]) -> None:
        self.book = book
        self.pending = pending
        #: running trials asked to pause, recorded ``paused`` when they end
        self.requested: set[str] = set()

    def control(self, op: str, trial: Trial, *, running: bool, ending: bool,
                where: str) -> tuple[dict[str, Any], str | None]:
        """Answer ``pause``/``resume`` for ``trial``: the control connection's reply and what
        the scheduler does next: ``"stop"`` the running trial, ``"dispatch"`` (it was queued
        again), or None."""
        tid = trial.id
        if op == "pause":
            if trial.status == TrialStatus.RUNNING and running:
                self.requested.add(tid)
                return {"op": "ok", "state": "pausing"}, "stop"
            if trial.status == TrialStatus.QUEUED and trial in self.pending:
                self.pending.remove(trial)
                self.book.pause(trial)
                return {"op": "ok", "state": "paused"}, None
            if trial.status == TrialStatus.RUNNING:  # handed out, its slot not yet running it
                return {"op": "error", "error": f"{tid} is starting on a slot; pause it again in a moment"}, None
            return {"op": "error", "error": f"{tid} is {trial.status}, not running or queued"}, None
        if trial.status != TrialStatus.PAUSED:
            return {"op": "error", "error": f"{tid} is {trial.status}, not paused"}, None
        if ending:
            return {"op": "error", "error": f"{where} is ending; resume it later with sparkexp resume PATH"}, None
        self.book.unpause(trial)
        self.pending.appendleft(trial)
        return {"op": "ok", "state": "queued"}, "dispatch"

    def settle(self, trial: Trial, *, stopped: bool) -> bool:
        """``trial`` ended (``stopped``: it was stopped, or lost while being stopped); if it was
        asked to pause, record it ``paused`` and return True."""
        if trial.id not in self.requested or not stopped:
            return False
        self.requested.discard(trial.id)
        self.book.pause(trial)
        return True
