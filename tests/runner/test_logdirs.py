"""A trial's local TensorBoard directory mirrored into its trial folder (no Spark): what each
copy touches, event files appended to in place, other files replaced, folders made, the last
copy at close, and ``finish`` never failing a trial.

With a real SummaryWriter, TensorBoard reading the copies, and WebHDFS roots:
tests/tensorboard/test_tensorboard.py.
"""

from __future__ import annotations

import logging
import os

import pytest

from sparkexp.runner.logdirs import LocalLogdir, finish

pytestmark = pytest.mark.timeout(60)

EVENTS = "events.out.tfevents.1700000000.host.1.0"


@pytest.fixture()
def mirrored(tmp_path):
    target = tmp_path / "trial_00000"
    target.mkdir()
    local = LocalLogdir(str(target), interval=3600)  # copies only when the test says so
    yield local, target
    if os.path.exists(local.path):
        local.close()


def write(path: str, data: bytes, mode: str = "wb") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def test_each_copy_touches_only_what_changed(mirrored):
    local, target = mirrored
    assert local.path != str(target) and os.path.isdir(local.path)
    assert local.sync() == 0
    write(os.path.join(local.path, EVENTS), b"record-1;")
    write(os.path.join(local.path, "train", "plugins", "profile.json"), b'{"a": 1}')
    assert local.sync() == 2
    assert (target / EVENTS).read_bytes() == b"record-1;"
    assert (target / "train" / "plugins" / "profile.json").read_bytes() == b'{"a": 1}'  # folders made
    assert local.sync() == 0  # nothing changed, nothing copied


def test_a_growing_event_file_is_appended_to_in_place(mirrored):
    local, target = mirrored
    events = os.path.join(local.path, "eval", EVENTS)
    write(events, b"record-1;")
    local.sync()
    copy = target / "eval" / EVENTS
    inode = copy.stat().st_ino
    write(events, b"record-2;", mode="ab")
    assert local.sync() == 1
    assert copy.read_bytes() == b"record-1;record-2;"
    assert copy.stat().st_ino == inode  # the same file: a reader keeps its offset


def test_an_event_file_written_anew_and_shorter_is_copied_whole(mirrored):
    local, target = mirrored
    events = os.path.join(local.path, EVENTS)
    write(events, b"a long first version;")
    local.sync()
    write(events, b"short;")
    assert local.sync() == 1
    assert (target / EVENTS).read_bytes() == b"short;"


def test_other_files_are_replaced_whole_when_they_change(mirrored):
    local, target = mirrored
    notes = os.path.join(local.path, "notes.txt")
    write(notes, b"first version, long")
    local.sync()
    write(notes, b"second")
    os.utime(notes, ns=(1, 1))  # a changed modification time is enough
    assert local.sync() == 1
    assert (target / "notes.txt").read_bytes() == b"second"


def test_close_makes_the_last_copy_and_removes_the_local_directory(mirrored):
    local, target = mirrored
    write(os.path.join(local.path, EVENTS), b"last words;")
    local.close()
    assert (target / EVENTS).read_bytes() == b"last words;"
    assert not os.path.exists(local.path)


def test_a_failing_last_copy_raises_and_keeps_the_local_directory(tmp_path):
    target = tmp_path / "trial_00000"
    target.mkdir()
    local = LocalLogdir(str(target), interval=3600)
    write(os.path.join(local.path, "sub", "notes.txt"), b"precious")
    (target / "sub").write_text("a file where a folder must go")
    with pytest.raises(OSError):
        local.close()
    assert os.path.exists(os.path.join(local.path, "sub", "notes.txt"))  # kept for inspection
    os.remove(target / "sub")
    local.close()
    assert (target / "sub" / "notes.txt").read_bytes() == b"precious"


def test_the_thread_copies_while_the_trial_runs(tmp_path):
    import time

    target = tmp_path / "trial_00000"
    target.mkdir()
    with LocalLogdir(str(target), interval=0.05) as local:
        write(os.path.join(local.path, EVENTS), b"record-1;")
        deadline = time.monotonic() + 10
        while not (target / EVENTS).exists():
            assert time.monotonic() < deadline, "not copied within 10 s"
            time.sleep(0.02)
        write(os.path.join(local.path, EVENTS), b"record-2;", mode="ab")
    assert (target / EVENTS).read_bytes() == b"record-1;record-2;"


def test_finish_without_a_status_only_makes_the_last_copy(mirrored):
    local, target = mirrored
    write(os.path.join(local.path, EVENTS), b"record;")
    finish(local.path, {"lr": 0.1}, {}, local=local)  # the worker is going down
    assert sorted(os.listdir(target)) == [EVENTS]
    assert not os.path.exists(local.path)


def test_finish_writes_hparams_then_copies_and_never_raises(mirrored, caplog):
    local, target = mirrored
    finish(local.path, {"lr": 0.1}, {"status": "complete", "outputs": {"metric": 0.9}}, step=3, local=local)
    assert len([n for n in os.listdir(target) if n.endswith(".~hparams")]) == 1  # its HParams session
    assert not os.path.exists(local.path)
    # a broken copy is a warning on the executor, never the trial's error
    broken = LocalLogdir(str(target), interval=3600)
    write(os.path.join(broken.path, "sub", "x.txt"), b"x")
    (target / "sub").write_text("a file where a folder must go")
    with caplog.at_level(logging.WARNING, logger="sparkexp"):
        finish(broken.path, {}, {}, local=broken)
    assert f"could not copy {broken.path} to {target} (kept there)" in caplog.text
    os.remove(target / "sub")
    broken.close()
