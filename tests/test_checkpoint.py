"""sparkexp.checkpoint on its own (no Spark): layout, atomicity, pruning, restore fallbacks."""

from __future__ import annotations

import os

import pytest

from sparkexp.checkpoint import TrialCheckpoints, latest, list_checkpoints
from sparkexp.errors import ConfigError


def test_only_complete_checkpoints_count_and_keep_prunes(tmp_path):
    trial = str(tmp_path / "trial_00000")
    book = TrialCheckpoints(trial, keep=2)
    seen = []
    book._notify = seen.append
    for step in (0, 5, 9):
        book.save({"step": step}, step=step)
    # a write that died half-way leaves only a hidden temporary folder: never listed
    os.makedirs(os.path.join(trial, "checkpoints", ".tmp-ckpt_000012-1-2"))
    assert [s for s, _ in list_checkpoints(trial)] == [5, 9]
    assert [r["step"] for r in seen] == [0, 5, 9] and book.saved == 3
    assert TrialCheckpoints(trial).restore() == {"step": 9}
    book.save({"step": 10}, step=10)  # the next save sweeps the dead write
    assert sorted(os.listdir(os.path.join(trial, "checkpoints"))) == ["ckpt_000009", "ckpt_000010"]


def test_callable_and_directory_checkpoints_restore_as_a_local_directory(tmp_path):
    trial = str(tmp_path / "t")
    book = TrialCheckpoints(trial)

    def write(directory):
        with open(os.path.join(directory, "weights.bin"), "wb") as f:
            f.write(b"\x01\x02")

    book.save(write, step=1)
    restored = TrialCheckpoints(trial)
    local = restored.restore()
    assert open(os.path.join(local, "weights.bin"), "rb").read() == b"\x01\x02"
    assert restored.restored == {"step": 1, "path": latest(trial)[1]}
    restored.cleanup()
    assert not os.path.exists(local)
    src = tmp_path / "model"
    src.mkdir()
    (src / "a.txt").write_text("hello")
    book.save(directory=str(src), step=2)
    assert open(os.path.join(TrialCheckpoints(trial).restore(), "a.txt")).read() == "hello"


def test_a_trial_starts_from_another_trials_checkpoint_or_its_newest(tmp_path):
    donor = str(tmp_path / "trial_00001")
    book = TrialCheckpoints(donor, keep=1)
    first = book.save({"w": 1}, step=3)
    child = TrialCheckpoints(str(tmp_path / "trial_00002"), start_from=first["path"])
    assert child.restore() == {"w": 1} and child.restored["step"] == 3
    book.save({"w": 2}, step=6)  # the donor moved on and pruned step 3
    child = TrialCheckpoints(str(tmp_path / "trial_00003"), start_from=first["path"])
    assert child.restore() == {"w": 2} and child.restored["step"] == 6
    child.save({"w": 3}, step=7)  # once it has its own, those win
    assert child.restore() == {"w": 3}
    assert TrialCheckpoints(str(tmp_path / "none")).restore() is None


@pytest.mark.parametrize("kwargs, match", [
    ({}, "needs the state"),
    ({"state": 1, "directory": "/tmp"}, "not both"),
    ({"directory": "/no/such/dir"}, "not a local directory"),
])
def test_bad_checkpoint_calls_are_clear_errors(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrialCheckpoints(str(tmp_path)).save(step=0, **kwargs)


def test_keep_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="keep_checkpoints must be a positive whole number"):
        TrialCheckpoints(str(tmp_path), keep=0)


@pytest.mark.parametrize("legacy", [False, True], ids=["rename2", "legacy-rename"])
def test_checkpoints_on_webhdfs(monkeypatch, legacy):
    """The same on a webhdfs:// project root (the suite's WebHDFS-protocol server): the folder
    is uploaded, renamed into place, pruned and read back through sparkexp.fs."""
    from support.webhdfs_server import WebHdfsTestServer

    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    with WebHdfsTestServer(legacy_rename=legacy, lifetime=120) as srv:
        trial = srv.uri("/Projects/p/Experiments/e_1/trial_00001")
        book = TrialCheckpoints(trial, keep=2)
        for step in (1, 2, 3):
            book.save({"w": step}, step=step)
        book.save({"w": 33}, step=3)  # the same step again (a re-run) replaces it
        assert [s for s, _ in list_checkpoints(trial)] == [2, 3]
        assert TrialCheckpoints(trial).restore() == {"w": 33}
        child = TrialCheckpoints(srv.uri("/Projects/p/Experiments/e_1/trial_00002"),
                                 start_from=f"{trial}/checkpoints/ckpt_000001")  # pruned: newest
        assert child.restore() == {"w": 33} and child.restored["step"] == 3
        assert not any(n.startswith(".tmp") for n in os.listdir(srv.local(
            "/Projects/p/Experiments/e_1/trial_00001/checkpoints")))
