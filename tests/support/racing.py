"""A writer process killed mid-write while a reader races it (atomic-record tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from support.cli import cli_env

__all__ = ["race_then_kill"]


def race_then_kill(args: Sequence[str], *, check: Callable[[], None], seconds: float) -> int:
    """Run ``python ARGS`` (with this checkout on its path), which prints ``started`` once its
    first write is on disk and then writes on; call ``check()`` as often as it can for
    ``seconds``, then SIGKILL the writer. Returns how many checks ran (at least one)."""
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, env=cli_env())
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"started"
        checks = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            check()
            checks += 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert checks > 0
    return checks
