"""TensorBoard as a user meets it: trial logdirs, HParams per trial, local_logdir, serving.

One experiment runs on the shared local[2] session and one real TensorBoard serves it for the
whole module; its runs and HParams are read back over TensorBoard's HTTP API.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from tensorboardX import SummaryWriter

from sparkexp import experiment, tensorboard
from sparkexp.errors import ConfigError
from sparkexp.runner.logdirs import LocalLogdir, finish

GRID = {"lr": [0.1, 0.01], "optimizer": ["adam", "sgd"], "nesterov": [True], "layers": [[64, 32]]}


def train(lr, optimizer, nesterov, layers, reporter):
    """Writes its own curve with tensorboardX and reports accuracy; sgd at lr 0.01 diverges."""
    writer = SummaryWriter(tensorboard.logdir())
    for step in range(3):
        loss = lr * (3 - step) + (0.5 if optimizer == "sgd" else 0.0)
        writer.add_scalar("loss", loss, step)
        reporter.log(step=step, accuracy=1 - loss)
    writer.close()
    if optimizer == "sgd" and lr < 0.05:
        raise FloatingPointError("loss diverged")
    return {"accuracy": 1 - lr * 0.5, "checkpoint": f"{optimizer}.ckpt"}


@pytest.fixture(scope="module")
def res(spark, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tbproject")) + "/"
    return experiment.grid_search(spark, train, GRID, metric="accuracy", root=root, name="tb")


@pytest.fixture(scope="module")
def board(res):
    with tensorboard.start(res.path, reload_interval=1) as server:
        yield server


def _hparams_plugin_data(logdir):
    """tag -> HParamsPluginData of one run, read the way TensorBoard reads event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = EventAccumulator(logdir)
    acc.Reload()
    content = acc.PluginTagToContent("hparams")
    parsed = {}
    for tag, raw in content.items():
        parsed[tag] = plugin_data_pb2.HParamsPluginData.FromString(raw)
    return acc, parsed


def test_every_trial_logdir_holds_its_hparams_session(res):
    from tensorboard.plugins.hparams import api_pb2

    assert [t.status for t in res.trials] == ["complete", "complete", "complete", "error"]
    for t in res.trials:
        acc, data = _hparams_plugin_data(t.logdir)
        # a session per trial, and deliberately no experiment summary (it would hide the others)
        assert set(data) == {"_hparams_/session_start_info", "_hparams_/session_end_info"}
        hparams = data["_hparams_/session_start_info"].session_start_info.hparams
        assert hparams["lr"].number_value == pytest.approx(t.params["lr"])
        assert hparams["optimizer"].string_value == t.params["optimizer"]
        assert hparams["nesterov"].bool_value is True
        assert hparams["layers"].string_value == "[64, 32]"
        assert hparams["trial_status"].string_value == t.status
        end = data["_hparams_/session_end_info"].session_end_info
        expected = "STATUS_SUCCESS" if t.status == "complete" else "STATUS_FAILURE"
        assert api_pb2.Status.Name(end.status) == expected
        start = data["_hparams_/session_start_info"].session_start_info
        assert start.start_time_secs == pytest.approx(t.started)
        assert t.finished <= end.end_time_secs < t.finished + 60
        # the trial's own curve and the reporter's scalars are untouched; final outputs apart
        assert [e.value for e in acc.Scalars("loss")] == pytest.approx(
            [1 - report["accuracy"] for report in t.history], rel=1e-6)
        assert [e.step for e in acc.Scalars("accuracy")] == [0, 1, 2]
        if t.status == "complete":
            (final,) = acc.Scalars("final/accuracy")
            assert final.value == pytest.approx(t.metric) and final.step == 2
            assert "final/checkpoint" not in acc.Tags()["scalars"]  # not a number
        else:
            assert "final/accuracy" not in acc.Tags()["scalars"]


def _get(board, route, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(board.url + route, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_tensorboard_serves_every_trial_with_its_params_and_metric(res, board):
    assert board.running and board.url.startswith("http://127.0.0.1:")
    assert board.url == f"http://127.0.0.1:{board.port}/"
    assert sorted(_get(board, "data/runs")) == [t.id for t in res.trials]

    experiment_config = _get(board, "data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {h["name"]: h for h in experiment_config["hparamInfos"]}
    assert set(infos) == {"lr", "optimizer", "nesterov", "layers", "trial_status"}
    assert infos["lr"]["type"] == "DATA_TYPE_FLOAT64"
    assert infos["lr"]["domainInterval"] == {"minValue": 0.01, "maxValue": 0.1}
    assert sorted(infos["optimizer"]["domainDiscrete"]) == ["adam", "sgd"]
    assert sorted(infos["trial_status"]["domainDiscrete"]) == ["complete", "error"]
    metrics = {m["name"]["tag"] for m in experiment_config["metricInfos"]}
    assert {"final/accuracy", "accuracy", "loss"} <= metrics

    groups = _get(board, "data/plugin/hparams/session_groups", {
        "experimentName": "",
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "startIndex": 0,
        "sliceSize": 100,
    })
    assert groups["totalSize"] == len(res.trials)
    by_name = {g["name"]: g for g in groups["sessionGroups"]}
    assert sorted(by_name) == [t.id for t in res.trials]
    for t in res.trials:
        group = by_name[t.id]
        assert group["hparams"]["lr"] == pytest.approx(t.params["lr"])
        assert group["hparams"]["optimizer"] == t.params["optimizer"]
        assert group["hparams"]["trial_status"] == t.status
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert values["loss"] == pytest.approx(1 - t.history[-1]["accuracy"], rel=1e-5)
        if t.status == "complete":
            assert values["final/accuracy"] == pytest.approx(t.metric, rel=1e-6)
        else:
            assert "final/accuracy" not in values
            assert group["sessions"][0]["status"] == "STATUS_FAILURE"


def writes_locally(x):
    """Records where its logdir was and writes an event file and a plain file there."""
    path = tensorboard.logdir()
    with SummaryWriter(path) as writer:
        writer.add_scalar("x", x, 0)
    with open(os.path.join(path, "notes.txt"), "w") as f:
        f.write(f"x={x}")
    return {"score": x, "logdir_seen": path}


def test_local_logdir_copies_into_the_trial_folder(spark, root):
    res = experiment.launch(spark, writes_locally, {"x": 1.0}, root=root, name="local",
                            local_logdir=True)
    (t,) = res.trials
    assert t.status == "complete", t.error
    seen = t.outputs["logdir_seen"]
    # the trial wrote to a local directory outside the project, removed once copied
    assert not seen.startswith(root) and seen != t.logdir
    assert not os.path.exists(seen)
    files = os.listdir(t.logdir)
    assert open(os.path.join(t.logdir, "notes.txt")).read() == "x=1.0"
    assert len([f for f in files if "tfevents" in f]) == 2  # the trial's and the HParams'
    acc, data = _hparams_plugin_data(t.logdir)
    assert [e.value for e in acc.Scalars("x")] == [1.0]
    assert data["_hparams_/session_start_info"].session_start_info.hparams["x"].number_value == 1.0
    assert "trial.json" in files  # the runner's records are still there


def fails_once(x, marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    time.sleep(1.1)  # its event files are named by the second: not the same as the first attempt's
    return x


def test_a_rerun_trial_replaces_the_session_of_its_failed_attempt(spark, root, tmp_path):
    res = experiment.launch(spark, fails_once, {"x": 2.0, "marker": str(tmp_path / "m")},
                            root=root, max_trial_retries=1)
    (t,) = res.trials
    assert (t.status, t.attempt) == ("complete", 2)
    sessions = [f for f in os.listdir(t.logdir) if f.endswith(".~hparams")]
    assert len(sessions) == 1
    acc, data = _hparams_plugin_data(t.logdir)
    assert data["_hparams_/session_start_info"].session_start_info.hparams["trial_status"].string_value == "complete"
    assert [e.value for e in acc.Scalars("final/metric")] == [2.0]


def test_local_logdir_must_be_a_bool(spark, root):
    with pytest.raises(ConfigError, match="local_logdir must be True or False, got 'yes'"):
        experiment.launch(spark, writes_locally, {"x": 1.0}, root=root, local_logdir="yes")


def test_local_logdir_is_copied_while_the_trial_runs(tmp_path):
    target = tmp_path / "trial_00000"
    target.mkdir()
    with LocalLogdir(str(target), interval=0.1) as local:
        writer = SummaryWriter(local.path)
        writer.add_scalar("loss", 1.0, 0)
        writer.flush()
        (name,) = [f for f in os.listdir(local.path) if "tfevents" in f]
        copy = target / name
        deadline = time.monotonic() + 10
        while not (copy.exists() and copy.stat().st_size == os.path.getsize(os.path.join(local.path, name))):
            assert time.monotonic() < deadline, "not copied within 10 s"
            time.sleep(0.05)
        first = copy.read_bytes()
        inode = copy.stat().st_ino
        writer.add_scalar("loss", 0.5, 1)
        writer.close()
    # the final copy appended to the same file: a TensorBoard reading it keeps its offset
    assert copy.stat().st_ino == inode
    assert copy.read_bytes().startswith(first) and len(copy.read_bytes()) > len(first)
    assert not os.path.exists(local.path)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(target))
    acc.Reload()
    assert [e.value for e in acc.Scalars("loss")] == [1.0, 0.5]


def test_a_tensorboard_failure_never_fails_the_trial(tmp_path, caplog):
    not_a_dir = tmp_path / "trial_00000"
    not_a_dir.write_text("a file where the logdir should be")
    with caplog.at_level(logging.WARNING, logger="sparkexp"):
        finish(str(not_a_dir), {"lr": 0.1}, {"status": "complete", "outputs": {"m": 1.0}})
    assert "could not write TensorBoard HParams" in caplog.text and str(not_a_dir) in caplog.text


def _live_processes_in_group(pgid):
    """Pids of the processes of group ``pgid`` that are not zombies (from /proc)."""
    live = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                live.append(int(entry))
    return live


def test_start_and_stop_in_a_with_block(res):
    with tensorboard.start(res.path) as server:
        pid = server.pid
        assert _get(server, "data/runs")
    assert not server.running
    assert _live_processes_in_group(pid) == []  # TensorBoard and its data server are gone
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "data/runs", timeout=2)
    server.stop()  # again: nothing happens


def test_start_refuses_what_it_cannot_serve(tmp_path):
    with pytest.raises(ConfigError, match="not an existing directory"):
        tensorboard.start(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="port must be a whole number from 0 to 65535"):
        tensorboard.start(str(tmp_path), port=70000)
    with pytest.raises(ConfigError, match="host must be"):
        tensorboard.start(str(tmp_path), host="127.0.0.1; rm -rf /")


def test_start_without_the_tensorboard_package_says_how_to_install_it(tmp_path):
    # a fresh interpreter where the tensorboard package cannot be found
    code = (
        "import sys\n"
        "sys.modules['tensorboard'] = None\n"
        "from sparkexp import tensorboard\n"
        f"tensorboard.start({str(tmp_path)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "TensorBoardError" in done.stderr
    assert "pip install 'sparkexp[tensorboard]'" in done.stderr


def test_hparams_and_local_logdir_copies_on_webhdfs(tmp_path, monkeypatch):
    from support.webhdfs_server import WebHdfsTestServer

    from sparkexp.fs import filesystem_for
    from sparkexp.fs._tbwriter import register_tensorboardx_schemes
    from sparkexp.tensorboard._hparams import write_trial_hparams

    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    register_tensorboardx_schemes()
    with WebHdfsTestServer(lifetime=60) as server:
        fs = filesystem_for(server.uri("/"))
        direct = server.uri("/Projects/demo/Experiments/tb_1/trial_00000")
        fs.mkdirs(direct)
        write_trial_hparams(direct, {"lr": 0.1}, {"accuracy": 0.9}, status="complete", step=4)

        copied = server.uri("/Projects/demo/Experiments/tb_1/trial_00001")
        fs.mkdirs(copied)
        local = LocalLogdir(copied, interval=3600).start()
        writer = SummaryWriter(local.path)
        writer.add_scalar("loss", 1.0, 0)
        writer.flush()
        assert local.sync() == 1
        appends = server.datanode_ops["APPEND"]
        writer.add_scalar("loss", 0.5, 1)
        writer.close()
        finish(local.path, {"lr": 0.01}, {"status": "stopped", "outputs": {"accuracy": 0.7}},
               step=1, local=local)
        assert server.datanode_ops["APPEND"] > appends  # the grown event file was appended to
        fs.download(server.uri("/Projects/demo/Experiments/tb_1"), str(tmp_path / "tb_1"))

    acc, data = _hparams_plugin_data(str(tmp_path / "tb_1" / "trial_00000"))
    assert data["_hparams_/session_start_info"].session_start_info.hparams["lr"].number_value == 0.1
    assert [(e.step, e.value) for e in acc.Scalars("final/accuracy")] == [(4, pytest.approx(0.9))]
    acc, data = _hparams_plugin_data(str(tmp_path / "tb_1" / "trial_00001"))
    assert data["_hparams_/session_start_info"].session_start_info.hparams["trial_status"].string_value == "stopped"
    assert [e.value for e in acc.Scalars("loss")] == [1.0, 0.5]


def test_start_serves_a_webhdfs_experiment_through_fsspec(monkeypatch):
    pytest.importorskip("fsspec")
    from support.webhdfs_server import WebHdfsTestServer

    from sparkexp.fs import filesystem_for
    from sparkexp.fs._tbwriter import register_tensorboardx_schemes
    from sparkexp.tensorboard._hparams import write_trial_hparams

    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    register_tensorboardx_schemes()
    with WebHdfsTestServer(lifetime=120) as server:
        fs = filesystem_for(server.uri("/"))
        for i, lr in enumerate([0.1, 0.01]):
            trial = server.uri(f"/Projects/demo/Experiments/tb_1/trial_0000{i}")
            fs.mkdirs(trial)
            write_trial_hparams(trial, {"lr": lr}, {"accuracy": 0.9 - i / 10}, status="complete",
                                step=4)
        opens = server.datanode_ops["OPEN"]
        with tensorboard.start(server.uri("/Projects/demo/Experiments/tb_1"),
                               reload_interval=1) as board:
            deadline = time.monotonic() + 30
            while sorted(_get(board, "data/runs")) != ["trial_00000", "trial_00001"]:
                assert time.monotonic() < deadline, _get(board, "data/runs")
                time.sleep(0.3)
            groups = _get(board, "data/plugin/hparams/session_groups", {
                "experimentName": "", "allowedStatuses": ["STATUS_SUCCESS"],
                "startIndex": 0, "sliceSize": 10})
        assert server.datanode_ops["OPEN"] > opens  # read over WebHDFS, through the datanode
    lrs = {g["name"]: g["hparams"]["lr"] for g in groups["sessionGroups"]}
    assert lrs == {"trial_00000": pytest.approx(0.1), "trial_00001": pytest.approx(0.01)}

