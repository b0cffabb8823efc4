"""The experiment store on a local project root (no Spark): run directories, the journal as
readers meet it mid-write and after a crash, records, and the control file.

Atomic replacement under SIGKILL: tests/fs/test_local.py and tests/runner/test_recorder.py;
a journal tailed as it grows: tests/dashboard/test_journal_tail.py; HDFS and WebHDFS roots:
tests/fs/.
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading

import numpy as np
import pytest
from support.racing import race_then_kill

from sparkexp.errors import ConfigError, StorageError
from sparkexp.store import (
    EXPERIMENTS_DIR,
    JOURNAL,
    MANIFEST,
    TRIAL_RECORD,
    ExperimentStore,
    json_safe,
    sanitize_name,
)
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(120)

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support", "journal_writer.py")


def _events(n: int) -> list[dict]:
    """A small journal: trials proposed, started, reporting (non-ASCII values included)."""
    out: list[dict] = []
    for i in range(n):
        tid = f"trial_{i:05d}"
        out += [{"e": "trial", "id": tid, "index": i, "params": {"model": "réseau-模型", "lr": 0.1 * i}},
                {"e": "start", "id": tid, "t": 1.0 + i, "host": "h", "slot": 0},
                {"e": "report", "id": tid, "r": {"step": 1, "loss": 1.0 / (i + 1)}}]
    return out


# -- run directories -------------------------------------------------------------------------


def test_each_run_of_a_name_gets_the_next_number_and_names_never_mix(tmp_path):
    root = str(tmp_path)
    paths = [ExperimentStore.create(root, "mnist").path for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["mnist_1", "mnist_2", "mnist_3"]
    os.mkdir(os.path.join(root, EXPERIMENTS_DIR, "mnist_9"))  # a run made elsewhere
    os.mkdir(os.path.join(root, EXPERIMENTS_DIR, "mnist_cnn_40"))  # another name
    assert os.path.basename(ExperimentStore.create(root, "mnist").path) == "mnist_10"
    assert os.path.basename(ExperimentStore.create(root, "mnist_cnn").path) == "mnist_cnn_41"
    assert os.path.basename(ExperimentStore.create(root, "my exp/1").path) == "my-exp-1_1"


def test_concurrent_creators_never_share_a_directory(tmp_path):
    """Notebooks starting experiments of one name at the same moment."""
    start = threading.Barrier(8)
    made: list[str] = []

    def create() -> None:
        start.wait()
        made.append(ExperimentStore.create(str(tmp_path), "sweep").path)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(os.path.basename(p) for p in made) == sorted(f"sweep_{i}" for i in range(1, 9))


def test_experiments_lists_runs_with_a_manifest_by_name_then_run_number(tmp_path):
    root = str(tmp_path)
    assert ExperimentStore.experiments(root) == []  # no Experiments directory yet
    stores = {}
    for name in ["b", "a", "b", "a"] + ["a"] * 8:
        store = ExperimentStore.create(root, name)
        store.write_manifest({"name": name})
        stores[os.path.basename(store.path)] = store
    ExperimentStore.create(root, "a")  # a run still starting: no manifest yet
    listed = [os.path.basename(p) for p in ExperimentStore.experiments(root)]
    assert listed == [f"a_{i}" for i in range(1, 11)] + ["b_1", "b_2"]  # a_10 after a_9


def test_a_directory_without_a_manifest_is_not_an_experiment(tmp_path):
    store = ExperimentStore(str(tmp_path))
    with pytest.raises(StorageError) as info:
        store.read_manifest()
    assert str(info.value) == f"{str(tmp_path)!r} is not a sparkexp experiment (no {MANIFEST})"


def test_a_root_that_cannot_hold_experiments_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match=r"cannot create experiments directory '.*file/Experiments'"):
        ExperimentStore.create(str(tmp_path / "file"), "x")


@pytest.mark.parametrize("name, expected", [
    ("mnist", "mnist"), ("my exp", "my-exp"), ("../../etc/passwd", "etc-passwd"),
    ("a//b\\c", "a-b-c"), ("v1.2_final-run", "v1.2_final-run"), ("x" * 300, "x" * 120),
    ("...lr=0.1...", "lr-0.1"), ("résumé", "r-sum"),
])
def test_names_become_safe_directory_names(name, expected):
    assert sanitize_name(name) == expected


@pytest.mark.parametrize("name", ["", "...", "../..", "☃"])
def test_names_without_usable_characters_are_refused(name):
    with pytest.raises(ConfigError) as info:
        sanitize_name(name)
    assert str(info.value) == (f"experiment name {name!r} has no usable characters "
                               "(use letters, digits, ._-)")


# -- records ---------------------------------------------------------------------------------


def test_records_hold_json_whatever_the_trial_returned(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "r")
    trial = Trial(id="trial_00003", index=3, params={"lr": np.float32(0.5), "layers": (64, 32)},
                  status="complete", metric=float("nan"),
                  outputs={"acc": np.float64(0.9), "hist": np.arange(3), "best": float("inf"),
                           1: "int key", ("a", 2): "tuple key", "obj": ValueError("boom")})
    store.write_trial(trial)
    with open(os.path.join(store.trial_dir("trial_00003"), TRIAL_RECORD)) as f:
        record = json.load(f)  # strict JSON: no NaN or Infinity tokens
    assert record["params"] == {"lr": 0.5, "layers": [64, 32]}
    assert record["metric"] == "nan"
    assert record["outputs"] == {"acc": 0.9, "hist": [0, 1, 2], "best": "inf", "1": "int key",
                                 "('a', 2)": "tuple key", "obj": "ValueError('boom')"}
    store.write_trial({**Trial(id="trial_00003", index=3, params={}).to_dict(), "status": "error"})
    with open(os.path.join(store.trial_dir("trial_00003"), TRIAL_RECORD)) as f:
        assert json.load(f)["status"] == "error"  # replaced, from a trial's dict as well


def test_json_safe_keeps_plain_values_and_converts_the_rest():
    plain = {"a": [1, 2.5, "x", None, True], "b": {"c": -0.0}}
    assert json_safe(plain) == plain
    assert json_safe({"x": (np.int64(2), np.bool_(True), -math.inf)}) == {"x": [2, True, "-inf"]}
    assert json.dumps(json_safe(np.array([[1.5, np.nan]]))) == '[[1.5, "nan"]]'


def test_the_manifest_is_written_whole_and_read_back(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "m")
    store.write_manifest({"name": "m", "seed": np.int64(7), "space": {"lr": (0.1, 1.0)}})
    store.write_manifest({"name": "m", "seed": np.int64(7), "state": "finished"})
    assert store.read_manifest() == {"name": "m", "seed": 7, "state": "finished"}
    assert os.listdir(store.path) == [MANIFEST]  # replaced, no temporary file left


def test_the_control_endpoint_is_private_and_absent_when_unreadable(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "c")
    assert store.read_control() is None
    store.write_control({"host": "127.0.0.1", "port": 4040, "token": "s3cret"})
    path = os.path.join(store.path, "control.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # the token is the owner's only
    assert store.read_control() == {"host": "127.0.0.1", "port": 4040, "token": "s3cret"}
    with open(path, "w") as f:
        f.write('{"host": "127.0.0.1", "po')  # a control file some other writer tore
    assert store.read_control() is None
    store.remove_control()
    store.remove_control()  # a driver ending twice (finally blocks) is fine
    assert store.read_control() is None and not os.path.exists(path)


# -- the journal -----------------------------------------------------------------------------


def test_the_journal_reads_back_what_was_appended_and_folds_into_trials(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "j")
    assert list(store.read_events()) == [] and store.load_trials() == []
    store.append_events([])  # nothing to append: no journal yet
    assert not os.path.exists(os.path.join(store.path, JOURNAL))
    events = _events(3)
    # the search proposed trial 2 before 0 and 1 (a warm start, say): trials come in index order
    store.append_events(events[6:], sync=False)
    store.append_events(events[:6])
    assert list(store.read_events()) == events[6:] + events[:6]
    trials = store.load_trials()
    assert [(t.index, t.status, t.params["model"]) for t in trials] == \
        [(i, "running", "réseau-模型") for i in range(3)]


def test_every_crash_point_of_an_append_leaves_the_whole_events_readable(tmp_path):
    """Cut the journal at every byte of its last append, as a crash can: readers get exactly
    the events written whole, and the next driver's appends follow them."""
    store = ExperimentStore.create(str(tmp_path), "j")
    events = _events(2)
    store.append_events(events[:3])
    path = os.path.join(store.path, JOURNAL)
    with open(path, "rb") as f:
        kept = f.read()
    store.append_events(events[3:])  # the append the crash interrupts
    with open(path, "rb") as f:
        full = f.read()
    lines = full[len(kept):].splitlines(keepends=True)
    for cut in range(len(kept), len(full) + 1):
        data = full[:cut]
        with open(path, "wb") as f:
            f.write(data)
        # whole lines, and a last line cut just before its newline, are whole events
        written = len(kept)
        whole = list(events[:3])
        for line, event in zip(lines, events[3:]):
            if cut - written >= len(line) - 1:
                whole.append(event)
            written += len(line)
        assert list(store.read_events()) == whole, cut
        if cut in (len(kept) + 1, len(kept) + len(lines[0]) // 2, len(full) - 1):
            resumed = ExperimentStore(store.path)  # the next driver appends after the tear
            resumed.append_events([{"e": "resume", "t": 5.0, "rerun": [], "retry": []}])
            assert list(resumed.read_events()) == whole + [
                {"e": "resume", "t": 5.0, "rerun": [], "retry": []}], cut


def test_lines_that_are_not_events_are_skipped(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "j")
    events = _events(1)
    with open(os.path.join(store.path, JOURNAL), "wb") as f:
        f.write(b"\n".join([json.dumps(events[0]).encode(), b"", b"   ", b"[1, 2]", b'"text"',
                            b"\xff\xfe{", json.dumps(events[1]).encode(), b""]))
    assert list(store.read_events()) == events[:2]


def test_a_reader_racing_a_driver_killed_mid_append_sees_only_whole_events(tmp_path):
    """A real writer appends 1 MB events as fast as it can while this test reads the
    journal; it is killed and resumed three times. Every read yields whole events only, and
    each run's reports follow one another with none lost to a torn line."""
    store = ExperimentStore.create(str(tmp_path), "j")
    size = 1 << 20

    def reader() -> None:
        for event in store.read_events():
            step = event["r"]["step"]
            assert event["r"]["blob"] == str(step % 10) * size

    for _ in range(3):
        race_then_kill([WRITER, store.path, str(size)], check=reader, seconds=0.25)
    steps = [e["r"]["step"] for e in store.read_events()]
    runs = [i for i, s in enumerate(steps) if s == 0]
    assert len(runs) == 3 and runs[0] == 0
    for start, end in zip(runs, [*runs[1:], len(steps)]):
        assert steps[start:end] == list(range(end - start))
