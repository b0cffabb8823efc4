"""``sparkexp doctor`` and :mod:`sparkexp.runner.doctor` on the shared local[2] session, and the
checks that need no Spark (cluster cases: tests/runner/test_elastic.py)."""

from __future__ import annotations

import inspect
import socket
import subprocess
import sys
import time

import pytest

import sparkexp
from sparkexp._session import SESSION_OPTIONS
from sparkexp.errors import ConfigError
from sparkexp.runner.doctor import check_master, doctor, doctor_report


def test_doctor_on_a_healthy_local_session(spark, root):
    text = doctor(spark, root=root)
    assert "master: local[2] (local)" in text and "task slots: 2" in text
    assert "default max_parallel: 2" in text and "executor Python:" in text
    assert text.endswith("problems: none found")


def test_doctor_names_problems(spark, tmp_path):
    report = doctor_report(spark, root=str(tmp_path / "missing"), probe=False)
    assert len(report.problems) == 1 and "does not exist" in report.problems[0]


_NO_MASTER = ("cannot reach the master at 127.0.0.1:{} (Connection refused); is it running, and "
              "is this its spark:// URL (the first line of its log)?")


@pytest.mark.parametrize("url, problems", [
    ("spark://127.0.0.1:1,127.0.0.1:2", [_NO_MASTER.format(1), _NO_MASTER.format(2)]),
    ("sc://127.0.0.1:1", ["cannot reach the Spark Connect server at 127.0.0.1:1 (Connection "
                          "refused); is it running (start-connect-server.sh), and is this its "
                          "sc:// URL?"]),
])
def test_a_master_that_does_not_listen_is_reported_before_a_session_starts(url, problems):
    started = time.monotonic()
    report = check_master(url, timeout=10)
    assert time.monotonic() - started < 5
    assert report.problems == problems


def test_doctor_takes_the_options_of_session():
    params = [p for p in inspect.signature(sparkexp.session).parameters.values()
              if p.kind is p.KEYWORD_ONLY]
    assert [o.name for o in SESSION_OPTIONS] == [p.name for p in params]
    out = subprocess.run([sys.executable, "-m", "sparkexp", "doctor", "--help"],
                         capture_output=True, text=True, timeout=60).stdout
    for option in SESSION_OPTIONS:
        assert option.flag in out
    assert "--timeout" in out and "--conf" in out


@pytest.mark.parametrize("args, message", [
    (["--executor-memory", "4gb"], "executor_memory must be"),
    (["--conf", "executor.memory=1g"], "--conf takes KEY=VALUE"),
    (["--timeout", "0"], "--timeout must be a positive number"),
])
def test_bad_doctor_options_fail_before_spark_starts(args, message):
    proc = subprocess.run([sys.executable, "-m", "sparkexp", "doctor", "--master",
                           "spark://127.0.0.1:1", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1


def test_executor_options_for_a_connect_server_fail_before_a_session_starts():
    with socket.socket() as listener:  # something listens: the check gets to the options
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(ConfigError, match=r"^executor_memory: settings of the Spark Connect "
                                              rf"server at sc://127.0.0.1:{port}, not of a client"):
            check_master(f"sc://127.0.0.1:{port}", timeout=10, executor_memory="4g")
