"""sparkexp's own event-file writer, read back by the real TensorBoard reader."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sparkexp.tensorboard import _events
from sparkexp.tensorboard._hparams import write_trial_hparams

#: the checkout whose sparkexp the subprocesses import
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_scalars_written_without_tensorboardx_are_read_by_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = str(tmp_path / "run")
    with _events.EventWriter(logdir, suffix=".reporter", create=True) as writer:
        for step in range(4):
            writer.write(_events.scalar_event("loss", 1.0 / (step + 1), step=step))
        writer.write(_events.scalar_event("loss", -2.5, step=-1))  # negative int64 step
    acc = EventAccumulator(logdir)
    acc.Reload()
    values = acc.Scalars("loss")
    assert [e.step for e in values] == [0, 1, 2, 3, -1]
    assert [round(e.value, 3) for e in values] == [1.0, 0.5, 0.333, 0.25, -2.5]


def test_crc32c_matches_tensorflows_checksum():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data = bytes(range(256)) * 3
    assert _events._masked_crc(data) == masked_crc32c(data).to_bytes(4, "little")


def test_hparams_written_without_tensorboardx_parse_as_tensorboards_protos(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    logdir = str(tmp_path / "trial_00000")
    write_trial_hparams(logdir, {"lr": 0.01, "opt": "adam", "bn": False, "layers": [8, 4]},
                        {"accuracy": 0.75, "model": "m.keras"}, status="error", step=3,
                        start_time=100.0, end_time=110.5)
    acc = EventAccumulator(logdir)
    acc.Reload()
    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    end = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_end_info"]).session_end_info
    assert start.hparams["lr"].number_value == 0.01
    assert start.hparams["opt"].string_value == "adam"
    assert start.hparams["bn"].HasField("bool_value") and start.hparams["bn"].bool_value is False
    assert start.hparams["layers"].string_value == "[8, 4]"
    assert start.hparams["trial_status"].string_value == "error"
    assert start.start_time_secs == 100.0
    assert (end.status, end.end_time_secs) == (api_pb2.STATUS_FAILURE, 110.5)
    (final,) = acc.Scalars("final/accuracy")
    assert (final.step, final.value) == (3, 0.75)


_RECORD_A_TRIAL = r"""
import json, os, sys, tempfile
from sparkexp import experiment, hdfs, reporter, tensorboard
from sparkexp.runner.worker import TaskSpec, run_trial
from sparkexp.fs._tbwriter import register_tensorboardx_schemes

def train(lr):
    reporter.log(step=1, accuracy=0.5)
    print(json.dumps({"step": 2, "accuracy": 0.6}))
    return {"accuracy": 0.7, "lr": lr}

root = tempfile.mkdtemp() + "/"
spec = TaskSpec(host="", port=0, secret="", fn=train, metric="accuracy", project_root=root,
                experiment_path=root + "Experiments/x_1", echo_output="tail")
register_tensorboardx_schemes(lazy=True)
trial = {"id": "trial_00000", "index": 0, "params": {"lr": 0.1},
         "logdir": root + "Experiments/x_1/trial_00000", "gpus": []}
result = run_trial(spec, trial, {"host": "h", "executor": "0", "pid": os.getpid()})
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "tensorflow", "keras", "tensorboardX"))
print(json.dumps({"status": result["status"], "heavy": heavy[:5],
                  "files": sorted(os.listdir(trial["logdir"]))}), file=sys.__stdout__)
"""


def test_recording_a_trial_imports_neither_torch_nor_tensorflow():
    pytest.importorskip("torch")  # the test means something only where torch is installed
    out = subprocess.run([sys.executable, "-c", _RECORD_A_TRIAL], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": REPO})
    assert out.returncode == 0, out.stderr
    import json

    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["status"] == "complete"
    assert report["heavy"] == []
    # and the trial was recorded: HParams, reported scalars, its stdout
    files = report["files"]
    assert any(f.endswith(".~hparams") for f in files)
    assert any(f.endswith(".reporter") for f in files)
    assert "stdout.log" in files


def test_tensorboardx_writes_hdfs_schemes_once_a_trial_imports_it():
    script = ("import sys\n"
              "from sparkexp.fs._tbwriter import register_tensorboardx_schemes\n"
              "register_tensorboardx_schemes(lazy=True)\n"
              "assert 'tensorboardX' not in sys.modules\n"
              "from tensorboardX import record_writer\n"
              "print(sorted(k for k in record_writer.REGISTERED_FACTORIES if 'hdfs' in k or k == 'viewfs'))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": REPO})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['hdfs', 'swebhdfs', 'viewfs', 'webhdfs']"
