"""Tailing an experiment's journal: remember the byte offset, fold only the new lines.

The dashboard polls every experiment about once a second; re-reading a 10,000-trial journal on
each poll would cost more than the page. :class:`JournalTail` keeps the offset of the first
byte it has not folded yet, reads from there (:meth:`~sparkexp.fs.FileSystem.read_from`),
parses the complete lines and folds them with the store's own fold
(:func:`sparkexp.store.replay_trials`, continued over the trials it already holds). An
incomplete last line (an append in progress, or torn by a crash) is left for the next poll.

This is the dashboard's only journal parser: when the journal's events and fold change, this
module is the one place to follow.

Example:
    >>> import tempfile
    >>> from sparkexp.store import ExperimentStore
    >>> store = ExperimentStore.create(tempfile.mkdtemp(), "demo")
    >>> store.append_events([{"e": "trial", "id": "trial_00000", "index": 0, "params": {"lr": 0.1}}])
    >>> tail = JournalTail(store)
    >>> sorted(tail.poll()), tail.trials["trial_00000"].status
    (['trial_00000'], 'queued')
    >>> tail.poll()
    set()
"""

from __future__ import annotations

import json
from typing import Any

from sparkexp.store import JOURNAL, ExperimentStore, replay_trials
from sparkexp.trial import Trial

__all__ = ["JournalTail"]


class JournalTail:
    """The trials of one experiment, kept up to date by reading only what the journal gained.

    Attributes:
        trials: Every trial as the journal last recorded it, by id.
        offset: Bytes of the journal folded so far.
        seq: Counts the polls that changed something; ``changed[id]`` is the ``seq`` of a
            trial's last change, so a client that saw ``seq`` n asks for the trials changed after n.
    """

    def __init__(self, store: ExperimentStore) -> None:
        self.fs = store.fs
        self.path = store.fs.join(store.path, JOURNAL)
        self.trials: dict[str, Trial] = {}
        self.offset = 0
        self.seq = 0
        self.changed: dict[str, int] = {}

    def poll(self) -> set[str]:
        """Fold the complete lines appended since the last poll; return the ids they touched."""
        try:
            data = self.fs.read_from(self.path, self.offset)
        except FileNotFoundError:
            return set()
        end = data.rfind(b"\n")
        if end < 0:
            return set()
        self.offset += end + 1
        events = _parse(data[:end])
        touched: set[str] = set()
        for event in events:
            tid = event.get("id")
            if isinstance(tid, str):
                touched.add(tid)
            rerun = event.get("rerun")
            if isinstance(rerun, list):
                touched.update(r for r in rerun if isinstance(r, str))
        replay_trials(events, self.trials)
        touched &= self.trials.keys()
        if touched:
            self.seq += 1
            for tid in touched:
                self.changed[tid] = self.seq
        return touched

    def changed_since(self, seq: int) -> list[Trial]:
        """Trials changed after poll number ``seq`` (all of them for 0), in index order."""
        if seq <= 0:
            chosen = list(self.trials.values())
        else:
            chosen = [self.trials[t] for t, s in self.changed.items() if s > seq]
        return sorted(chosen, key=lambda t: t.index)


def _parse(chunk: bytes) -> list[dict[str, Any]]:
    """The events of complete journal lines; a torn or corrupt line is skipped.

    All lines are parsed in one ``json.loads`` (a 10,000-trial journal has ~80,000 lines, and
    one call per line costs several times more); only when that fails are they parsed one by
    one to find the bad ones.
    """
    text = chunk.decode("utf-8", errors="replace")
    lines = [line for line in text.split("\n") if line.strip()]
    try:
        parsed = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                continue  # a line torn by a crash mid-append
    return [e for e in parsed if isinstance(e, dict)]
