"""The recorder, the single writer of an experiment's journal and trial records (no Spark):
what the driver hands over reaches disk in order, whole, and a failure to write ends the run."""

from __future__ import annotations

import array
import errno
import fcntl
import json
import logging
import os
import termios
import threading
import time

import pytest
from support.racing import race_then_kill

from sparkexp.journal import TrialProposed, TrialReported, TrialStarted
from sparkexp.runner.recorder import Recorder
from sparkexp.store import JOURNAL, TRIAL_RECORD, ExperimentStore
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(120)

HERE = os.path.dirname(os.path.abspath(__file__))
WRITER = os.path.join(os.path.dirname(HERE), "support", "recording_writer.py")


def _trial(i: int, **fields) -> Trial:
    return Trial(id=f"trial_{i:05d}", index=i, params={"x": i}, **fields)


def _record(store: ExperimentStore, trial_id: str) -> dict:
    with open(os.path.join(store.trial_dir(trial_id), TRIAL_RECORD)) as f:
        return json.load(f)


@pytest.fixture
def store(tmp_path):
    return ExperimentStore.create(str(tmp_path), "rec")


def test_events_reach_the_journal_in_submission_order_and_trials_their_records(store):
    recorder = Recorder(store)
    trials = [_trial(i) for i in range(3)]
    recorder.submit([TrialProposed(t.id, t.index, t.params, None, 1.0) for t in trials], [])
    trials[1].status = "running"
    recorder.submit([TrialStarted(trials[1].id, 2.0, host="h", slot=0)], [trials[1]])
    recorder.submit([TrialReported(trials[1].id, {"step": 1, "loss": 0.5})], [])
    recorder.close()
    assert [(e["e"], e["id"]) for e in store.read_events()] == [
        ("trial", "trial_00000"), ("trial", "trial_00001"), ("trial", "trial_00002"),
        ("start", "trial_00001"), ("report", "trial_00001")]
    # a reader folding the journal sees what the driver decided
    assert [(t.status, t.history) for t in store.load_trials()] == [
        ("queued", []), ("running", [{"step": 1, "loss": 0.5}]), ("queued", [])]
    assert _record(store, "trial_00001")["status"] == "running"
    assert not os.path.exists(store.trial_dir("trial_00000"))  # no record was handed over


def test_a_trial_is_recorded_as_it_was_when_handed_over(store):
    recorder = Recorder(store)
    trial = _trial(0, status="running", outputs={"loss": 1.0})
    recorder.submit([], [trial])
    trial.status = "complete"  # the driver goes on changing it without handing it over again
    trial.outputs["loss"] = 0.0
    recorder.flush()
    assert _record(store, trial.id)["status"] == "running"
    assert _record(store, trial.id)["outputs"] == {"loss": 1.0}
    recorder.submit([], [trial])
    recorder.close()
    assert _record(store, trial.id)["status"] == "complete"


def test_staged_work_is_written_at_commit_and_what_queued_in_one_batch(store):
    written: list[list[dict]] = []
    release = threading.Event()

    def listener(events):  # a live tracker, slow to answer: the driver does not wait for it
        written.append(events)
        release.wait(30)

    recorder = Recorder(store, listener)
    recorder.stage([TrialProposed("trial_00000", 0, {}, None, 1.0)], [])
    recorder.stage([], [_trial(0, status="queued")])
    recorder.flush(5)
    assert not store.fs.exists(store.fs.join(store.path, JOURNAL))  # staged only
    recorder.commit()
    deadline = time.monotonic() + 30
    while not written:  # the recorder wrote the first batch and is inside the listener
        assert time.monotonic() < deadline, "the first batch never reached the listener"
        time.sleep(0.01)
    # while the listener holds the recorder, the driver goes on submitting (big reports,
    # slow to write)
    for step in range(1, 5):
        recorder.submit([TrialReported("trial_00000", {"step": step, "log": "x" * (4 << 20)})], [])
    recorder.commit()  # nothing staged: nothing submitted
    release.set()
    recorder.flush(30)  # returns once everything submitted so far is on disk
    assert [e.get("r", {}).get("step") for e in store.read_events()] == [None, 1, 2, 3, 4]
    recorder.close()
    # the first commit was one batch; the four reports queued meanwhile were written together
    assert [[e["e"] for e in batch] for batch in written] == [["trial"], ["report"] * 4]
    assert _record(store, "trial_00000")["status"] == "queued"


def test_a_failing_listener_is_logged_and_never_fails_the_experiment(store, caplog):
    def listener(events):
        raise ConnectionError("tracking server went away")

    recorder = Recorder(store, listener)
    with caplog.at_level(logging.WARNING, logger="sparkexp"):
        recorder.submit([TrialProposed("trial_00000", 0, {}, None, 1.0)], [_trial(0)])
        recorder.flush(10)
        recorder.submit([TrialStarted("trial_00000", 2.0)], [])
        recorder.close()
    assert [e["e"] for e in store.read_events()] == ["trial", "start"]
    failures = [r for r in caplog.records if r.getMessage() == "sparkexp: event listener failed"]
    assert len(failures) == 2 and "tracking server went away" in caplog.text


def test_a_full_disk_ends_the_experiment_at_the_drivers_next_call(store):
    """The journal's disk fills up mid-run (the journal's path now leads to /dev/full)."""
    seen: list[list[dict]] = []
    recorder = Recorder(store, seen.append)
    recorder.submit([TrialProposed("trial_00000", 0, {}, None, 1.0)], [])
    recorder.flush(10)
    journal = store.fs.join(store.path, JOURNAL)
    os.replace(journal, journal + ".kept")
    os.symlink("/dev/full", journal)
    recorder.submit([TrialStarted("trial_00000", 2.0)], [_trial(0, status="running")])
    with pytest.raises(OSError) as info:
        recorder.flush(10)
    assert info.value.errno == errno.ENOSPC
    # nothing after the failed write is recorded, and every later call of the driver raises
    assert not os.path.exists(store.trial_dir("trial_00000"))
    with pytest.raises(OSError):
        recorder.submit([TrialReported("trial_00000", {"step": 1})], [])
    with pytest.raises(OSError):
        recorder.close()
    assert [[e["e"] for e in batch] for batch in seen] == [["trial"]]  # the tracker saw no more


def _pipe_bytes(fd: int) -> int:
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def test_nothing_queued_behind_a_failed_write_is_written(store):
    """No hole in the journal: what the driver had queued when a write failed is dropped,
    not written after it. The journal's path turns into a pipe, which cannot be fsynced."""
    recorder = Recorder(store)
    recorder.submit([TrialProposed("trial_00000", 0, {}, None, 1.0)], [])
    recorder.flush(10)
    journal = store.fs.join(store.path, JOURNAL)
    os.replace(journal, journal + ".kept")
    os.mkfifo(journal)
    reader = os.open(journal, os.O_RDONLY | os.O_NONBLOCK)
    try:
        capacity = fcntl.fcntl(reader, fcntl.F_GETPIPE_SZ)
        big = TrialReported("trial_00000", {"step": 1, "log": "a" * (2 * capacity)})
        recorder.submit([big], [])
        expected = len(json.dumps(big.to_json(), separators=(",", ":"))) + 1
        deadline = time.monotonic() + 30
        while _pipe_bytes(reader) < capacity:
            assert time.monotonic() < deadline, "the recorder never wrote to the journal"
            time.sleep(0.001)  # until the pipe is full: the recorder is inside that write
        recorder.submit([TrialReported("trial_00000", {"step": 2})], [])  # queued behind it
        received = b""
        while len(received) < expected:
            assert time.monotonic() < deadline, "the recorder stopped writing the report"
            try:
                received += os.read(reader, 1 << 20)
            except BlockingIOError:
                time.sleep(0.001)
        assert json.loads(received)["r"]["step"] == 1  # written whole, then its fsync failed
        with pytest.raises(OSError) as info:
            recorder.flush(30)
        assert info.value.errno == errno.EINVAL
        assert os.read(reader, 1 << 20) == b""  # step 2 never followed (and no writer is left)
    finally:
        os.close(reader)


def test_a_trial_directory_that_cannot_be_made_fails_the_write(store):
    with open(store.trial_dir("trial_00000"), "w") as f:  # a file where the directory goes
        f.write("in the way")
    recorder = Recorder(store)
    recorder.submit([TrialProposed("trial_00000", 0, {}, None, 1.0)], [_trial(0)])
    with pytest.raises(FileExistsError):
        recorder.flush(10)
    with pytest.raises(FileExistsError):
        recorder.close()


def _whole_version(record: dict, size: int) -> int:
    blob = record["outputs"]["blob"]
    version = record["outputs"]["version"]
    assert blob == str(version % 10) * size
    return version


def test_a_driver_killed_mid_write_leaves_whole_records(store):
    """A real recorder in its own process writes 2 MB records as fast as it can while this
    test reads them; it is SIGKILLed three times and resumed: no reader ever sees half a
    record, and the journal holds whole reports in order."""
    size = 2 << 20
    record_path = os.path.join(store.trial_dir("trial_00000"), TRIAL_RECORD)
    versions = []

    def reader() -> None:  # a reader (report, dashboard) racing the writer
        with open(record_path) as f:
            _whole_version(json.load(f), size)

    for round_ in range(3):
        race_then_kill([WRITER, store.path, str(size)], check=reader, seconds=0.4 + 0.15 * round_)
        versions.append(_whole_version(_record(store, "trial_00000"), size))
    # each round's writer started from version 0 again and wrote on until killed
    assert all(v >= 1 for v in versions), versions
    leftovers = [n for n in os.listdir(store.trial_dir("trial_00000")) if n != TRIAL_RECORD]
    assert all(n.startswith(".tmp-") for n in leftovers), leftovers
    # the journal: whole reports only, each round's steps 0, 1, 2 ... in order
    events = list(store.read_events())
    reports = [e["r"] for e in events if e["e"] == "report"]
    assert all(r["blob"] == str(r["step"] % 10) * (size // 4) for r in reports)
    rounds = [i for i, r in enumerate(reports) if r["step"] == 0]
    assert len(rounds) == 3 and rounds[0] == 0
    for start, end in zip(rounds, [*rounds[1:], len(reports)]):
        assert [r["step"] for r in reports[start:end]] == list(range(end - start))
    # a resumed driver's recorder appends after whatever a kill tore
    recorder = Recorder(ExperimentStore(store.path))
    recorder.submit([TrialStarted("trial_00000", 9.0, attempt=2)], [])
    recorder.close()
    assert list(store.read_events())[-1] == {"e": "start", "id": "trial_00000", "t": 9.0,
                                             "host": None, "executor": None, "slot": None,
                                             "task": None, "attempt": 2}
