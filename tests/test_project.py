"""Where the project root is: the order ``root=``, Spark conf, environment, default, and the one
form every root takes (absolute, one trailing slash, URLs untouched); the conf read from a real
SparkSession and its SparkContext.

Experiments writing under the root: tests/test_experiment.py; roots on HDFS: tests/fs/.
"""

from __future__ import annotations

import os

import pytest

from sparkexp.project import (
    CONF_KEY,
    DEFAULT_ROOT,
    ENV_KEY,
    conf_value,
    normalize_root,
    resolve_root,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture()
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    return monkeypatch


@pytest.mark.parametrize("root, expected", [
    ("/data/proj", "/data/proj/"),
    ("/data/proj///", "/data/proj/"),
    ("/data/./proj/../proj", "/data/proj/"),
    ("hdfs://nn:8020/user/me/proj", "hdfs://nn:8020/user/me/proj/"),
    ("hdfs://nn:8020/user/me/proj//", "hdfs://nn:8020/user/me/proj/"),
    ("webhdfs://nn:9870/proj", "webhdfs://nn:9870/proj/"),
    ("hdfs:///", "hdfs:///"),  # the default filesystem's root keeps its empty authority
    ("file:///", "file:///"),
    ("file:///tmp/proj", "file:///tmp/proj/"),
])
def test_every_root_ends_in_exactly_one_slash_and_urls_stay_as_written(root, expected):
    assert normalize_root(root) == expected


def test_relative_and_home_roots_become_absolute_on_the_driver(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert normalize_root("runs") == str(tmp_path / "runs") + "/"
    assert normalize_root("~/runs") == str(tmp_path / "home" / "runs") + "/"
    assert normalize_root(DEFAULT_ROOT) == os.path.join(str(tmp_path), DEFAULT_ROOT) + "/"


def test_without_anything_set_the_root_is_sparkexp_project_in_the_working_directory(tmp_path, no_env):
    no_env.chdir(tmp_path)
    assert resolve_root() == str(tmp_path / "sparkexp-project") + "/"
    assert resolve_root(None, "") == str(tmp_path / "sparkexp-project") + "/"  # empty is unset


def test_the_environment_beats_the_default_and_root_beats_the_environment(tmp_path, no_env):
    no_env.setenv(ENV_KEY, str(tmp_path / "from-env"))
    assert resolve_root() == str(tmp_path / "from-env") + "/"
    assert resolve_root(None, "hdfs://nn/given") == "hdfs://nn/given/"
    no_env.setenv(ENV_KEY, "")  # set but empty: the default
    no_env.chdir(tmp_path)
    assert resolve_root() == str(tmp_path / DEFAULT_ROOT) + "/"


def test_the_spark_conf_beats_the_environment_and_root_beats_the_conf(spark, tmp_path, no_env):
    no_env.setenv(ENV_KEY, str(tmp_path / "from-env"))
    assert conf_value(spark, CONF_KEY) is None
    assert resolve_root(spark) == str(tmp_path / "from-env") + "/"  # conf unset: the environment
    spark.conf.set(CONF_KEY, "hdfs://nn:8020/from-conf")
    try:
        assert conf_value(spark, CONF_KEY) == "hdfs://nn:8020/from-conf"
        assert resolve_root(spark) == "hdfs://nn:8020/from-conf/"
        assert resolve_root(spark, str(tmp_path / "given")) == str(tmp_path / "given") + "/"
    finally:
        spark.conf.unset(CONF_KEY)
    assert resolve_root(spark) == str(tmp_path / "from-env") + "/"


def test_conf_is_read_from_a_spark_context_too(spark):
    sc = spark.sparkContext
    assert conf_value(sc, "spark.app.name") == "sparkexp-tests"
    assert conf_value(sc, CONF_KEY) is None
    assert conf_value(None, "spark.app.name") is None
