"""A real ``mlflow server`` on 127.0.0.1 for tests: start, kill (the whole process group), restart.

Example::

    server = MlflowServer(tmp_path)        # sqlite backend + artifact directory under tmp_path
    server.start()                         # waits until /health answers
    server.kill()                          # SIGKILL, as a crashed server
    server.start()                         # same port, same database
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["MlflowServer", "free_port"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """``mlflow server`` with a sqlite backend and proxied artifacts under ``directory``."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until it answers ``/health``."""
        mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 - the server owns it
        self.proc = subprocess.Popen(
            [mlflow, "server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.directory / 'mlflow.db'}",
             "--artifacts-destination", str(self.directory / "artifacts")],
            stdout=log, stderr=log, cwd=self.directory, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(self.directory / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.2)  # a starting server: nothing to wait on but its port
        raise RuntimeError(f"mlflow server on {self.uri} did not answer within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL the server and its workers, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc.pid)
            self.proc.wait(30)

    def __enter__(self) -> MlflowServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (the server and its uvicorn workers)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
