"""A Server-Sent Events client for the dashboard tests: a real HTTP connection read line by
line in a thread, each event kept with the time it arrived.

Example:
    >>> with EventStream(server.base, "/api/events", token) as stream:   # doctest: +SKIP
    ...     stream.next(timeout=5).data["experiments"]
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "EventStream"]


@dataclass
class Event:
    """One event: its name, its data (parsed JSON) and ``time.monotonic()`` when it arrived."""

    name: str
    data: Any
    arrived: float


class EventStream:
    """``GET path`` with the token, read as ``text/event-stream`` until closed or ended."""

    def __init__(self, base: str, path: str, token: str, *, timeout: float = 30.0) -> None:
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        self.conn.request("GET", path, headers={"Authorization": f"Token {token}",
                                                "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.comments = 0
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self._thread.start()

    def _read(self) -> None:
        name, data = "message", []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        self.events.put(Event(name, json.loads("\n".join(data)), time.monotonic()))
                    name, data = "message", []
                elif line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by close() (http.client may trip over the shut socket mid-chunk)
        finally:
            self.ended.set()
            self.events.put(None)

    def next(self, timeout: float) -> Event:
        """The next event, waiting up to ``timeout`` seconds (AssertionError when none comes)."""
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        if event is None:
            raise AssertionError("the stream ended")
        return event

    def drain(self, seconds: float) -> list[Event]:
        """Every event that arrives within ``seconds``."""
        out: list[Event] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                break
            out.append(event)
        return out

    def close(self) -> None:
        """Leave: shut the socket (which also wakes the reading thread) and close it."""
        if self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
