"""Training functions for the MLflow tracking tests (importable by executors as
``support.mlflow_trials``: the tests directory is on their PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import sys
import time

from sparkexp import reporter

__all__ = ["curve", "slow", "kills_server"]


def curve(lr: float, fail: bool = False) -> dict[str, float]:
    """Three step reports, one line on stdout and stderr; raises when ``fail``."""
    for step in range(3):
        reporter.log(step=step, loss=lr * (3 - step), acc=step / 3)
    print(f"training lr={lr}")
    print(f"warning from lr={lr}", file=sys.stderr)
    if fail:
        raise ValueError(f"diverged at lr={lr}")
    return {"accuracy": 1.0 - lr, "loss": lr}


def slow(x: int) -> float:
    """Half a second per trial, with one report."""
    time.sleep(0.5)
    reporter.log(step=1, value=float(x))
    return float(x)


def kills_server(x: int, pid: int, at: int) -> float:
    """Trial ``at`` SIGKILLs the MLflow server's process group ``pid`` (a crash mid-experiment)."""
    if x == at:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reporter.log(step=0, value=float(x))
    print(f"trial x={x}")
    print(f"note x={x}", file=sys.stderr)
    time.sleep(0.1)
    return float(x)
