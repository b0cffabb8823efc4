"""The driver's trial server as the driver's end of an experiment meets it: closing drops every
connection, including one whose handshake finishes while the server is closing (a slot task that
connects just as its finished experiment winds down must be let go, not left waiting for ever).

Authentication and refusals are in test_security.py; these talk to a real TrialServer over TCP.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

import pytest

from sparkexp.runner import channel
from sparkexp.runner.server import Event, TrialServer

SECRET = "test-secret"


@pytest.fixture
def server():
    srv = TrialServer(SECRET, queue.SimpleQueue())
    yield srv
    srv.close()


def _challenged(srv: TrialServer) -> tuple[socket.socket, str]:
    """A client that has the server's challenge and has not answered it yet."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    return sock, channel.recv(sock)["nonce"]


def _hello(sock: socket.socket, nonce: str) -> None:
    channel.send(sock, {"op": "hello", "mac": channel.mac(SECRET, nonce), "slot": 0})
    assert channel.recv(sock)["op"] == "ok"


def _connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sparkexp-conn"]


def test_close_drops_a_connection_waiting_for_an_answer_and_its_thread_ends(server):
    before = set(_connection_threads())
    sock, nonce = _challenged(server)
    _hello(sock, nonce)
    channel.send(sock, {"op": "next"})  # the server's thread waits for the driver's answer
    deadline = time.monotonic() + 5
    while server._events.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    server.close()
    assert time.monotonic() - t0 < 1.5  # not close's 2 s bound: the waiting thread was woken
    assert set(_connection_threads()) <= before  # no connection thread outlives close()
    sock.settimeout(5)
    with pytest.raises(EOFError):  # dropped at once, not a 5 s timeout
        channel.recv(sock)


def test_a_connection_still_in_its_handshake_is_dropped_by_close_not_left_waiting(server):
    before = set(_connection_threads())
    sock, nonce = _challenged(server)  # the server's connection thread awaits our hello
    server.close()
    assert set(_connection_threads()) <= before
    sock.settimeout(5)
    t0 = time.monotonic()
    # before: the handshake completed after close() and the task then waited for ever
    with pytest.raises((EOFError, ConnectionError)):
        _hello(sock, nonce)
        channel.recv(sock)
    assert time.monotonic() - t0 < 2


def test_every_dropped_connection_is_reported_to_the_driver_as_lost():
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    srv = TrialServer(SECRET, events)
    sock, nonce = _challenged(srv)
    _hello(sock, nonce)
    srv.close()
    kinds = []
    deadline = time.monotonic() + 5
    while "lost" not in kinds and time.monotonic() < deadline:
        try:
            kinds.append(events.get(timeout=0.1).kind)
        except queue.Empty:
            pass
    assert "lost" in kinds
