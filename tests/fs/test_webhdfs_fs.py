"""WebHdfsFileSystem through the real HdfsCLI client against the WebHDFS protocol test server."""

from __future__ import annotations

import errno
import os
import pickle
import threading
import uuid

import pytest
from support.webhdfs_server import WebHdfsTestServer

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs import filesystem_for
from sparkexp.fs._webhdfs import WebHdfsFileSystem, filesystem
from sparkexp.store import ExperimentStore
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server():
    with WebHdfsTestServer(lifetime=300) as srv:
        yield srv


@pytest.fixture(scope="module")
def legacy_server():
    """A server that ignores renameoptions (no rename2), like some HttpFS gateways."""
    with WebHdfsTestServer(legacy_rename=True, lifetime=300) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("SPARKEXP_WEBHDFS_URL", "SPARKEXP_WEBHDFS_USER", "SPARKEXP_WEBHDFS_TOKEN", "SPARKEXP_WEBHDFS_AUTH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", "alice")


def _root(srv: WebHdfsTestServer) -> str:
    return srv.uri(f"/Projects/t{uuid.uuid4().hex[:8]}")


@pytest.fixture
def root(server):
    return _root(server)


# -- URIs and configuration ----------------------------------------------------------------
def test_filesystem_for_picks_webhdfs_and_maps_schemes_to_http(server):
    fs = filesystem_for(server.uri("/x"))
    assert isinstance(fs, WebHdfsFileSystem)
    assert fs.url == server.url
    assert filesystem("swebhdfs://nn.example.com/x").url == "https://nn.example.com:9871"
    assert filesystem("webhdfs://nn.example.com/x").url == "http://nn.example.com:9870"


def test_bad_uris_are_refused_with_what_would_be_accepted(monkeypatch):
    with pytest.raises(ConfigError, match="no namenode host"):
        filesystem("webhdfs:///Projects/demo")
    with pytest.raises(ConfigError, match="SPARKEXP_WEBHDFS_URL"):
        filesystem("hdfs://nn:8020/x")
    monkeypatch.setenv("SPARKEXP_WEBHDFS_URL", "nn:9870")
    with pytest.raises(ConfigError, match=r"http\(s\)://host:port"):
        filesystem("hdfs://nn:8020/x")
    fs = filesystem("webhdfs://nn:9870/a")
    with pytest.raises(ConfigError, match="another namenode"):
        fs.exists("webhdfs://other:9870/a")
    with pytest.raises(ConfigError, match="relative path"):
        fs.exists("a/b")


def test_user_comes_from_uri_then_env(server, root):
    fs = filesystem_for(root)
    fs.mkdirs(root)
    assert server.calls[-1][3] == "alice"  # HADOOP_USER_NAME
    bob = root.replace("webhdfs://", "webhdfs://bob@")
    filesystem_for(bob).exists(bob)
    assert server.calls[-1][3] == "bob"


def test_delegation_token_is_sent_and_checked(monkeypatch):
    with WebHdfsTestServer(token="s3cret", lifetime=60) as srv:
        root = _root(srv)
        with pytest.raises(PermissionError, match="SPARKEXP_WEBHDFS_TOKEN"):
            filesystem_for(root).mkdirs(root)
        monkeypatch.setenv("SPARKEXP_WEBHDFS_TOKEN", "s3cret")
        fs = filesystem_for(root)
        fs.write_bytes(fs.join(root, "a"), b"ok")
        assert fs.read_bytes(fs.join(root, "a")) == b"ok"


def test_kerberos_without_requests_kerberos_is_a_clear_config_error(monkeypatch, root):
    pytest.importorskip("hdfs")
    try:
        import requests_kerberos  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("requests-kerberos is installed")
    monkeypatch.setenv("SPARKEXP_WEBHDFS_AUTH", "kerberos")
    with pytest.raises(ConfigError, match="requests-kerberos"):
        filesystem_for(root).exists(root)


# -- every FileSystem method ---------------------------------------------------------------
def test_directories_exists_isdir_ls(root):
    fs = filesystem_for(root)
    assert not fs.exists(root) and not fs.isdir(root)
    fs.mkdirs(fs.join(root, "a", "b"))
    fs.mkdirs(fs.join(root, "a", "b"))  # no error when it exists
    fs.write_bytes(fs.join(root, "a", "f.txt"), b"x")
    assert fs.isdir(fs.join(root, "a")) and not fs.isdir(fs.join(root, "a", "f.txt"))
    assert fs.exists(fs.join(root, "a", "f.txt"))
    assert fs.ls(fs.join(root, "a")) == ["b", "f.txt"]
    assert fs.ls(fs.join(root, "a", "b")) == []
    with pytest.raises(NotADirectoryError):
        fs.ls(fs.join(root, "a", "f.txt"))
    with pytest.raises(FileNotFoundError):
        fs.ls(fs.join(root, "missing"))


def test_write_bytes_goes_through_a_temp_file_and_rename2(server, root):
    fs = filesystem_for(root)
    target = fs.join(root, "experiment.json")
    fs.write_bytes(target, b"v1")
    before = len(server.calls), len(server.datanode_calls)
    fs.write_bytes(target, b"v2-longer")
    assert fs.read_bytes(target) == b"v2-longer"
    calls = server.calls[before[0]:]
    data_calls = server.datanode_calls[before[1]:]
    # the data never streams into the target itself: a reader cannot see half of it
    created = [p for op, p in data_calls if op == "CREATE"]
    assert created and all(p != target.split(str(server.port))[1] for p in created)
    assert all(os.path.basename(p).startswith(".tmp-") for p in created)
    assert [c[1] for c in calls if c[1] in ("RENAME", "DELETE")] == ["RENAME"]
    assert fs.ls(root) == ["experiment.json"]  # no temp file left behind


def test_write_bytes_replaces_on_a_server_without_rename2(legacy_server):
    root = _root(legacy_server)
    fs = filesystem_for(root)
    target = fs.join(root, "a.json")
    fs.write_bytes(target, b"one")
    fs.write_bytes(target, b"two")
    assert fs.read_bytes(target) == b"two"
    assert fs.ls(root) == ["a.json"]
    ops = [c[1] for c in legacy_server.calls if c[1] in ("RENAME", "DELETE")]
    assert "DELETE" in ops  # the documented delete-then-rename fallback


def test_readers_never_see_partial_content_during_rewrites(root):
    fs = filesystem_for(root)
    target = fs.join(root, "big.bin")
    size = 1 << 20
    fs.write_bytes(target, b"A" * size)
    seen: list[bytes] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(fs.read_bytes(target))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(6):
            fs.write_bytes(target, bytes([66 + i % 2]) * size)
    finally:
        stop.set()
        t.join(30)
    assert seen
    for data in seen:
        assert len(data) == size and data == data[:1] * size


def test_reads_and_writes_follow_307_redirects_to_the_datanode(server, root):
    fs = filesystem_for(root)
    before = dict(server.redirects), dict(server.datanode_ops)
    fs.write_bytes(fs.join(root, "f"), b"hello")
    fs.append(fs.join(root, "j"), b"1\n")
    fs.append(fs.join(root, "j"), b"2\n")
    assert fs.read_bytes(fs.join(root, "j")) == b"1\n2\n"

    def delta(counter, old, op):
        return counter[op] - old.get(op, 0)

    assert delta(server.redirects, before[0], "CREATE") == 2  # temp file + first append
    # the first APPEND gets 404 from the namenode (no file yet), the second is redirected
    assert delta(server.redirects, before[0], "APPEND") == 1
    assert delta(server.redirects, before[0], "OPEN") == 1
    assert delta(server.datanode_ops, before[1], "APPEND") == 1
    assert delta(server.datanode_ops, before[1], "OPEN") == 1


def test_append_creates_then_appends_and_retries_a_held_lease(server, root):
    fs = filesystem_for(root)
    journal = fs.join(root, "journal.jsonl")
    fs.append(journal, b"a\n")
    server.fail("APPEND", "AlreadyBeingCreatedException", "lease held by DFSClient_1", times=2)
    fs.append(journal, b"b\n", sync=True)
    assert fs.read_bytes(journal) == b"a\nb\n"
    server.fail("APPEND", "AccessControlException", "Permission denied: user=alice", times=1)
    with pytest.raises(PermissionError, match="Permission denied"):
        fs.append(journal, b"c\n")


@pytest.mark.parametrize("which", ["server", "legacy_server"])
def test_mkdir_exclusive_has_exactly_one_winner(request, which):
    root = _root(request.getfixturevalue(which))
    fs = filesystem_for(root)
    fs.mkdirs(root)
    target = fs.join(root, "demo_1")
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        barrier.wait()
        results.append(fs.mkdir_exclusive(target))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 5 + [True]
    assert fs.ls(root) == ["demo_1"]  # no temp directories left
    assert fs.ls(target) == []  # nothing moved inside the winner
    with pytest.raises(FileNotFoundError):
        fs.mkdir_exclusive(fs.join(root, "no-parent", "x"))


@pytest.mark.parametrize("which", ["server", "legacy_server"])
def test_rename_replaces_a_file_and_refuses_a_directory(request, which):
    root = _root(request.getfixturevalue(which))
    fs = filesystem_for(root)
    fs.write_bytes(fs.join(root, "src"), b"new")
    fs.write_bytes(fs.join(root, "dst"), b"old")
    fs.rename(fs.join(root, "src"), fs.join(root, "dst"))
    assert fs.read_bytes(fs.join(root, "dst")) == b"new"
    assert not fs.exists(fs.join(root, "src"))
    fs.mkdirs(fs.join(root, "dir", "child"))
    fs.write_bytes(fs.join(root, "src2"), b"x")
    with pytest.raises(OSError):
        fs.rename(fs.join(root, "src2"), fs.join(root, "dir"))
    assert fs.ls(fs.join(root, "dir")) == ["child"]
    with pytest.raises(FileNotFoundError):
        fs.rename(fs.join(root, "missing"), fs.join(root, "dst"))
    assert fs.read_bytes(fs.join(root, "dst")) == b"new"  # a failed rename loses nothing


def test_delete_files_and_trees(root):
    fs = filesystem_for(root)
    fs.write_bytes(fs.join(root, "d", "e", "f"), b"x")
    with pytest.raises(OSError) as info:
        fs.delete(fs.join(root, "d"))
    assert info.value.errno == errno.ENOTEMPTY
    fs.delete(fs.join(root, "d", "e", "f"))
    assert fs.ls(fs.join(root, "d", "e")) == []
    fs.delete(fs.join(root, "d"), recursive=True)
    assert not fs.exists(fs.join(root, "d"))
    fs.delete(fs.join(root, "never-there"))  # no error, like the local filesystem


def test_open_streams_read_write_append(root):
    fs = filesystem_for(root)
    p = fs.join(root, "s", "log.txt")
    with fs.open(p, "wb") as f:
        f.write(b"one\n")
        f.flush()
        assert fs.read_bytes(p) == b"one\n"  # flush sends what was written
        f.write(b"two\n")
    with fs.open(p, "ab") as f:
        f.write(b"three\n")
    with fs.open(p, "rb") as f:
        assert f.readline() == b"one\n"
        assert f.read() == b"two\nthree\n"
    with pytest.raises(ValueError, match="mode must be"):
        fs.open(p, "r+")


def test_upload_and_download_trees(tmp_path, root):
    fs = filesystem_for(root)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    fs.upload(str(src), fs.join(root, "up"))
    assert fs.ls(fs.join(root, "up")) == ["a.txt", "sub"]
    fs.upload(str(src / "a.txt"), fs.join(root, "single.txt"))
    assert fs.read_bytes(fs.join(root, "single.txt")) == b"a"
    fs.download(fs.join(root, "up"), str(tmp_path / "down"))
    assert (tmp_path / "down" / "sub" / "b.bin").read_bytes() == b"\x00\x01" * 1000
    with pytest.raises(FileNotFoundError):
        fs.download(fs.join(root, "nope"), str(tmp_path / "x"))


def test_errors_become_python_errors_naming_the_path(server, root):
    fs = filesystem_for(root)
    missing = fs.join(root, "missing.json")
    with pytest.raises(FileNotFoundError) as info:
        fs.read_bytes(missing)
    assert "FileNotFoundException" in str(info.value) and missing in str(info.value)
    fs.write_bytes(fs.join(root, "file"), b"x")
    with pytest.raises(NotADirectoryError):
        fs.mkdirs(fs.join(root, "file", "sub"))
    server.deny(root.split(str(server.port), 1)[1] + "/locked")
    with pytest.raises(PermissionError, match="AccessControlException"):
        fs.write_bytes(fs.join(root, "locked", "x"), b"x")


def test_an_unreachable_namenode_is_a_storage_error_naming_the_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fs = WebHdfsFileSystem(f"http://127.0.0.1:{port}", authority=f"127.0.0.1:{port}", timeout=5)
    with pytest.raises(StorageError, match=f"cannot reach WebHDFS at http://127.0.0.1:{port}"):
        fs.exists(f"webhdfs://127.0.0.1:{port}/x")


def test_pickles_without_its_client(root):
    fs = filesystem_for(root)
    fs.mkdirs(root)
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.exists(root)


# -- records through the store ---------------------------------------------------------------
def test_experiment_store_on_a_webhdfs_root(root):
    first = ExperimentStore.create(root, "mnist")
    second = ExperimentStore.create(root, "mnist")
    assert first.path.endswith("/Experiments/mnist_1") and second.path.endswith("/Experiments/mnist_2")
    first.write_manifest({"name": "mnist", "state": "running"})
    first.write_manifest({"name": "mnist", "state": "finished"})
    assert first.read_manifest()["state"] == "finished"
    trial = Trial(id="trial_00000", index=0, params={"lr": 0.1}, status="complete", metric=0.9)
    first.append_events([{"e": "trial", "id": trial.id, "index": 0, "params": trial.params}])
    first.append_events([{"e": "result", "id": trial.id, "trial": trial.to_dict()}])
    first.write_trial(trial)
    assert [e["e"] for e in first.read_events()] == ["trial", "result"]
    assert first.load_trials() == [trial]
    assert first.fs.exists(first.fs.join(first.trial_dir(trial.id), "trial.json"))
    assert ExperimentStore.experiments(root) == [first.path]  # second has no manifest yet
