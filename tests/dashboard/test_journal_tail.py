"""JournalTail: reads only what the journal gained, leaves an incomplete line for later."""

from __future__ import annotations

import os

from sparkexp.dashboard._journal import JournalTail
from sparkexp.store import ExperimentStore, replay_trials


def _trial(i: int) -> dict:
    return {"e": "trial", "id": f"trial_{i:05d}", "index": i, "params": {"x": i}}


def test_each_poll_folds_only_the_new_lines(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "t")
    journal = os.path.join(store.path, "journal.jsonl")
    tail = JournalTail(store)
    assert tail.poll() == set() and tail.offset == 0  # no journal yet
    store.append_events([_trial(0), _trial(1)])
    assert tail.poll() == {"trial_00000", "trial_00001"} and tail.seq == 1
    size = os.path.getsize(journal)
    assert tail.offset == size
    store.append_events([{"e": "start", "id": "trial_00001", "t": 5.0, "host": "h", "slot": 0}])
    assert tail.poll() == {"trial_00001"} and tail.seq == 2
    assert tail.trials["trial_00001"].status == "running" and tail.trials["trial_00000"].status == "queued"
    assert [t.id for t in tail.changed_since(1)] == ["trial_00001"]
    assert [t.id for t in tail.changed_since(0)] == ["trial_00000", "trial_00001"]
    # nothing new: nothing read beyond the offset, nothing changed
    assert tail.poll() == set() and tail.seq == 2


def test_an_incomplete_last_line_waits_and_a_torn_one_is_skipped(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "t")
    journal = os.path.join(store.path, "journal.jsonl")
    store.append_events([_trial(0)])
    tail = JournalTail(store)
    tail.poll()
    with open(journal, "ab") as f:
        f.write(b'{"e": "trial", "id": "trial_00001", "ind')  # an append in progress
    before = tail.offset
    assert tail.poll() == set() and tail.offset == before
    with open(journal, "ab") as f:
        f.write(b'ex": 1, "params": {}}\n')
    assert tail.poll() == {"trial_00001"}
    # a crash tore a line; the next writer ends it with a newline and goes on
    with open(journal, "ab") as f:
        f.write(b'{"e": "start", "id": "trial_0')
    fresh = ExperimentStore(store.path)
    fresh.append_events([_trial(2)])
    assert tail.poll() == {"trial_00002"}
    # the same trials as the store's own reader
    assert {k: v.status for k, v in tail.trials.items()} == \
        {k: v.status for k, v in replay_trials(store.read_events()).items()}


def test_a_resume_reruns_trials_and_clears_their_reports(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "t")
    store.append_events([_trial(0), {"e": "report", "id": "trial_00000", "r": {"step": 0, "loss": 1.0}}])
    tail = JournalTail(store)
    tail.poll()
    assert len(tail.trials["trial_00000"].history) == 1
    store.append_events([{"e": "resume", "t": 1.0, "rerun": ["trial_00000"]}])
    assert tail.poll() == {"trial_00000"}
    assert tail.trials["trial_00000"].history == [] and tail.trials["trial_00000"].status == "queued"
