"""Running the ``sparkexp`` command as a shell user does: a subprocess per command."""

from __future__ import annotations

import os
import subprocess
import sys

__all__ = ["REPO", "cli_env", "sparkexp"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a command: this checkout first on the path, the test interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.pop("SPARKEXP_PROJECT_ROOT", None)
    env.update(extra)
    return env


def sparkexp(*args: str, cwd: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``sparkexp ARGS`` in ``cwd``; the completed process (output captured as text)."""
    return subprocess.run([sys.executable, "-m", "sparkexp", *args], cwd=cwd, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)
