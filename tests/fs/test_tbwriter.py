"""tensorboardX event files on a webhdfs:// logdir, read back by the real TensorBoard."""

from __future__ import annotations

import pytest
from support.webhdfs_server import WebHdfsTestServer

from sparkexp.fs import filesystem_for
from sparkexp.fs._tbwriter import register_tensorboardx_schemes

pytestmark = pytest.mark.timeout(60)


def test_summary_writer_on_webhdfs_is_readable_by_tensorboard(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from tensorboardX import SummaryWriter

    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    register_tensorboardx_schemes()
    register_tensorboardx_schemes()  # idempotent
    with WebHdfsTestServer(lifetime=60) as server:
        logdir = server.uri("/Projects/demo/Experiments/mnist_1/trial_00000")
        writer = SummaryWriter(logdir)
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.flush()
        fs = filesystem_for(logdir)
        (name,) = fs.ls(logdir)
        assert name.startswith("events.out.tfevents.")
        appends_after_flush = server.datanode_ops["APPEND"]
        assert appends_after_flush >= 1  # flushed records reached HDFS before close
        writer.add_scalar("loss", 0.1, 5)
        writer.close()
        assert server.datanode_ops["APPEND"] > appends_after_flush
        # events went through the datanode, not a local file named "webhdfs:"
        assert not (tmp_path / "webhdfs:").exists()
        fs.download(logdir, str(tmp_path / "logs"))

    acc = event_accumulator.EventAccumulator(str(tmp_path / "logs"))
    acc.Reload()
    scalars = acc.Scalars("loss")
    assert [e.step for e in scalars] == [0, 1, 2, 3, 4, 5]
    assert [round(e.value, 3) for e in scalars] == [1.0, 0.5, 0.333, 0.25, 0.2, 0.1]
