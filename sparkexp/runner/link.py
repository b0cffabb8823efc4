"""The slot task's connection to the driver: requests between trials, cancellations during one.

:func:`connect_driver` opens the authenticated channel (retrying while the driver is not yet
reachable); :class:`DriverLink` carries the task's requests and, while a trial's function
runs, turns the driver's unsolicited ``cancel`` messages into a stop of that trial.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from sparkexp.errors import ChannelError, DriverUnreachable
from sparkexp.runner import channel
from sparkexp.runner.messages import stop_cause
from sparkexp.status import StopCause

if TYPE_CHECKING:
    from sparkexp.runner.worker import TaskSpec

__all__ = ["DriverLink", "TrialStop", "connect_driver"]


class TrialStop(NamedTuple):
    """Why the driver stopped a trial: ``reason`` for people, ``cause`` (None: not given) for
    the record (:attr:`~sparkexp.status.StopCause.status`: ``timeout`` or ``stopped``)."""

    reason: str
    cause: StopCause | None


class DriverLink:
    """The task's duplex connection to the driver.

    Between trials the task's thread reads the driver's replies itself (no thread hand-off on
    the path from one trial to the next). While the function runs, a watcher thread reads the
    socket instead: the driver's unsolicited ``cancel`` messages become a stop request for the
    running trial and, where possible, a ``KeyboardInterrupt`` in the trial's thread (PySpark's
    workers keep Python's default SIGINT handler), so even a trial blocked in ``time.sleep``
    stops within milliseconds; replies to ``reporter.log`` are handed to the trial's thread.
    A self-pipe wakes the watcher when the function returns, so it steps aside at once.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._replies: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # held by whoever reads the socket
        self._watch = threading.Event()  # set while the function runs
        self._wake_r, self._wake_w = socket.socketpair()
        # never block on a wake-up: a full buffer already holds one the watcher will see
        self._wake_w.setblocking(False)
        self._running: str | None = None
        self._closed: str | None = None
        #: trial id -> why it must stop (a ``cancel``, or the answer to a report)
        self.cancelled: dict[str, TrialStop] = {}
        self._thread_id = threading.get_ident()
        self._can_interrupt = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        threading.Thread(target=self._watcher, name="sparkexp-link", daemon=True).start()

    def _watcher(self) -> None:
        import select

        while self._closed is None:
            self._watch.wait()
            with self._reading:
                while self._watch.is_set() and self._closed is None:
                    ready, _, _ = select.select([self.sock, self._wake_r], [], [])
                    if self._wake_r in ready:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(65536)
                        continue
                    if not self._watch.is_set():
                        break  # the function returned: its thread reads from here on
                    try:
                        self._dispatch(channel.recv(self.sock))
                    except BaseException as exc:  # noqa: BLE001 - the task thread reports it
                        self._closed = repr(exc)
                        self._replies.put({"op": "closed", "error": self._closed})

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("op") == "cancel":
            self._cancel(str(message.get("id")),
                         TrialStop(str(message.get("reason") or "cancelled"), stop_cause(message)))
        else:
            self._replies.put(message)

    def _cancel(self, trial: str, stop: TrialStop) -> None:
        with self._lock:
            self.cancelled[trial] = stop
            if self._running == trial and self._can_interrupt:
                signal.pthread_kill(self._thread_id, signal.SIGINT)

    def stopped(self, trial: str, reason: str, cause: StopCause | None) -> None:
        """Note that ``trial`` must stop (the answer to its report said so); no interrupt:
        the reporter raises ``TrialStopped`` in the trial itself."""
        with self._lock:
            self.cancelled.setdefault(trial, TrialStop(reason, cause))

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        channel.send(self.sock, message)
        if self._watch.is_set():  # from inside the function (reporter.log): the watcher reads
            reply = self._replies.get()
        else:
            with self._reading:
                while True:
                    try:
                        reply = channel.recv(self.sock)
                    except (EOFError, OSError) as exc:
                        raise EOFError(f"driver connection closed: {exc}") from exc
                    if reply.get("op") != "cancel":
                        break
                    self._dispatch(reply)  # for a trial that already ended: just noted
        if reply.get("op") == "closed":
            raise EOFError(f"driver connection closed: {reply.get('error')}")
        return reply

    @contextlib.contextmanager
    def running(self, trial: str) -> Iterator[None]:
        """Mark ``trial``'s function as running (interruptible) for the block."""
        with self._lock:
            self._running = trial
        self._watch.set()
        try:
            yield
        finally:
            self._watch.clear()
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
            with self._lock:
                self._running = None

    def close(self) -> None:
        self._closed = self._closed or "closed"
        self._watch.set()  # let the watcher thread run to its exit
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")


def connect_driver(spec: TaskSpec, hello: dict[str, Any]) -> socket.socket:
    """Connect to the driver's channel, retrying for up to ``spec.connect_timeout`` seconds.

    Raises:
        DriverUnreachable: no connection within the time (a firewall, an address executors
            cannot route to); the message names the address tried.
        ChannelError: the driver answered but refused the handshake.
    """
    started = time.monotonic()
    deadline = started + spec.connect_timeout
    while True:
        try:
            return channel.connect(spec.host, spec.port, spec.secret, hello,
                                   timeout=max(1.0, deadline - time.monotonic()))
        except ChannelError:
            raise
        except OSError as exc:
            if time.monotonic() + 0.5 >= deadline:
                raise DriverUnreachable(
                    f"executor {hello.get('executor')} on {hello.get('host')} could not reach the "
                    f"sparkexp driver at {spec.host}:{spec.port} within "
                    f"{time.monotonic() - started:.0f} s ({exc})") from exc
            time.sleep(0.5)
