"""LocalFileSystem: atomic replace under SIGKILL, appends and torn journal lines."""

from __future__ import annotations

import textwrap

import pytest
from support.racing import race_then_kill

from sparkexp.fs import LocalFileSystem, filesystem_for
from sparkexp.store import JOURNAL, ExperimentStore

pytestmark = pytest.mark.timeout(60)

SIZE = 4 << 20

_WRITER = textwrap.dedent(
    """
    import sys
    from sparkexp.fs import LocalFileSystem
    fs = LocalFileSystem()
    target, size = sys.argv[1], int(sys.argv[2])
    i = 0
    while True:
        fs.write_bytes(target, bytes([67 + i % 20]) * size)
        if i == 0:
            print("started", flush=True)
        i += 1
    """
)


def _whole(data: bytes) -> bool:
    return len(data) == SIZE and data == data[:1] * SIZE


def test_write_bytes_survives_sigkill_mid_write(tmp_path):
    target = tmp_path / "experiment.json"
    LocalFileSystem().write_bytes(str(target), b"A" * SIZE)
    fs = LocalFileSystem()

    def reader() -> None:  # racing the writer
        assert _whole(fs.read_bytes(str(target)))

    for round_ in range(3):
        race_then_kill(["-c", _WRITER, str(target), str(SIZE)], check=reader,
                       seconds=0.3 + 0.1 * round_)
        # the killed writer left the previous complete version, never a mix
        assert _whole(target.read_bytes())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != target.name]
    assert all(name.startswith(".tmp-") for name in leftovers)  # only orphaned temp files


def test_a_write_in_place_would_be_caught_by_the_reader_check(tmp_path):
    """The check above can fail: a half-written file is not "whole"."""
    path = tmp_path / "f"
    with open(path, "wb") as f:
        f.write(b"C" * (SIZE // 2))
        f.flush()
        assert not _whole(path.read_bytes())


def test_write_read_replace_and_mkdir_exclusive(tmp_path):
    fs = filesystem_for(str(tmp_path))
    p = fs.join(str(tmp_path), "a.json")
    fs.write_text(p, "{}")
    fs.write_text(p, '{"x": 1}')
    assert fs.read_text(p) == '{"x": 1}'
    assert fs.ls(str(tmp_path)) == ["a.json"]
    assert fs.mkdir_exclusive(fs.join(str(tmp_path), "run_1")) is True
    assert fs.mkdir_exclusive(fs.join(str(tmp_path), "run_1")) is False
    uri = "file://" + str(tmp_path / "b.txt")
    filesystem_for(uri).write_bytes(uri, b"via uri")
    assert (tmp_path / "b.txt").read_bytes() == b"via uri"


def test_append_then_torn_last_line_is_skipped_by_the_journal_reader(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "demo")
    store.append_events([{"e": "trial", "id": "trial_00000", "index": 0, "params": {"lr": 0.1}}])
    store.append_events([{"e": "start", "id": "trial_00000", "t": 1.0}, {"e": "note", "id": "x"}])
    journal = store.fs.join(store.path, JOURNAL)
    # a crash in the middle of an append leaves half a line
    store.fs.append(journal, b'{"e": "result", "id": "trial_00000", "tri')
    events = list(store.read_events())
    assert [e["e"] for e in events] == ["trial", "start", "note"]
    assert [t.status for t in store.load_trials()] == ["running"]
    with open(journal, "rb") as f:
        assert f.read().count(b"\n") == 3


def test_append_is_durable_and_creates_the_file(tmp_path):
    fs = LocalFileSystem()
    p = str(tmp_path / "j.jsonl")
    fs.append(p, b"1\n", sync=True)
    fs.append(p, b"2\n", sync=False)
    assert fs.read_bytes(p) == b"1\n2\n"
