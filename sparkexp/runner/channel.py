"""The authenticated driver-executor channel: length-prefixed JSON frames over TCP.

Executors' long-lived tasks connect to the driver, prove they hold the experiment's secret and
then pull trials and push results. Messages are JSON (never pickle), so a peer that gets past
authentication still cannot make the driver execute code.

Handshake: the server sends ``{"nonce": <hex>}``; the client answers
``{"op": "hello", "mac": HMAC-SHA256(secret, nonce), ...}``; the server closes the connection
unless the MAC matches (constant-time comparison). Frames are a 4-byte big-endian length then
the UTF-8 JSON body; frames above :data:`MAX_FRAME` bytes, malformed JSON or non-object
messages raise :class:`~sparkexp.errors.ChannelError` and the server drops that connection
without disturbing others.

Example:
    >>> import socket
    >>> a, b = socket.socketpair()
    >>> send(a, {"op": "ping"})
    >>> recv(b)
    {'op': 'ping'}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import struct
from typing import Any

from sparkexp.errors import ChannelError

__all__ = [
    "MAX_FRAME",
    "new_secret",
    "mac",
    "send",
    "recv",
    "connect",
    "server_handshake",
]

#: Largest accepted message (bytes). A trial's outputs travel in one message.
MAX_FRAME = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")


def new_secret() -> str:
    """A fresh random per-experiment secret (256 bits, hex)."""
    return secrets.token_hex(32)


def mac(secret: str, nonce: str) -> str:
    """HMAC-SHA256 of ``nonce`` under ``secret`` (hex)."""
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one JSON message."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ChannelError(f"message of {len(body):,} bytes is larger than the {MAX_FRAME:,}-byte limit")
    sock.sendall(_HEADER.pack(len(body)) + body)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        buf += chunk
    return bytes(buf)


def recv(sock: socket.socket, *, max_frame: int = MAX_FRAME) -> dict[str, Any]:
    """Receive one JSON object message.

    Raises:
        EOFError: the peer closed the connection.
        ChannelError: oversized frame, invalid JSON or a message that is not an object.
    """
    (length,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if length > max_frame:
        raise ChannelError(f"refusing a {length:,}-byte message (limit {max_frame:,})")
    body = _recv_exact(sock, length)
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ChannelError(f"malformed message: {exc}") from None
    if not isinstance(message, dict):
        raise ChannelError(f"malformed message: expected a JSON object, got {type(message).__name__}")
    return message


def server_handshake(sock: socket.socket, secrets_by_role: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Authenticate a new connection; returns the client's role and hello message.

    ``secrets_by_role`` maps each accepted role (``worker``: executor tasks, ``control``:
    ``sparkexp kill``) to its own secret, so a control client cannot pose as an executor.

    Raises:
        ChannelError: the client does not hold its role's secret or speaks another protocol.
    """
    nonce = secrets.token_hex(16)
    send(sock, {"nonce": nonce})
    hello = recv(sock, max_frame=64 * 1024)
    given = hello.get("mac")
    role = hello.get("role", "worker")
    if hello.get("op") != "hello" or not isinstance(given, str):
        raise ChannelError("expected a hello message")
    secret = secrets_by_role.get(role) if isinstance(role, str) else None
    if secret is None or not hmac.compare_digest(given, mac(secret, nonce)):
        raise ChannelError("authentication failed: wrong experiment secret")
    send(sock, {"op": "ok"})
    return role, hello


def connect(host: str, port: int, secret: str, hello: dict[str, Any], *, timeout: float = 30.0) -> socket.socket:
    """Connect to the driver and authenticate; returns the ready socket.

    Raises:
        ChannelError: the driver refused the secret (it closes the connection) or the peer is
            not a sparkexp driver.
        OSError: no connection (refused, unreachable, ``TimeoutError`` after ``timeout``).
    """
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        challenge = recv(sock, max_frame=64 * 1024)
        nonce = challenge.get("nonce")
        if not isinstance(nonce, str):
            raise ChannelError("driver did not send a challenge")
        send(sock, {**hello, "op": "hello", "mac": mac(secret, nonce)})
        try:
            reply = recv(sock)
        except (EOFError, ConnectionResetError) as exc:
            # the server closes a connection whose MAC (or role) it refuses, without a word
            raise ChannelError(f"driver at {host}:{port} refused the connection: it closed it at the "
                               "handshake (wrong secret or token: not this experiment's driver?)") from exc
        if reply.get("op") != "ok":
            raise ChannelError(f"driver refused the connection: {reply}")
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    return sock
