"""hdfs:// and viewfs:// roots: URI parsing, lazy libhdfs, the missing-libhdfs error, WebHDFS
fallback. libhdfs is absent here, so HadoopFileSystem's own logic runs over an injected pyarrow
filesystem; the libhdfs calls themselves are not exercised."""

from __future__ import annotations

import os
import pickle

import pyarrow.fs as pafs
import pytest
from support.webhdfs_server import WebHdfsTestServer

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs import filesystem_for
from sparkexp.fs._hdfs import HadoopFileSystem, parse_hdfs_uri
from sparkexp.fs._webhdfs import WebHdfsFileSystem
from sparkexp.store import ExperimentStore

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _no_webhdfs_url(monkeypatch):
    monkeypatch.delenv("SPARKEXP_WEBHDFS_URL", raising=False)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("hdfs://nn:9000/Projects/demo/", ("nn", 9000, None, "/Projects/demo")),
        ("hdfs://nn/Projects/demo", ("nn", 8020, None, "/Projects/demo")),
        ("hdfs://alice@nn:8020/x", ("nn", 8020, "alice", "/x")),
        ("hdfs:///Projects/demo", ("default", 0, None, "/Projects/demo")),
        ("hdfs://nn:8020", ("nn", 8020, None, "/")),
        ("hdfs://nn/a%20b/../c", ("nn", 8020, None, "/c")),
        ("viewfs://cluster/user/x", ("viewfs://cluster", 0, None, "/user/x")),
    ],
)
def test_parse_hdfs_uri(uri, expected):
    assert parse_hdfs_uri(uri) == expected


def test_parse_hdfs_uri_refuses_what_it_cannot_serve():
    with pytest.raises(ConfigError, match="hdfs://namenode:8020/path"):
        parse_hdfs_uri("s3://bucket/x")
    with pytest.raises(ConfigError, match="viewfs://cluster/path"):
        parse_hdfs_uri("viewfs:///x")
    with pytest.raises(ConfigError, match="bad port"):
        parse_hdfs_uri("hdfs://nn:port/x")


def test_filesystem_for_hdfs_is_lazy_and_explains_missing_libhdfs(monkeypatch):
    for var in ("JAVA_HOME", "HADOOP_HOME", "ARROW_LIBHDFS_DIR", "CLASSPATH"):
        monkeypatch.delenv(var, raising=False)
    fs = filesystem_for("hdfs://nn:8020/Projects/demo")  # no JVM needed to create it
    assert isinstance(fs, HadoopFileSystem)
    assert (fs.host, fs.port, fs.scheme) == ("nn", 8020, "hdfs")
    with pytest.raises(StorageError) as info:
        fs.exists("hdfs://nn:8020/Projects/demo")
    message = str(info.value)
    for needed in ("JAVA_HOME", "ARROW_LIBHDFS_DIR", "HADOOP_HOME", "hadoop classpath --glob", "SPARKEXP_WEBHDFS_URL"):
        assert needed in message
    # and through the store, the same clear message
    with pytest.raises(StorageError, match="libhdfs"):
        ExperimentStore.create("hdfs://nn:8020/Projects/demo", "x")


def test_missing_libhdfs_so_in_arrow_libhdfs_dir_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ARROW_LIBHDFS_DIR", str(tmp_path))
    fs = HadoopFileSystem("nn", 8020, authority="nn:8020")
    with pytest.raises(StorageError, match=f"ARROW_LIBHDFS_DIR='{tmp_path}' has no libhdfs.so"):
        fs.isdir("/x")


def test_hdfs_root_over_webhdfs_when_a_url_is_configured(monkeypatch):
    monkeypatch.setenv("HADOOP_USER_NAME", "alice")
    with WebHdfsTestServer(lifetime=60) as server:
        monkeypatch.setenv("SPARKEXP_WEBHDFS_URL", server.url)
        root = "hdfs://nameservice1/Projects/demo"
        fs = filesystem_for(root)
        assert isinstance(fs, WebHdfsFileSystem) and fs.scheme == "hdfs"
        store = ExperimentStore.create(root, "mnist")
        assert store.path == "hdfs://nameservice1/Projects/demo/Experiments/mnist_1"
        store.write_manifest({"name": "mnist"})
        store.append_events([{"e": "trial", "id": "trial_00000", "index": 0, "params": {}}])
        assert [e["id"] for e in store.read_events()] == ["trial_00000"]
        local = server.local("/Projects/demo/Experiments/mnist_1/experiment.json")
        assert os.path.isfile(local)
        assert server.redirects["CREATE"] >= 1


class _HdfsRenameSemantics:
    """A pyarrow filesystem whose ``move`` behaves like HDFS' old rename (libhdfs): moving onto an
    existing directory moves *into* it."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def move(self, src, dst):
        if self._inner.get_file_info(dst).type == pafs.FileType.Directory:
            dst = dst.rstrip("/") + "/" + src.rstrip("/").rsplit("/", 1)[1]
        self._inner.move(src, dst)


@pytest.fixture
def hfs(tmp_path):
    (tmp_path / "hdfs").mkdir()
    inner = pafs.SubTreeFileSystem(str(tmp_path / "hdfs"), pafs.LocalFileSystem())
    return HadoopFileSystem("nn", 8020, authority="nn:8020", pafs=inner)


def test_hadoop_filesystem_operations_over_an_injected_pyarrow_fs(hfs, tmp_path):
    root = "hdfs://nn:8020/Projects/demo"
    hfs.mkdirs(root)
    assert hfs.isdir(root) and hfs.exists(root) and not hfs.exists(root + "/x")
    hfs.write_bytes(root + "/a.json", b"1")
    hfs.write_bytes(root + "/a.json", b"22")
    assert hfs.read_bytes(root + "/a.json") == b"22"
    assert hfs.ls(root) == ["a.json"]  # no temp file left
    hfs.append(root + "/j", b"x\n")
    hfs.append(root + "/j", b"y\n")
    assert hfs.read_bytes(root + "/j") == b"x\ny\n"
    with hfs.open(root + "/s", "wb") as f:
        f.write(b"s")
    with hfs.open(root + "/s", "ab") as f:
        f.write(b"t")
    with hfs.open(root + "/s", "rb") as f:
        assert f.read() == b"st"
    with pytest.raises(NotADirectoryError):
        hfs.ls(root + "/j")
    hfs.mkdirs(root + "/d/e")
    with pytest.raises(OSError, match="not empty"):
        hfs.delete(root + "/d")
    hfs.delete(root + "/d", recursive=True)
    hfs.delete(root + "/never")
    src = tmp_path / "local"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("f")
    hfs.upload(str(src), root + "/up")
    assert hfs.ls(root + "/up/sub") == ["f"]
    hfs.download(root + "/up", str(tmp_path / "down"))
    assert (tmp_path / "down" / "sub" / "f").read_text() == "f"


def test_hadoop_mkdir_exclusive_detects_a_move_into_an_existing_directory(hfs, monkeypatch):
    hfs._pafs = _HdfsRenameSemantics(hfs._pafs)
    root = "hdfs://nn:8020/P"
    hfs.mkdirs(root)
    assert hfs.mkdir_exclusive(root + "/run_1") is True
    assert hfs.mkdir_exclusive(root + "/run_1") is False
    # a racing creator made run_1 after our existence check: HDFS moves our temp dir inside
    real_exists = hfs.exists
    lies_left = [1]

    def exists_once(p):
        if p.endswith("/run_1") and lies_left[0]:
            lies_left[0] -= 1
            return False
        return real_exists(p)

    monkeypatch.setattr(hfs, "exists", exists_once)
    assert hfs.mkdir_exclusive(root + "/run_1") is False
    assert hfs.ls(root + "/run_1") == []  # the temp dir moved inside was removed
    assert hfs.ls(root) == ["run_1"]
    with pytest.raises(FileNotFoundError):
        hfs.mkdir_exclusive(root + "/missing/run_1")


def test_hadoop_filesystem_pickles_without_its_connection(hfs):
    hfs.mkdirs("/x")
    clone = pickle.loads(pickle.dumps(hfs))
    assert clone._pafs is None and clone.host == "nn"
