"""``sparkexp serve`` as a real child process, for the dashboard tests.

Example:
    >>> with DashboardProcess.start("/tmp/project") as server:    # doctest: +SKIP
    ...     server.get("/api/experiments")["experiments"]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

__all__ = ["DashboardProcess", "http"]

_URL = re.compile(r"(http://[^/\s]+)/(?:\?token=(\S+))?")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def http(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
         body: bytes | None = None, timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    """One real HTTP request, no redirects followed: (status, headers, body)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


class DashboardProcess:
    """A ``python -m sparkexp serve ROOT`` child process; ``url`` carries the token."""

    def __init__(self, proc: subprocess.Popen[str], first_line: str) -> None:
        self.proc = proc
        self.first_line = first_line
        match = _URL.search(first_line)
        if not match:
            raise RuntimeError(f"sparkexp serve printed no URL: {first_line!r}")
        self.base, self.token = match.group(1), match.group(2) or ""
        self.url = f"{self.base}/?token={self.token}" if self.token else f"{self.base}/"

    @classmethod
    def start(cls, root: str, *args: str, timeout: float = 60.0,
              env: dict[str, str] | None = None) -> DashboardProcess:
        """Start it over ``root`` with more CLI ``args`` and ``env`` added to the environment."""
        env = {**os.environ, **(env or {})}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "sparkexp", "serve", root, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        line = proc.stdout.readline() if proc.stdout else ""
        if not line or time.monotonic() > deadline:
            err = proc.stderr.read() if proc.stderr else ""
            proc.kill()
            raise RuntimeError(f"sparkexp serve did not start: {line!r} {err[-2000:]}")
        return cls(proc, line.strip())

    def request(self, path: str, *, method: str = "GET", token: bool = True, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Token {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        return http(self.base + path, method=method, headers=h, body=data)

    def get(self, path: str) -> Any:
        """GET with the token; the JSON body (fails on a non-200 status)."""
        status, _, body = self.request(path)
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def stop(self) -> str:
        """Ctrl-C, as a person stops it; returns what it wrote to stderr."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stderr.read() if self.proc.stderr else ""

    def __enter__(self) -> DashboardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
