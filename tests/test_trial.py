"""The trial record as users read it back and the runner copies it (no Spark)."""

from __future__ import annotations

import json

import pytest

from sparkexp.fs import LocalFileSystem
from sparkexp.trial import STATUSES, Trial, trial_id


def _trained(**fields) -> Trial:
    return Trial(id="trial_00007", index=7, params={"lr": 0.1}, status="complete", metric=0.91,
                 outputs={"accuracy": 0.91}, started=100.0, finished=142.5, gpus=["0"],
                 history=[{"step": s, "loss": 1 / s} for s in (1, 2, 3, 4)],
                 checkpoints=[{"step": 2, "path": "/c/2", "time": 1.0}], constraints=[-0.5],
                 **fields)


def test_ids_name_the_trials_directory_in_index_order():
    assert [trial_id(i) for i in (0, 42, 99_999)] == ["trial_00000", "trial_00042", "trial_99999"]
    assert sorted(trial_id(i) for i in (10, 9, 100)) == ["trial_00009", "trial_00010", "trial_00100"]


def test_a_record_round_trips_through_json_and_ignores_fields_it_does_not_know():
    trial = _trained()
    record = json.loads(json.dumps(trial.to_dict()))
    assert Trial.from_dict(record) == trial
    # a record written by a newer sparkexp, with a field this one does not have, still loads
    assert Trial.from_dict({**record, "energy_kwh": 0.2}) == trial
    assert set(record) == set(Trial.__dataclass_fields__)


def test_a_copied_record_is_the_state_at_copy_time():
    trial = _trained()
    record = trial.to_dict()
    trial.params["lr"] = 1.0  # the runner goes on changing the trial after handing it over
    trial.outputs["accuracy"] = 0.0
    trial.history.append({"step": 5, "loss": 0.1})
    trial.checkpoints.append({"step": 4})
    trial.gpus.append("1")
    assert trial.constraints is not None
    trial.constraints.append(2.0)
    assert record["params"] == {"lr": 0.1} and record["outputs"] == {"accuracy": 0.91}
    assert len(record["history"]) == 4 and len(record["checkpoints"]) == 1
    assert record["gpus"] == ["0"] and record["constraints"] == [-0.5]


def test_what_a_user_reads_from_a_trial():
    trial = _trained()
    assert trial.duration == 42.5 and trial.done and trial.feasible is True
    assert Trial(id="t", index=0, params={}, started=1.0).duration is None
    assert Trial(id="t", index=0, params={}, constraints=[0.0, 0.1]).feasible is False
    assert Trial(id="t", index=0, params={}, constraints=[0.0]).feasible is True  # at its bound
    assert Trial(id="t", index=0, params={}).feasible is None
    assert [Trial(id="t", index=0, params={}, status=s).done for s in STATUSES] == \
        [False, False, False, False, True, True, True, True]


def test_a_rerun_from_the_latest_checkpoint_keeps_the_reports_up_to_its_step():
    trial = _trained()
    assert [r["step"] for r in trial.history_until_checkpoint()] == [1, 2]
    trial.checkpoints.append({"step": 3, "path": "/c/3", "time": 2.0})
    assert [r["step"] for r in trial.history_until_checkpoint()] == [1, 2, 3]
    trial.history.append({"loss": 0.2})  # a report without a step is not kept
    assert [r.get("step") for r in trial.history_until_checkpoint()] == [1, 2, 3]
    trial.checkpoints = []  # no checkpoint: a run from scratch reports everything again
    assert trial.history_until_checkpoint() == []


@pytest.mark.parametrize("logdir", ["plain", "uri"])
def test_a_trials_output_is_read_from_its_folder(tmp_path, logdir):
    folder = tmp_path / "trial_00007"
    folder.mkdir()
    path = str(folder) if logdir == "plain" else "file://" + str(folder)
    trial = Trial(id="trial_00007", index=7, params={}, logdir=path)
    assert trial.stdout() == "" and trial.stderr() == ""  # nothing printed (yet)
    LocalFileSystem().write_text(str(folder / "stdout.log"), "epoch 1\nepoch 2\n")
    LocalFileSystem().write_text(str(folder / "stderr.log"), "Traceback (most recent call last):\n")
    assert trial.stdout() == "epoch 1\nepoch 2\n"
    assert trial.stderr().startswith("Traceback")
    assert Trial(id="t", index=0, params={}).stdout() == ""  # a trial that never got a folder
