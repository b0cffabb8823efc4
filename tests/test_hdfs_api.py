"""The hops-style ``sparkexp.hdfs`` module on a local root and on a webhdfs:// root."""

from __future__ import annotations

import uuid

import pytest
from support.webhdfs_server import WebHdfsTestServer

from sparkexp import hdfs
from sparkexp.context import TrialContext, using
from sparkexp.errors import ConfigError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server():
    with WebHdfsTestServer(lifetime=300) as srv:
        yield srv


@pytest.fixture(params=["local", "webhdfs"])
def root(request, tmp_path, monkeypatch):
    monkeypatch.delenv("HOPSWORKS_PROJECT_NAME", raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", "demo__alice")
    if request.param == "local":
        value = str(tmp_path / "demo")
    else:
        srv = request.getfixturevalue("server")
        value = srv.uri(f"/Projects/demo{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("SPARKEXP_PROJECT_ROOT", value)
    return value.rstrip("/") + "/"


def test_project_path_path_and_name(root):
    assert hdfs.project_path() == root
    assert hdfs.path("Resources/train.csv") == root + "Resources/train.csv"
    assert hdfs.path("a/./b/../c") == root + "a/c"
    assert hdfs.path("") == root
    assert hdfs.path(root + "x") == root + "x"
    assert hdfs.abs_path("x") == root + "x"
    assert hdfs.project_name() == root.rstrip("/").rsplit("/", 1)[1]
    assert hdfs.project_user() == "demo__alice"


def test_project_name_from_hopsworks_env(root, monkeypatch):
    monkeypatch.setenv("HOPSWORKS_PROJECT_NAME", "fraud")
    assert hdfs.project_name() == "fraud"


@pytest.mark.parametrize("bad", ["../other", "a/../../x", "/etc/passwd", "webhdfs://evil:9870/x", "file:///etc"])
def test_paths_leaving_the_root_are_refused(root, bad):
    with pytest.raises(ConfigError, match="project root"):
        hdfs.path(bad)
    with pytest.raises(ConfigError, match="allow_outside=True"):
        hdfs.exists(bad)
    assert hdfs.path(bad, allow_outside=True)  # explicitly allowed


def test_absolute_path_inside_a_uri_root_resolves_into_it(monkeypatch):
    monkeypatch.setenv("SPARKEXP_PROJECT_ROOT", "hdfs://nn:8020/Projects/demo")
    assert hdfs.path("/Projects/demo/Resources/x.csv") == "hdfs://nn:8020/Projects/demo/Resources/x.csv"
    assert hdfs.path("/Projects/demo") == "hdfs://nn:8020/Projects/demo/"
    with pytest.raises(ConfigError, match="outside the project root"):
        hdfs.path("/Projects/demo2/x")


def test_files_and_directories(root):
    assert not hdfs.exists("Resources")
    hdfs.mkdir("Resources/images")
    hdfs.dump("a,b\n1,2\n", "Resources/train.csv")
    hdfs.dump(b"\x00\x01", "Resources/raw.bin")
    assert hdfs.exists("Resources/train.csv") and hdfs.isfile("Resources/train.csv")
    assert hdfs.isdir("Resources/images") and not hdfs.isfile("Resources/images")
    assert hdfs.load("Resources/train.csv") == "a,b\n1,2\n"
    assert hdfs.load("Resources/raw.bin", encoding=None) == b"\x00\x01"
    assert hdfs.ls("Resources") == [root + "Resources/" + n for n in ("images", "raw.bin", "train.csv")]
    hdfs.dump("x", "Resources/images/cat.png")
    assert root + "Resources/images/cat.png" in hdfs.ls("", recursive=True)
    assert hdfs.glob("Resources/*.csv") == [root + "Resources/train.csv"]
    hdfs.move("Resources/raw.bin", "Resources/moved.bin")
    assert hdfs.exists("Resources/moved.bin") and not hdfs.exists("Resources/raw.bin")
    with pytest.raises(OSError):
        hdfs.delete("Resources")  # not empty
    hdfs.delete("Resources/moved.bin")
    hdfs.delete("Resources/never-there")
    hdfs.rmr("Resources")
    assert not hdfs.exists("Resources")
    with pytest.raises(ConfigError, match="refusing to delete the project root"):
        hdfs.delete("", recursive=True)


def test_open_file_text_binary_and_append(root):
    with hdfs.open_file("Logs/run.log", "w") as f:
        f.write("line 1\n")
    with hdfs.open_file("Logs/run.log", "a") as f:
        f.write("line 2\n")
    with hdfs.open_file("Logs/run.log") as f:
        assert f.read() == "line 1\nline 2\n"
    with hdfs.open_file("Logs/run.log", "rb") as f:
        assert f.read().startswith(b"line 1")
    with pytest.raises(ConfigError, match="flags must be"):
        hdfs.open_file("Logs/run.log", "x")


def test_copy_to_local_and_back(root, tmp_path):
    hdfs.dump("w=1", "Models/v1/model.txt")
    local = hdfs.copy_to_local("Models/v1", str(tmp_path / "scratch"))
    assert local == str(tmp_path / "scratch" / "v1")
    assert (tmp_path / "scratch" / "v1" / "model.txt").read_text() == "w=1"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        hdfs.copy_to_local("Models/v1", str(tmp_path / "scratch"))
    hdfs.copy_to_local("Models/v1", str(tmp_path / "scratch"), overwrite=True)
    (tmp_path / "new.txt").write_text("new")
    target = hdfs.copy_to_hdfs(str(tmp_path / "new.txt"), "Resources")
    assert target == root + "Resources/new.txt"
    assert hdfs.load("Resources/new.txt") == "new"
    with pytest.raises(FileExistsError):
        hdfs.copy_to_hdfs(str(tmp_path / "new.txt"), "Resources")
    (tmp_path / "new.txt").write_text("newer")
    hdfs.copy_to_hdfs(str(tmp_path / "new.txt"), "Resources", overwrite=True)
    assert hdfs.load("Resources/new.txt") == "newer"
    hdfs.copy_to_hdfs(str(tmp_path / "scratch" / "v1"), "Models/v2")
    assert hdfs.load("Models/v2/v1/model.txt") == "w=1"
    with pytest.raises(FileNotFoundError):
        hdfs.copy_to_local("Models/none", str(tmp_path))


def test_inside_a_trial_the_context_root_is_used(root, tmp_path):
    trial_root = str(tmp_path / "trial-root") + "/"
    ctx = TrialContext(trial_id="trial_00000", index=0, params={}, logdir=trial_root + "t0", project_root=trial_root)
    with using(ctx):
        assert hdfs.project_path() == trial_root
        hdfs.dump("x", "out.txt")
        assert (tmp_path / "trial-root" / "out.txt").read_text() == "x"
        with pytest.raises(ConfigError):
            hdfs.exists("/etc/hostname")
    ctx.allow_outside_root = True
    with using(ctx):
        assert hdfs.exists(str(tmp_path))  # the trial was allowed to leave the root
