"""Bad ``mlflow=`` input: one-line errors before anything runs (no Spark needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sparkexp.errors import ConfigError
from sparkexp.tracking import ENVIRONMENT, check_tracking_uri, resolve_tracking

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("uri", ["http://127.0.0.1:5000", "https://mlflow.example/x",
                                 "sqlite:///mlflow.db", "file:///tmp/mlruns", "./mlruns",
                                 "postgresql+psycopg2://u@h/db", "databricks",
                                 "databricks://profile"])
def test_accepted_uris(uri):
    assert resolve_tracking(uri) == uri


def test_off_and_environment():
    assert resolve_tracking(None) is None
    assert resolve_tracking(False) is None
    assert resolve_tracking(True) == ENVIRONMENT


@pytest.mark.parametrize("option, message", [
    ("ftp://host/x", "mlflow tracking URI 'ftp://host/x' has an unknown scheme 'ftp'; accepted: "
                     "http, https, file, sqlite, postgresql, mysql, mssql, databricks, or a "
                     "local directory"),
    ("  ", "mlflow tracking URI is empty"),
    (5000, "mlflow must be a tracking URI (e.g. 'http://host:5000'), True for the environment's "
           "MLflow, or False; got 5000"),
])
def test_bad_option(option, message):
    with pytest.raises(ConfigError) as info:
        resolve_tracking(option)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_bad_environment_uri(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "gopher://x")
    with pytest.raises(ConfigError, match="unknown scheme 'gopher'"):
        resolve_tracking(True)
    assert check_tracking_uri("C:\\runs") == "C:\\runs"  # a drive letter is a path


def _without_mlflow(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``import mlflow`` fails (sys.modules None)."""
    env = {**os.environ, "PYTHONPATH": _REPO}
    return subprocess.run([sys.executable, "-c", "import sys; sys.modules['mlflow'] = None\n" + code],
                          capture_output=True, text=True, env=env, timeout=120)


def test_missing_package_api():
    done = _without_mlflow(
        "from sparkexp.tracking import resolve_tracking\n"
        "try:\n    resolve_tracking('sqlite:///x.db')\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    assert done.stdout.strip() == ("ConfigError mlflow= needs the mlflow package on the driver: "
                                   "pip install 'sparkexp[mlflow]'")


def test_missing_package_cli_spec(tmp_path):
    (tmp_path / "model.py").write_text("def train(lr):\n    return -lr\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"function": "model.py:train", "strategy": "random",
                                "space": {"lr": [0.1, 0.2]},
                                "options": {"samples": 2, "mlflow": "sqlite:///x.db"}}))
    done = _without_mlflow("from sparkexp.cli import main\n"
                           f"sys.exit(main(['run', {str(spec)!r}]))")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sparkexp run: error: mlflow= needs the mlflow package on the driver: "
        "pip install 'sparkexp[mlflow]'"]


def test_bad_scheme_cli(tmp_path):
    (tmp_path / "model.py").write_text("def train(lr):\n    return -lr\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"function": "model.py:train", "strategy": "random",
                                "space": {"lr": [0.1, 0.2]}, "options": {"samples": 2}}))
    env = {**os.environ, "PYTHONPATH": _REPO}
    done = subprocess.run([sys.executable, "-m", "sparkexp", "run", str(spec), "--mlflow",
                           "s3://bucket/runs"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("sparkexp run: error: mlflow tracking URI 's3://bucket/runs' "
                                   "has an unknown scheme 's3'; accepted: http, https, file, "
                                   "sqlite, postgresql, mysql, mssql, databricks, or a local "
                                   "directory")
