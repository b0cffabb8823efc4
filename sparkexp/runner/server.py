"""The driver's end of the channel: accepts executor tasks and turns their messages into events.

Each connection gets one thread that only does I/O: it authenticates the task, forwards every
request to the driver loop as an event and sends back the loop's answer. The loop (the only
owner of search and records) answers by putting a message in the connection's reply queue.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sparkexp.errors import ChannelError
from sparkexp.runner import channel

__all__ = ["Connection", "Event", "TrialServer"]

log = logging.getLogger("sparkexp.runner")


@dataclass(eq=False)
class Connection:
    """One authenticated executor task."""

    number: int
    sock: socket.socket
    hello: dict[str, Any]
    replies: queue.SimpleQueue[dict[str, Any]] = field(default_factory=queue.SimpleQueue)
    #: id of the trial this task is running, if any (owned by the driver loop)
    trial_id: str | None = None
    closed: bool = False
    role: str = "worker"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: dict[str, Any]) -> None:
        """Send a message (a reply, or an unsolicited ``cancel``) to the task."""
        with self.lock:
            channel.send(self.sock, message)

    def push(self, message: dict[str, Any]) -> bool:
        """Send without raising; False if the task is gone."""
        try:
            self.send(message)
        except (OSError, ValueError):
            return False
        return True

    def describe(self) -> str:
        h = self.hello
        return f"task {self.number} on {h.get('host')} (executor {h.get('executor')}, pid {h.get('pid')})"


@dataclass
class Event:
    """Something the driver loop must react to."""

    kind: str  # "next", "report", "control", "lost", "job_end", "wake", "error"
    conn: Connection | None = None
    payload: Any = None


_WORKER_OPS: tuple[str, ...] = ("next", "report", "checkpoint")
_CONTROL_OPS: tuple[str, ...] = ("kill", "ping", "pause", "resume")


class TrialServer:
    """A TCP server on the driver that feeds :class:`Event` objects into ``events``."""

    def __init__(self, secret: str, events: queue.SimpleQueue[Event], *, bind: str = "127.0.0.1",
                 port: int = 0, control_secret: str | None = None, handshake_timeout: float = 30.0,
                 on_request: Callable[[Connection, dict[str, Any]], None] | None = None) -> None:
        #: handles an executor's request in the connection's thread and queues the reply in
        #: ``conn.replies``; without it requests become events for the driver loop
        self._on_request = on_request
        self._secrets = {"worker": secret}
        if control_secret is not None:
            self._secrets["control"] = control_secret
        self._handshake_timeout = handshake_timeout
        self._events = events
        self._sock = socket.create_server((bind, port), backlog=128)
        self._sock.settimeout(None)
        self.port: int = self._sock.getsockname()[1]
        self._counter = itertools.count()
        self._closing = threading.Event()
        self._conns: set[Connection] = set()
        #: every accepted socket until its thread ends (handshakes included) and those threads
        self._accepted: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        #: connections refused (bad secret, garbage); for tests and diagnostics
        self.rejected = 0
        self._thread = threading.Thread(target=self._accept_loop, name="sparkexp-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                sock, _addr = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), name="sparkexp-conn", daemon=True)
            with self._lock:
                self._accepted[sock] = thread
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self._serve_connection(sock)
        finally:
            with self._lock:
                self._accepted.pop(sock, None)

    def _serve_connection(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self._handshake_timeout)  # the handshake must not hang a thread forever
        try:
            role, hello = channel.server_handshake(sock, self._secrets)
        except (ChannelError, EOFError, OSError, ValueError) as exc:
            if not self._closing.is_set():  # else: close() cut the handshake short
                self.rejected += 1
                log.warning("sparkexp: refused a connection: %s", exc)
            sock.close()
            return
        sock.settimeout(None)
        conn = Connection(next(self._counter), sock, hello, role=role)
        with self._lock:
            self._conns.add(conn)
        try:
            while True:
                message = channel.recv(sock)
                op = message.get("op")
                allowed = _WORKER_OPS if role == "worker" else _CONTROL_OPS
                if op not in allowed:
                    raise ChannelError(f"unknown operation {op!r} for a {role} connection")
                if role == "control":
                    op = "control"
                if self._on_request is not None and role == "worker":
                    self._on_request(conn, message)  # no hand-off to another thread
                else:
                    self._events.put(Event(op, conn, message))
                reply = conn.replies.get()
                conn.send(reply)
                if reply.get("op") == "stop":
                    break
        except (EOFError, OSError, ChannelError, ValueError) as exc:
            if not self._closing.is_set():
                log.debug("sparkexp: %s disconnected: %s", conn.describe(), exc)
        finally:
            conn.closed = True
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                sock.close()
            self._events.put(Event("lost", conn))

    def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, drop every connection (handshakes under way too) and wait up to
        ``timeout`` seconds for their threads to end, so none outlives the experiment."""
        self._closing.set()
        with contextlib.suppress(OSError):
            # close() alone does not wake a thread blocked in accept() on Linux; shutdown does
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(timeout=5)
        with self._lock:
            accepted = dict(self._accepted)
            conns = list(self._conns)
        for sock in accepted:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for conn in conns:  # a thread waiting for the driver's answer: this one ends it
            conn.replies.put({"op": "stop", "reason": "the driver closed"})
        deadline = time.monotonic() + timeout
        for thread in accepted.values():
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
