"""Security: the driver-executor channel, paths outside the project root, shells.

The channel tests talk to a live :class:`~sparkexp.runner.server.TrialServer` over real TCP
sockets, as an executor (or an attacker on the network) would, and then to the server of a
running experiment while its trials run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

from sparkexp import experiment, hdfs
from sparkexp.errors import ChannelError, ConfigError
from sparkexp.runner import channel, driver
from sparkexp.runner.server import Event, TrialServer
from sparkexp.runner.spark_backend import SparkContextBackend

SECRET = channel.new_secret()


@pytest.fixture()
def server():
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    srv = TrialServer(SECRET, events, handshake_timeout=0.5)
    srv.events = events  # type: ignore[attr-defined]
    yield srv
    srv.close()


def executor(srv: TrialServer, secret: str = SECRET) -> socket.socket:
    return channel.connect("127.0.0.1", srv.port, secret, {"host": "test", "executor": "1", "pid": 1},
                           timeout=5)


def next_event(srv: TrialServer, timeout: float = 5.0) -> Event:
    return srv.events.get(timeout=timeout)  # type: ignore[attr-defined]


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Whether the other end closes ``sock`` within ``timeout`` (anything sent is discarded)."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def assert_still_serves(srv: TrialServer) -> None:
    """A well-behaved executor still gets through and its requests reach the driver loop."""
    sock = executor(srv)
    try:
        channel.send(sock, {"op": "next", "result": None})
        event = next_event(srv)
        assert event.kind == "next" and event.conn is not None
        event.conn.replies.put({"op": "stop"})
        assert channel.recv(sock) == {"op": "stop"}
    finally:
        sock.close()
    assert next_event(srv).kind == "lost"  # the stopped task's connection ended


def test_server_binds_to_loopback_only(server):
    assert server._sock.getsockname()[0] == "127.0.0.1"


def test_local_experiments_bind_to_loopback(spark):
    backend = SparkContextBackend(spark, group="g", description="d")
    assert backend.bind_address() == "127.0.0.1" and backend.advertised_address() == "127.0.0.1"


def test_holder_of_the_secret_is_served(server):
    assert_still_serves(server)
    assert server.rejected == 0


def test_wrong_secret_is_refused(server):
    with pytest.raises((EOFError, ChannelError, ConnectionResetError)):
        executor(server, secret=channel.new_secret())
    deadline = time.monotonic() + 5
    while server.rejected == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.rejected == 1
    with pytest.raises(queue.Empty):  # nothing reached the driver loop
        next_event(server, timeout=0.2)
    assert_still_serves(server)


def test_replayed_mac_is_refused(server):
    # a MAC seen on the wire is worthless: every connection gets a fresh nonce
    first = socket.create_connection(("127.0.0.1", server.port))
    nonce = channel.recv(first)["nonce"]
    channel.send(first, {"op": "hello", "mac": channel.mac(SECRET, nonce)})
    assert channel.recv(first) == {"op": "ok"}
    second = socket.create_connection(("127.0.0.1", server.port))
    assert channel.recv(second)["nonce"] != nonce
    channel.send(second, {"op": "hello", "mac": channel.mac(SECRET, nonce)})
    assert closed_by_peer(second)
    first.close()
    second.close()


def test_silent_client_is_dropped_after_the_handshake_timeout_without_blocking_others(server):
    silent = socket.create_connection(("127.0.0.1", server.port))
    started = time.monotonic()
    assert "nonce" in channel.recv(silent)  # it got the challenge and never answers
    assert_still_serves(server)  # meanwhile others are served at once
    assert time.monotonic() - started < server._handshake_timeout
    assert closed_by_peer(silent, timeout=5)
    assert time.monotonic() - started >= server._handshake_timeout * 0.9
    assert server.rejected == 1
    silent.close()


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


BAD_FRAMES = {
    "malformed JSON": frame(b'{"op": "next", '),
    "not UTF-8": frame(b"\xff\xfe\x00"),
    "a JSON list": frame(b'["next"]'),
    "a JSON string": frame(b'"next"'),
    "unknown op": frame(b'{"op": "shutdown"}'),
    "no op": frame(b'{"result": null}'),
    "length header over 16 MiB": struct.pack(">I", channel.MAX_FRAME + 1),
    "length header of 4 GiB": b"\xff\xff\xff\xff",
    "HTTP instead of frames": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("bad", list(BAD_FRAMES), ids=list(BAD_FRAMES))
def test_authenticated_garbage_drops_only_that_connection(server, bad):
    other = executor(server)  # an innocent task, connected before the garbage
    sock = executor(server)
    sock.sendall(BAD_FRAMES[bad])
    assert closed_by_peer(sock)
    lost = next_event(server)
    assert lost.kind == "lost"  # the driver loop hears of it (no trial was running on it)
    channel.send(other, {"op": "next", "result": None})  # the innocent is unaffected
    event = next_event(server)
    assert event.kind == "next"
    event.conn.replies.put({"op": "stop"})
    assert channel.recv(other) == {"op": "stop"}
    other.close()
    next_event(server)
    assert_still_serves(server)


@pytest.mark.parametrize("bad", ["malformed JSON", "a JSON list", "length header of 4 GiB",
                                 "HTTP instead of frames"])
def test_garbage_before_authentication_is_refused(server, bad):
    sock = socket.create_connection(("127.0.0.1", server.port))
    channel.recv(sock)
    sock.sendall(BAD_FRAMES[bad])
    assert closed_by_peer(sock)
    assert server.rejected == 1
    assert_still_serves(server)


def test_oversized_hello_is_refused_before_reading_it(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    channel.recv(sock)
    sock.sendall(struct.pack(">I", 64 * 1024 + 1))  # the hello limit is 64 KiB, body never sent
    assert closed_by_peer(sock)
    assert server.rejected == 1


def test_sender_refuses_oversized_messages():
    a, b = socket.socketpair()
    with pytest.raises(ChannelError, match="larger than the 16,777,216-byte limit"):
        channel.send(a, {"op": "next", "result": {"blob": "x" * channel.MAX_FRAME}})
    a.close()
    b.close()


# -- a running experiment ---------------------------------------------------------------------
def slow_trial(i):
    time.sleep(0.7)
    return float(i)


def test_garbage_while_trials_run_does_not_disturb_the_experiment(spark, root, monkeypatch):
    servers: list[TrialServer] = []

    class Recorded(TrialServer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            servers.append(self)

    monkeypatch.setattr(driver, "TrialServer", Recorded)
    attacks: list[str] = []

    def attack():
        deadline = time.monotonic() + 20
        while not servers and time.monotonic() < deadline:
            time.sleep(0.01)
        port = servers[0].port
        silent = socket.create_connection(("127.0.0.1", port))  # never answers (30 s timeout)
        for name in ["malformed JSON", "a JSON list", "length header of 4 GiB", "HTTP instead of frames"]:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                channel.recv(sock)
                sock.sendall(BAD_FRAMES[name])
                attacks.append(name if closed_by_peer(sock) else f"{name}: NOT CLOSED")
        try:
            channel.connect("127.0.0.1", port, channel.new_secret(), {}, timeout=5)
        except (EOFError, ChannelError, OSError):
            attacks.append("wrong secret")
        silent.close()

    attacker = threading.Thread(target=attack)
    attacker.start()
    started = time.monotonic()
    res = experiment.grid_search(spark, slow_trial, {"i": list(range(6))}, root=root, name="attacked")
    attacker.join()
    assert attacks == ["malformed JSON", "a JSON list", "length header of 4 GiB",
                       "HTTP instead of frames", "wrong secret"]
    assert servers[0].rejected >= 5
    assert [t.status for t in res.trials] == ["complete"] * 6
    assert [t.metric for t in res.trials] == [float(i) for i in range(6)]
    assert time.monotonic() - started < 20  # the silent client held nothing up


# -- paths -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, lands_in", [
    ("../../x", "x_1"),
    ("/etc/passwd", "etc-passwd_1"),
    ("a/../../b", "a-..-..-b_1"),  # one directory name, dots and all
    ("~root/.ssh", "root-.ssh_1"),
    ("..\\..\\win", "win_1"),
])
def test_experiment_names_cannot_leave_the_project_root(spark, root, tmp_path, name, lands_in):
    before = sorted(p for p in tmp_path.rglob("*"))
    res = experiment.launch(spark, lambda: 1.0, name=name, root=root)
    assert res.path == root + "Experiments/" + lands_in
    created = [p for p in tmp_path.rglob("*") if p not in before]
    assert created and all(str(p).startswith(root) for p in created)


def writes_outside(where):
    try:
        hdfs.dump("pwned", where)
    except ConfigError as exc:
        return {"refused": 1.0, "why": str(exc)}
    return {"refused": 0.0, "why": ""}


@pytest.mark.parametrize("where", ["../../outside.txt", "a/../../outside.txt", "/tmp/outside.txt",
                                   "file:///tmp/outside.txt"])
def test_trials_cannot_write_outside_the_root_unless_allowed(spark, root, where):
    res = experiment.launch(spark, writes_outside, {"where": where}, root=root, metric="refused")
    (trial,) = res.trials
    assert trial.outputs["refused"] == 1.0, trial
    assert where in trial.outputs["why"] and "allow_outside=True" in trial.outputs["why"]
    assert not os.path.exists(os.path.join(os.path.dirname(root.rstrip("/")), "outside.txt"))


def test_allow_outside_is_explicit(spark, root, tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKEXP_PROJECT_ROOT", root)
    target = tmp_path / "allowed.txt"
    hdfs.dump("ok", str(target), allow_outside=True)
    assert target.read_text() == "ok"


# -- no shells -------------------------------------------------------------------------------
def test_no_shell_runs_user_controlled_strings():
    package = Path(__file__).resolve().parents[2] / "sparkexp"
    risky = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|subprocess\.(getoutput|getstatusoutput)\(|"
                       r"pty\.spawn\(|commands\.")
    found = []
    for path in package.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if risky.search(line):
                found.append(f"{path.relative_to(package.parent)}:{number}: {line.strip()}")
    assert found == []
    # and subprocess is only called with an argument list
    for path in package.rglob("*.py"):
        text = path.read_text()
        for call in re.finditer(r"subprocess\.(run|Popen|call|check_output|check_call)\(\s*([^,\)]*)", text):
            first = call.group(2).strip()
            # a list literal, or a name bound to a list of arguments in that module
            assert first.startswith("[") or re.search(
                rf"\b{re.escape(first)}(: list\[str\]| = \[)", text), \
                f"{path}: {call.group(0)}"


def test_journal_messages_are_json_not_pickle(server):
    # a peer past authentication can only send JSON data, never code to unpickle
    sock = executor(server)
    payload = json.dumps({"op": "next", "result": {"__reduce__": "os.system"}}).encode()
    sock.sendall(frame(payload))
    event = next_event(server)
    assert event.payload == {"op": "next", "result": {"__reduce__": "os.system"}}
    event.conn.replies.put({"op": "stop"})
    sock.close()


def test_roles_do_not_mix():
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    control = channel.new_secret()
    srv = TrialServer(SECRET, events, control_secret=control, handshake_timeout=0.5)
    try:
        # the executors' secret does not open the control role, nor the control token the worker role
        for role, secret in (("control", SECRET), ("worker", control)):
            with pytest.raises((EOFError, ChannelError, ConnectionResetError)):
                channel.connect("127.0.0.1", srv.port, secret, {"role": role}, timeout=5)
        # an executor cannot send control operations
        sock = channel.connect("127.0.0.1", srv.port, SECRET, {}, timeout=5)
        channel.send(sock, {"op": "kill"})
        assert closed_by_peer(sock)
        assert events.get(timeout=5).kind == "lost"
        # a control client cannot ask for trials
        sock = channel.connect("127.0.0.1", srv.port, control, {"role": "control"}, timeout=5)
        channel.send(sock, {"op": "next", "result": None})
        assert closed_by_peer(sock)
        assert events.get(timeout=5).kind == "lost"
        assert srv.rejected == 2
    finally:
        srv.close()
