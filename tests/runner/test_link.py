"""The slot task's side of the channel (no Spark): requests between trials, cancellations pushed
while a trial runs (noted, and a KeyboardInterrupt in the trial's thread), replies to reports
during a trial, a driver going away, and reaching the driver at all.

A trial stopped through it by cause and reason: tests/runner/test_worker.py; the driver's
server: tests/runner/test_security.py.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from sparkexp.errors import ChannelError, DriverUnreachable
from sparkexp.runner import channel
from sparkexp.runner.link import DriverLink, TrialStop, connect_driver
from sparkexp.runner.messages import Cancel
from sparkexp.runner.server import Event, TrialServer
from sparkexp.runner.worker import TaskSpec
from sparkexp.status import StopCause

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def ends() -> Iterator[tuple[DriverLink, socket.socket]]:
    """A link over a real socket pair; the test plays the driver on the other end."""
    task_end, driver_end = socket.socketpair()
    driver_end.settimeout(10)
    link = DriverLink(task_end)
    yield link, driver_end
    link.close()
    task_end.close()
    driver_end.close()


def later(seconds: float, action) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_request_gets_its_reply_and_cancels_for_ended_trials_are_only_noted(ends):
    link, driver = ends
    channel.send(driver, Cancel("trial_00001", "timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT).to_wire())
    channel.send(driver, {"op": "trial", "id": "trial_00002"})
    assert link.request({"op": "next", "result": None}) == {"op": "trial", "id": "trial_00002"}
    assert channel.recv(driver) == {"op": "next", "result": None}
    assert link.cancelled == {"trial_00001": TrialStop("timeout (trial over 5s)", StopCause.TRIAL_TIMEOUT)}


@pytest.fixture()
def executor_sigint():
    """Python's own SIGINT handler, as in PySpark's Python workers (a driver's SparkContext in
    this test process installs its own, and a link then never interrupts)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_cancel_interrupts_the_running_trial_in_its_thread(executor_sigint):
    """PySpark runs the function in the worker's main thread with Python's SIGINT handler."""
    task_end, driver = socket.socketpair()
    link = DriverLink(task_end)
    cause = StopCause.EARLY_STOPPING
    later(0.2, lambda: channel.send(driver, Cancel("trial_00003", "early stopping", cause).to_wire()))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), link.running("trial_00003"):
        time.sleep(20)  # a trial blocked in a call
    assert time.monotonic() - started < 5
    assert link.cancelled["trial_00003"] == TrialStop("early stopping", cause)
    link.close()
    task_end.close()
    driver.close()


def test_a_cancel_for_another_trial_does_not_interrupt_the_running_one(ends):
    link, driver = ends
    later(0.1, lambda: channel.send(driver, {"op": "cancel", "id": "trial_00009", "reason": "", "cause": "??"}))
    with link.running("trial_00004"):
        deadline = time.monotonic() + 10
        while "trial_00009" not in link.cancelled:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    # no reason given: "cancelled"; a cause this version does not know: None
    assert link.cancelled["trial_00009"] == TrialStop("cancelled", None)


def test_a_link_outside_the_main_thread_notes_the_cancel_without_interrupting(ends):
    _, driver = ends
    task_end, driver_end = socket.socketpair()
    made: list[DriverLink] = []
    thread = threading.Thread(target=lambda: made.append(DriverLink(task_end)))
    thread.start()
    thread.join(10)
    link = made[0]
    try:
        channel.send(driver_end, Cancel("trial_00005", "killed (sparkexp kill)", StopCause.KILL).to_wire())
        with link.running("trial_00005"):
            deadline = time.monotonic() + 10
            while "trial_00005" not in link.cancelled:  # noted; this thread goes on undisturbed
                assert time.monotonic() < deadline
                time.sleep(0.01)
        assert link.cancelled["trial_00005"].cause is StopCause.KILL
    finally:
        link.close()
        task_end.close()
        driver_end.close()


def test_a_report_during_the_trial_gets_its_answer_from_the_watcher(ends):
    link, driver = ends

    def answer() -> None:
        request = channel.recv(driver)
        channel.send(driver, {"op": "ok", "echo": request["r"]["step"]})

    later(0, answer)
    with link.running("trial_00006"):
        reply = link.request({"op": "report", "id": "trial_00006", "r": {"step": 7, "loss": 0.1}})
    assert reply == {"op": "ok", "echo": 7}
    # after the trial, its own thread reads again
    later(0, lambda: channel.send(driver, {"op": "stop"}) if channel.recv(driver) else None)
    assert link.request({"op": "next", "result": None}) == {"op": "stop"}


def test_stopped_notes_the_answer_to_a_report_but_a_cancel_noted_first_stands(ends):
    link, _ = ends
    link.stopped("trial_00007", "early stopping", StopCause.EARLY_STOPPING)
    assert link.cancelled["trial_00007"] == TrialStop("early stopping", StopCause.EARLY_STOPPING)
    link.stopped("trial_00007", "killed", StopCause.KILL)
    assert link.cancelled["trial_00007"].cause is StopCause.EARLY_STOPPING


def test_a_driver_going_away_ends_requests_between_and_during_trials():
    for during in (False, True):
        task_end, driver_end = socket.socketpair()
        link = DriverLink(task_end)
        try:
            later(0.1, lambda d=driver_end: (channel.recv(d), d.close()))
            with pytest.raises(EOFError, match="driver connection closed"):
                if during:
                    with link.running("trial_00008"):
                        link.request({"op": "report", "id": "trial_00008", "r": {"step": 1}})
                else:
                    link.request({"op": "next", "result": None})
        finally:
            link.close()
            task_end.close()


# -- reaching the driver ---------------------------------------------------------------------

SECRET = channel.new_secret()


def spec(port: int, *, secret: str = SECRET, connect_timeout: float = 10.0) -> TaskSpec:
    return TaskSpec(host="127.0.0.1", port=port, secret=secret, fn=len, metric=None,
                    project_root="/tmp/", experiment_path="/tmp/Experiments/x_1",
                    connect_timeout=connect_timeout)


def free_port() -> int:
    sock = socket.create_server(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_a_task_waits_for_a_driver_that_is_not_listening_yet():
    import queue

    port = free_port()
    servers: list[TrialServer] = []
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    later(1.2, lambda: servers.append(TrialServer(SECRET, events, port=port)))
    try:
        sock = connect_driver(spec(port), {"host": "h", "executor": "1", "pid": 9})
        sock.close()
    finally:
        for server in servers:
            server.close()
    assert servers


def test_an_unreachable_driver_is_named_once_the_time_is_up():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(DriverUnreachable, match=rf"executor 4 on h9 could not reach the sparkexp driver at "
                                                rf"127.0.0.1:{port} within \d+ s"):
        connect_driver(spec(port, connect_timeout=1.5), {"host": "h9", "executor": "4"})
    assert 1.0 <= time.monotonic() - started < 10


def test_a_driver_refusing_the_secret_is_a_channel_error_at_once_not_a_retry():
    import queue

    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    server = TrialServer(SECRET, events, handshake_timeout=5)
    try:
        started = time.monotonic()
        with pytest.raises(ChannelError, match="refused"):
            connect_driver(spec(server.port, secret=channel.new_secret(), connect_timeout=20), {})
        assert time.monotonic() - started < 5  # not retried until the 20 s deadline
    finally:
        server.close()
