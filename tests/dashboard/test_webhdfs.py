"""The dashboard over a ``webhdfs://`` project root (the suite's WebHDFS-protocol server): the
journal is tailed with ranged ``OPEN`` requests, new events show up in the API."""

from __future__ import annotations

import json
import time

import pytest
from support.dashboard_server import http
from support.synthetic import write_experiment
from support.webhdfs_server import WebHdfsTestServer

from sparkexp import dashboard
from sparkexp.fs import filesystem_for
from sparkexp.store import ExperimentStore


@pytest.fixture
def webhdfs(monkeypatch):
    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    with WebHdfsTestServer(lifetime=300) as srv:
        yield srv


def test_read_from_starts_at_the_offset(webhdfs):
    fs = filesystem_for(webhdfs.uri("/Projects/r"))
    path = webhdfs.uri("/Projects/r/file.txt")
    fs.mkdirs(webhdfs.uri("/Projects/r"))
    fs.write_bytes(path, b"0123456789")
    before = webhdfs.datanode_ops["OPEN"]
    assert fs.read_from(path, 4) == b"456789" and fs.read_from(path, 0) == b"0123456789"
    assert fs.read_from(path, 10) == b""
    assert webhdfs.datanode_ops["OPEN"] == before + 3
    with pytest.raises(FileNotFoundError):
        fs.read_from(webhdfs.uri("/Projects/r/missing"), 0)


def test_serving_a_webhdfs_root_follows_its_journal(webhdfs):
    root = webhdfs.uri("/Projects/demo")
    filesystem_for(root).mkdirs(root)
    path = write_experiment(root, "remote", trials=40, slots=2)
    with dashboard.serve(root) as board:
        auth = {"Authorization": f"Token {board.token}"}

        def get(p: str):
            code, _, body = http(board.base_url + p.lstrip("/"), headers=auth)
            assert code == 200, body
            return json.loads(body)

        (row,) = get("/api/experiments")["experiments"]
        assert row["id"] == "remote_1" and row["trials"] == 40 and row["failed"] == 0
        assert get("/api/experiments/remote_1/trials/trial_00007/metadata")["next"] == 5
        ExperimentStore(path).append_events([{"e": "trial", "id": "trial_00040", "index": 40, "params": {"lr": 0.1}}])
        deadline = time.monotonic() + 10
        while get("/api/experiments/remote_1")["trials"] < 41:
            assert time.monotonic() < deadline, "the new trial never showed up"
            time.sleep(0.2)
        (new,) = get("/api/experiments/remote_1/trials?status=queued")["trials"]
        assert new["id"] == "trial_00040" and new["params"] == {"lr": 0.1}
