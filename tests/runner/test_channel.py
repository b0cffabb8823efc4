"""The authenticated channel itself (no Spark): frames over real sockets, the HMAC handshake
from both ends, and what each end refuses (tampered, replayed, oversized, malformed or
unauthenticated messages).

The driver's server built on it (many connections, garbage from one not disturbing others, a
running experiment under attack): tests/runner/test_security.py.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sparkexp.errors import ChannelError
from sparkexp.runner import channel

pytestmark = pytest.mark.timeout(60)

SECRET = channel.new_secret()


@pytest.fixture()
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    yield a, b
    a.close()
    b.close()


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


class Listener:
    """A real TCP listener on loopback whose single connection ``serve`` handles in a thread."""

    def __init__(self, serve: Callable[[socket.socket], Any]) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.outcome: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(serve,), daemon=True)
        self._thread.start()

    def _run(self, serve: Callable[[socket.socket], Any]) -> None:
        conn, _ = self._sock.accept()
        conn.settimeout(10)
        try:
            self.outcome.append(serve(conn))
        except Exception as exc:  # noqa: BLE001 - what the server end raised is the test's subject
            self.outcome.append(exc)
        finally:
            conn.close()

    def result(self) -> Any:
        self._thread.join(10)
        self._sock.close()
        assert not self._thread.is_alive(), "the server end never finished"
        return self.outcome[0]


# -- frames ----------------------------------------------------------------------------------


def test_a_frame_is_a_big_endian_length_then_compact_utf8_json(pair):
    a, b = pair
    channel.send(a, {"op": "report", "r": {"loss": 0.5, "name": "réseau"}})
    body = json.dumps({"op": "report", "r": {"loss": 0.5, "name": "réseau"}},
                      separators=(",", ":")).encode("utf-8")
    assert b.recv(4 + len(body), socket.MSG_WAITALL) == frame(body)
    b.setblocking(False)
    with pytest.raises(BlockingIOError):  # and nothing after it
        b.recv(1)


def test_messages_keep_their_boundaries_and_values(pair):
    a, b = pair
    sent = [{"op": "next", "result": None}, {"op": "ok"},
            {"op": "report", "r": {"step": 3, "acc": 0.25, "tags": ["a", "模型"], "ok": True}}, {}]
    for m in sent:
        channel.send(a, m)
    assert [channel.recv(b) for _ in sent] == sent


def test_a_large_message_arrives_whole_across_many_reads():
    """Several MiB do not fit a socket buffer: the receiver reads while the sender writes."""
    a, b = socket.socketpair()
    message = {"op": "next", "result": {"outputs": {"blob": "x" * (5 * 1024 * 1024)}}}
    sender = threading.Thread(target=channel.send, args=(a, message))
    sender.start()
    try:
        assert channel.recv(b) == message
    finally:
        sender.join(10)
        a.close()
        b.close()


def test_the_largest_frame_is_accepted_and_one_byte_more_refused_before_reading_it(pair):
    a, b = pair
    a.sendall(frame(b"{}") + struct.pack(">I", 101))  # the second body is never sent
    assert channel.recv(b, max_frame=2) == {}
    with pytest.raises(ChannelError, match="refusing a 101-byte message .limit 100."):
        channel.recv(b, max_frame=100)


def test_the_sender_refuses_what_the_receiver_would_refuse(pair):
    a, b = pair
    with pytest.raises(ChannelError, match="larger than the 16,777,216-byte limit"):
        channel.send(a, {"blob": "x" * channel.MAX_FRAME})
    with pytest.raises(ValueError):  # NaN is not JSON: results are made JSON-safe before sending
        channel.send(a, {"metric": float("nan")})
    b.setblocking(False)
    with pytest.raises(BlockingIOError):  # nothing half-sent is left on the wire
        b.recv(1)


@pytest.mark.parametrize("body, words", [
    (b'{"op": "next", ', "malformed message"),
    (b"\xff\xfe\x00", "malformed message"),
    (b'["next"]', "expected a JSON object, got list"),
    (b'"next"', "expected a JSON object, got str"),
    (b"null", "expected a JSON object, got NoneType"),
    (b"NaN", "expected a JSON object, got float"),
])
def test_malformed_messages_are_refused_with_what_was_wrong(pair, body, words):
    a, b = pair
    a.sendall(frame(body))
    with pytest.raises(ChannelError, match=words):
        channel.recv(b)


def test_a_peer_closing_mid_frame_is_end_of_file_not_a_short_message(pair):
    a, b = pair
    a.sendall(struct.pack(">I", 50) + b'{"op": "ne')
    a.close()
    with pytest.raises(EOFError):
        channel.recv(b)
    with pytest.raises(EOFError):  # and nothing more
        channel.recv(b)


# -- the handshake ---------------------------------------------------------------------------


def test_mac_is_hmac_sha256_of_the_nonce_under_the_secret():
    assert channel.mac("k", "n") == hmac.new(b"k", b"n", hashlib.sha256).hexdigest()
    assert channel.mac("k", "n") != channel.mac("k", "m") != channel.mac("j", "n")
    secrets_ = {channel.new_secret() for _ in range(50)}
    assert len(secrets_) == 50 and all(len(s) == 64 and int(s, 16) >= 0 for s in secrets_)


def test_a_client_holding_its_roles_secret_is_served_with_its_hello():
    control = channel.new_secret()
    for role, secret, hello in (("worker", SECRET, {"host": "h", "pid": 7}),
                                ("control", control, {"role": "control"})):
        server = Listener(lambda conn: channel.server_handshake(conn, {"worker": SECRET, "control": control}))
        sock = channel.connect("127.0.0.1", server.port, secret, hello, timeout=10)
        assert sock.gettimeout() is None  # ready for long waits on trials
        got_role, got_hello = server.result()
        sock.close()
        assert got_role == role
        assert {k: got_hello[k] for k in hello} == hello and got_hello["op"] == "hello"


def test_a_wrong_secret_is_refused_at_both_ends():
    server = Listener(lambda conn: channel.server_handshake(conn, {"worker": SECRET}))
    with pytest.raises(ChannelError, match="refused"):
        channel.connect("127.0.0.1", server.port, channel.new_secret(), {}, timeout=10)
    refused = server.result()
    assert isinstance(refused, ChannelError) and "wrong experiment secret" in str(refused)


def test_a_role_without_a_secret_is_refused_even_with_another_roles_secret():
    server = Listener(lambda conn: channel.server_handshake(conn, {"worker": SECRET}))
    with pytest.raises(ChannelError):
        channel.connect("127.0.0.1", server.port, SECRET, {"role": "control"}, timeout=10)
    assert isinstance(server.result(), ChannelError)


def flipped_mac(sock: socket.socket) -> Any:
    """A client that answers with the right MAC but one hex digit changed."""
    nonce = channel.recv(sock)["nonce"]
    good = channel.mac(SECRET, nonce)
    channel.send(sock, {"op": "hello", "mac": good[:-1] + ("1" if good[-1] == "0" else "0")})
    return channel.recv(sock)


def tampered(hello: dict[str, Any]) -> Callable[[socket.socket], Any]:
    """A client that answers the challenge with ``hello`` (``"{mac}"`` becomes the right MAC)."""
    def client(sock: socket.socket) -> Any:
        nonce = channel.recv(sock)["nonce"]
        channel.send(sock, {k: channel.mac(SECRET, nonce) if v == "{mac}" else v for k, v in hello.items()})
        return channel.recv(sock)
    return client


HELLOS: dict[str, tuple[Callable[[socket.socket], Any], str]] = {
    "one digit of the mac changed": (flipped_mac, "authentication failed"),
    "made-up mac": (tampered({"op": "hello", "mac": "00" * 32}), "authentication failed"),
    "no mac": (tampered({"op": "hello"}), "expected a hello message"),
    "not a hello": (tampered({"op": "next", "mac": "{mac}"}), "expected a hello message"),
    "mac not text": (tampered({"op": "hello", "mac": 12345}), "expected a hello message"),
    "role not text": (tampered({"op": "hello", "mac": "{mac}", "role": ["worker"]}), "authentication failed"),
    "unknown role": (tampered({"op": "hello", "mac": "{mac}", "role": "admin"}), "authentication failed"),
}


def test_the_right_hello_is_served():
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(tampered({"op": "hello", "mac": "{mac}"})(b)))
    thread.start()
    assert channel.server_handshake(a, {"worker": SECRET}) == ("worker", {"op": "hello", "mac": ANY_MAC})
    thread.join(10)
    assert done == [{"op": "ok"}]
    a.close()
    b.close()


@pytest.mark.parametrize("name", list(HELLOS))
def test_the_server_refuses_every_other_hello(name):
    client, words = HELLOS[name]
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(_outcome(lambda: client(b))), daemon=True)
    thread.start()
    with pytest.raises(ChannelError, match=words):
        channel.server_handshake(a, {"worker": SECRET})
    a.close()  # what a server does with a refused connection
    thread.join(10)
    assert isinstance(done[0], (EOFError, ConnectionResetError)), done  # the client got no "ok"
    b.close()


class _AnyMac(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 64

    __hash__ = str.__hash__


ANY_MAC = _AnyMac()


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001
        return exc


def test_an_oversized_hello_is_refused_before_its_body_is_read(pair):
    a, b = pair
    b.sendall(struct.pack(">I", 64 * 1024 + 1))
    with pytest.raises(ChannelError, match="refusing a 65,537-byte message"):
        channel.server_handshake(a, {"worker": SECRET})


def test_every_connection_gets_a_fresh_nonce_so_a_seen_mac_is_worthless():
    nonces = []
    for _ in range(20):
        a, b = socket.socketpair()
        b.settimeout(10)
        threading.Thread(target=_outcome, args=(functools.partial(channel.server_handshake, a, {"worker": SECRET}),),
                         daemon=True).start()
        nonces.append(channel.recv(b)["nonce"])
        a.close()
        b.close()
    assert len(set(nonces)) == 20 and all(len(n) == 32 for n in nonces)


def test_the_client_refuses_a_server_without_a_challenge_or_without_ok():
    no_challenge = Listener(lambda conn: channel.send(conn, {"hello": "I am not a driver"}))
    with pytest.raises(ChannelError, match="did not send a challenge"):
        channel.connect("127.0.0.1", no_challenge.port, SECRET, {}, timeout=10)
    no_challenge.result()

    def refusing(conn: socket.socket) -> None:
        channel.send(conn, {"nonce": "abc"})
        channel.recv(conn)
        channel.send(conn, {"op": "busy"})

    busy = Listener(refusing)
    with pytest.raises(ChannelError, match="driver refused the connection: {'op': 'busy'}"):
        channel.connect("127.0.0.1", busy.port, SECRET, {}, timeout=10)
    busy.result()


def test_a_silent_server_times_the_client_out():
    silent = Listener(lambda conn: conn.recv(1))  # accepts, says nothing until the client leaves
    with pytest.raises(TimeoutError):
        channel.connect("127.0.0.1", silent.port, SECRET, {}, timeout=0.3)
    silent.result()


def test_nothing_listening_is_a_refused_connection():
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        channel.connect("127.0.0.1", port, SECRET, {}, timeout=5)
