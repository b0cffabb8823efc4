"""What runs on executors: a long-lived task that pulls trials from the driver and runs them.

One Spark task per slot connects to the driver's channel and loops: send the last result,
receive the next trial, run it, until the driver says stop. The Python worker and the
unpickled training function are reused for every trial the task runs. Exceptions from the
function are caught here and returned as values, so Spark's own task retries are left for
lost executors.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import io
import json
import os
import queue
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sparkexp.checkpoint import DEFAULT_KEEP, TrialCheckpoints
from sparkexp.context import TrialContext, using
from sparkexp.errors import (
    ChannelError,
    ConfigError,
    DriverUnreachable,
    MetricChoiceError,
    TrialError,
)
from sparkexp.fs import filesystem_for
from sparkexp.outputs import interpret
from sparkexp.runner import channel, logdirs
from sparkexp.runner.capture import ProcessCapture
from sparkexp.runner.messages import NextRequest, ReportRequest
from sparkexp.store import json_safe

__all__ = ["TaskSpec", "connect_driver", "run_task", "run_trial", "executor_identity", "takes_reporter"]


@dataclass(frozen=True)
class TaskSpec:
    """Everything a task needs, shipped to executors inside the Spark closure."""

    host: str
    port: int
    secret: str
    fn: Callable[..., Any]
    metric: str | list[str] | None
    project_root: str
    experiment_path: str
    #: True: echo trial output live; "tail": the last lines when a trial ends; False: none
    echo_output: bool | str = True
    inject_reporter: bool = False
    #: trials write TensorBoard files locally; copied into the trial folder (runner.logdirs)
    local_logdir: bool = False
    #: seconds a task keeps trying to reach the driver before giving up (DriverUnreachable)
    connect_timeout: float = 30.0
    #: a function returning None completes without a metric (hops' launch) instead of failing
    metric_optional: bool = False


def executor_identity() -> dict[str, Any]:
    """Host, executor id and process id of this Python worker."""
    executor = os.environ.get("SPARK_EXECUTOR_ID") or _executor_from_workdir(os.getcwd())
    return {"host": socket.gethostname(), "executor": executor, "pid": os.getpid()}


def _executor_from_workdir(cwd: str) -> str:
    """The executor id in a standalone/YARN executor's work dir, ``.../<app-id>/<executor-id>``
    (a Spark Connect session's Python workers run one level deeper, in the session's artifact
    directory), else ``driver``.

    >>> _executor_from_workdir("/work/app-20261130185753-0000/1")
    '1'
    >>> _executor_from_workdir("/work/app-20261130185753-0000/1/f3f6e5d2-e037-4089-a2e9-b8f550c8729b")
    '1'
    >>> _executor_from_workdir("/home/ana/notebooks")
    'driver'
    """
    parts = cwd.rstrip("/").split("/")
    for i in range(len(parts) - 1, 0, -1):
        app = parts[i - 1]
        if parts[i].isdigit() and (app.startswith("app-") or app.startswith("application_")):
            return parts[i]
    return "driver"


class _LineTee(io.TextIOBase):
    """A trial's stdout or stderr: writes to a log file (opened on first write), echoes the text
    to the worker's own stream (``echo``), keeps the last lines for a bounded echo (``tail``),
    and hands every complete line written from Python to ``on_line`` (metrics printed as JSON).

    Written from the trial's threads and from the fd reader threads, so writes are serialised.
    """

    def __init__(self, path: str, echo: TextIO | None,
                 on_line: Callable[[str], None] | None = None,
                 before_open: Callable[[], None] | None = None, *, tail: int = 0) -> None:
        self._path = path
        self._before_open = before_open
        self._log: TextIO | None = None
        self._echo = echo
        self._on_line = on_line
        self._partial = ""
        self._lock = threading.RLock()
        self.tail: collections.deque[str] | None = collections.deque(maxlen=tail) if tail else None
        self._tail_partial = ""
        #: complete lines written so far
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write_raw(self, s: str) -> None:
        """Write ``s`` to the log and the echo only (text from fds 1/2: no metrics parsing)."""
        with self._lock:
            if self.closed:
                return
            if self._log is None:
                if self._before_open is not None:
                    self._before_open()
                self._log = open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._log.write(s)
            if self._echo is not None:
                try:
                    self._echo.write(s)
                except (OSError, ValueError):
                    self._echo = None
            self.lines += s.count("\n")
            if self.tail is not None:
                *done, self._tail_partial = (self._tail_partial + s).split("\n")
                self.tail.extend(done)
                self._tail_partial = self._tail_partial[-4096:]

    def write(self, s: str) -> int:
        self.write_raw(s)
        if self._on_line is not None:
            text = self._partial + s
            if "\n" not in s:
                # print() writes the text and its newline separately; cap a runaway line
                self._partial = text if len(text) < 1 << 20 else ""
            else:
                *lines, self._partial = text.split("\n")
                for line in lines:
                    self._on_line(line)  # may raise TrialStopped, as reporter.log does
        return len(s)

    def flush(self) -> None:
        with self._lock:
            if self._log is not None and not self._log.closed:
                self._log.flush()
            if self._echo is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._echo.flush()

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                super().close()  # flushes first
                if self._log is not None:
                    self._log.close()
                if self.tail is not None and self._tail_partial:
                    self.tail.append(self._tail_partial)
                    self.lines += 1

    @property
    def written(self) -> bool:
        return self._log is not None


def json_metrics_line(line: str) -> dict[str, Any] | None:
    """The metrics of a line that is one JSON object (Valohai-style), else None.

    >>> json_metrics_line('{"step": 3, "accuracy": 0.9}')
    {'step': 3, 'accuracy': 0.9}
    >>> json_metrics_line("epoch 3: accuracy 0.9") is None
    True
    """
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not any(k not in ("step", "_time") for k in value):
        return None
    return value


def _task_gpus() -> list[str]:
    try:
        from pyspark import TaskContext
    except ImportError:  # pragma: no cover
        return []
    tc = TaskContext.get()
    if tc is None:
        return []
    gpu = tc.resources().get("gpu")
    return list(gpu.addresses) if gpu is not None else []


#: lines of each stream shown for a trial in ``echo_output="tail"`` mode
TAIL_LINES = 5
#: lines of stderr kept to show a failed trial's whole error in ``"tail"`` mode
_FAILED_LINES = 1000
#: characters of one line shown in ``"tail"`` mode
_TAIL_WIDTH = 400


def _tail_block(label: str, index: int, tees: dict[str, _LineTee], failed: bool) -> str:
    """The bounded echo of one finished trial: its last lines, all of stderr when it failed."""
    parts = []
    for name, tee in tees.items():
        lines = list(tee.tail or ())
        show = lines if failed and name == "stderr" else lines[-TAIL_LINES:]
        if not show:
            continue
        shown = f"all {tee.lines}" if len(show) >= tee.lines else f"last {len(show)} of {tee.lines}"
        parts.append(f"--- {label} {name}: {shown} lines (all: result.trials[{index}].{name}()) ---\n")
        for line in show:
            line = line.rsplit("\r", 1)[-1]  # a progress bar redrawn in place: its last state
            parts.append((line if len(line) <= _TAIL_WIDTH else line[:_TAIL_WIDTH] + " ...") + "\n")
    return "".join(parts)


@contextlib.contextmanager
def _captured_output(logdir: str, local: bool, echo: bool | str,
                     on_line: Callable[[str], None] | None = None,
                     create_logdir: Callable[[], None] | None = None,
                     *, label: str = "trial", index: int = 0) -> Iterator[None]:
    """Send everything the trial writes to stdout/stderr (the ``sys`` streams, whoever holds
    them, and fds 1 and 2) to ``stdout.log``/``stderr.log`` in its logdir.

    ``echo``: True also copies the output to the worker's own stdout/stderr as it comes;
    ``"tail"`` shows only the last lines of each stream when the trial ends (all of stderr if it
    failed); False shows nothing. An exception leaving the block is written to ``stderr.log``.
    A log file exists only if the trial wrote to that stream (``create_logdir`` is called
    before the first one is opened or uploaded). On a remote filesystem the logs are written
    to a local temporary directory and uploaded when the trial ends.
    """
    import tempfile

    from sparkexp.reporter import TrialStopped

    capture = ProcessCapture.install()
    target = logdir if local else tempfile.mkdtemp(prefix="sparkexp-logs-")
    opener = create_logdir if local else None
    live = echo is True
    tail = _FAILED_LINES if echo == "tail" else 0
    out = _LineTee(os.path.join(target, "stdout.log"), capture.original(1) if live else None,
                   on_line, opener, tail=tail)
    err = _LineTee(os.path.join(target, "stderr.log"), capture.original(2) if live else None,
                   None, opener, tail=tail)
    failed = False
    try:
        with capture.routing(out, err):
            try:
                yield
            except (TrialStopped, KeyboardInterrupt):
                raise
            except TrialError as exc:
                failed = True
                err.write_raw(f"TrialError: {exc}\n")
                raise
            except BaseException as exc:
                failed = True
                err.write_raw("".join(traceback.format_exception(exc)))
                raise
    finally:
        out.close()
        err.close()
        if tail:
            block = _tail_block(label, index, {"stdout": out, "stderr": err}, failed)
            if block:
                with contextlib.suppress(OSError, ValueError):
                    capture.original(1).write(block)
        if not local:
            fs = filesystem_for(logdir)
            if create_logdir is not None and (out.written or err.written):
                create_logdir()
            for tee, name in ((out, "stdout.log"), (err, "stderr.log")):
                if tee.written:
                    fs.upload(os.path.join(target, name), fs.join(logdir, name))
            import shutil

            shutil.rmtree(target, ignore_errors=True)


class _Link:
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
        self.cancelled: dict[str, str] = {}
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
            self._cancel(str(message.get("id")), str(message.get("reason") or "cancelled"))
        else:
            self._replies.put(message)

    def _cancel(self, trial: str, reason: str) -> None:
        with self._lock:
            self.cancelled[trial] = reason
            if self._running == trial and self._can_interrupt:
                signal.pthread_kill(self._thread_id, signal.SIGINT)

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


class _Once:
    """Calls ``fn`` the first time it is called (a trial folder made on first use)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn: Callable[[], None] | None = fn

    def __call__(self) -> None:
        if self._fn is not None:
            self._fn()
            self._fn = None


def _stop_status(reason: str) -> str:
    return "timeout" if reason.startswith("timeout") else "stopped"


class _Scalars:
    """Writes reported metrics to the trial's logdir as TensorBoard scalars (lazily).

    Its own event file (suffix ``.reporter``: a writer the trial opened in the same second has
    the same name otherwise), flushed at most every ``flush_secs`` and when the trial ends.
    """

    flush_secs = 5.0

    def __init__(self, logdir: str) -> None:
        self._logdir = logdir
        self._writer: Any = None
        self._flushed = 0.0

    def __call__(self, name: str, value: float, step: int) -> None:
        from sparkexp.tensorboard import _events

        if self._writer is None:
            self._writer = _events.EventWriter(self._logdir, suffix=".reporter", create=True)
        self._writer.write(_events.scalar_event(name, value, step=step))
        now = time.monotonic()
        if now - self._flushed >= self.flush_secs:
            self._writer.flush()
            self._flushed = now

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def takes_reporter(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "reporter" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _Deferred:
    """A task's background thread for work that must not delay the next trial (the trial's
    TensorBoard HParams file: a file create and an fsync per trial). Drained when the task ends.

    Jobs start only while the gate is open: the runner opens it while a trial's function runs
    and shuts it between trials, so the work never competes for the GIL with the round trip
    that fetches the next trial (measured: it doubled that round trip on 2 cores). Trials too
    short to leave it time would let the work pile up (and all be done at the end), so past
    ``backlog`` waiting jobs the gate is ignored.
    """

    #: waiting jobs past which they run whether or not a trial is running
    backlog = 4

    def __init__(self) -> None:
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()
        self._cond = threading.Condition()
        self._open = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sparkexp-deferred", daemon=True)
        self._thread.start()

    def _may_run(self) -> bool:
        return self._open or self._closing or len(self._jobs) > self.backlog

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: (self._jobs and self._may_run()) or
                                    (self._closing and not self._jobs))
                if not self._jobs:
                    return  # closing, everything done
                job = self._jobs.popleft()
            with contextlib.suppress(Exception):
                job()

    @contextlib.contextmanager
    def open_while(self) -> Iterator[None]:
        """Let queued jobs start during the block (a trial's function call)."""
        with self._cond:
            self._open = True
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._open = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.append(job)
            if self._may_run():
                self._cond.notify()

    def close(self, timeout: float = 60.0) -> None:
        """Run every queued job, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)


def run_trial(spec: TaskSpec, trial: dict[str, Any], identity: dict[str, Any],
              link: _Link | None = None, deferred: _Deferred | None = None) -> dict[str, Any]:
    """Run the function on one trial's params; always returns a result message, never raises
    (except ``KeyboardInterrupt`` that was not a cancellation)."""
    from sparkexp.reporter import Reporter, TrialStopped

    tid: str = trial["id"]
    logdir: str = trial["logdir"]
    fs = filesystem_for(logdir)
    gpus = [str(g) for g in trial["gpus"]] if trial.get("gpus") is not None else _task_gpus()
    result: dict[str, Any] = {"id": tid, "gpus": gpus, **identity}
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    # TensorBoard files: the trial folder, or a local directory copied there (local_logdir)
    create_logdir = _Once(functools.partial(fs.mkdirs, logdir))
    local_tb = logdirs.LocalLogdir(logdir) if spec.local_logdir else None
    tb_logdir = local_tb.path if local_tb is not None else logdir
    scalars = _Scalars(tb_logdir)

    def send(report: dict[str, Any]) -> str | None:
        if link is None:
            return None
        if tid in link.cancelled:
            return link.cancelled[tid]
        reply = link.request(ReportRequest(tid, json_safe(report)).to_wire())
        stop = reply.get("stop")
        return str(stop) if stop else link.cancelled.get(tid)

    def notify_checkpoint(record: dict[str, Any]) -> None:
        if link is not None:
            link.request({"op": "checkpoint", "id": tid, "checkpoint": json_safe(record)})

    options = trial.get("checkpoints") or {}
    book = TrialCheckpoints(logdir, keep=int(options.get("keep") or DEFAULT_KEEP),
                            start_from=options.get("from"), notify=notify_checkpoint)
    reporter = Reporter(send, scalars, book)

    def on_stdout_line(line: str) -> None:
        metrics = json_metrics_line(line)
        if metrics is not None:
            step = metrics.pop("step", None)
            metrics.pop("_time", None)
            with contextlib.suppress(ConfigError):
                reporter.log(step, **metrics)

    ctx = TrialContext(
        trial_id=tid,
        index=int(trial["index"]),
        params=trial["params"],
        logdir=tb_logdir,
        project_root=spec.project_root,
        experiment_path=spec.experiment_path,
        gpus=gpus,
        reporter=reporter,
        # the trial folder (local logdir: its local directory always exists) is made on first
        # use: most short trials never need it before the driver writes trial.json there
        create_logdir=None if local_tb is not None else create_logdir,
    )
    kwargs = dict(trial["params"])
    if spec.inject_reporter:
        kwargs["reporter"] = reporter
    started = time.time()
    value: Any = None
    try:
        if fs.scheme != "file":
            from sparkexp.fs._tbwriter import register_tensorboardx_schemes

            register_tensorboardx_schemes(lazy=True)  # never imports tensorboardX itself
        if local_tb is not None:
            create_logdir()  # copies go there from the start
            local_tb.start()
        with (_captured_output(logdir, fs.scheme == "file", spec.echo_output, on_stdout_line,
                               create_logdir, label=tid, index=ctx.index),
              using(ctx)):
            started = time.time()
            with (link.running(tid) if link is not None else contextlib.nullcontext(),
                  deferred.open_while() if deferred is not None else contextlib.nullcontext()):
                value = spec.fn(**kwargs)
            finished = time.time()
            if value is None and reporter.last:
                value = {k: v for k, v in reporter.last.items() if k not in ("step", "_time")}
            # inside the capture: a result that cannot be used is explained in stderr.log too
            if value is None and spec.metric_optional:
                result.update(status="complete", metric=None, outputs={})
            else:
                outputs, metric, name = interpret(value, spec.metric)
                result.update(status="complete", metric=metric, outputs=outputs, metric_name=name)
    except (TrialStopped, KeyboardInterrupt) as exc:
        finished = time.time()
        reason = exc.reason if isinstance(exc, TrialStopped) else (link.cancelled.get(tid) if link else None)
        if reason is None:
            raise  # a real KeyboardInterrupt of the worker, not a cancellation
        result.update(status=_stop_status(reason), error=f"stopped: {reason}")
        last = {k: v for k, v in reporter.last.items() if k not in ("step", "_time")}
        if last:
            with contextlib.suppress(TrialError):
                outputs, metric, name = interpret(last, spec.metric)
                result.update(metric=metric, outputs=outputs, metric_name=name)
    except TrialError as exc:
        finished = time.time()
        result.update(status="error", error=f"TrialError: {exc}")
        if isinstance(exc, MetricChoiceError):
            # every trial would fail the same way: keep what this one returned, stop the rest
            result.update(outputs=json_safe(exc.outputs), fatal=str(exc))
    except BaseException as exc:  # noqa: BLE001 - the trial's failure is a result, not a task failure
        finished = time.time()
        result.update(status="error", error="".join(traceback.format_exception(exc)))
    finally:
        with contextlib.suppress(Exception):
            scalars.close()
        # TensorBoard HParams of the trial, then the last copy of a local logdir; never raises
        finish = functools.partial(logdirs.finish, tb_logdir, trial["params"], dict(result),
                                   started=started, step=reporter.last.get("step"), local=local_tb,
                                   rerun=int(trial.get("attempt") or 1) > 1)
        if deferred is not None and local_tb is None:
            deferred.submit(finish)  # off the path to the next trial
        else:
            finish()  # a local logdir's last copy must follow its HParams before we go on
        if link is not None:
            link.cancelled.pop(tid, None)
        book.cleanup()
    if book.restored is not None:
        result["restored"] = book.restored
    result.update(started=started, finished=finished)
    return result


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


def run_task(spec: TaskSpec, partition: int, iterator: Iterable[Any], *, slot: int | None = None
             ) -> Iterator[int]:
    """The body of one long-lived Spark task (``rdd.mapPartitionsWithIndex``) serving ``slot``."""
    for _ in iterator:  # consume the input so PySpark keeps (reuses) this Python worker
        pass
    identity = executor_identity()
    task = None
    try:
        from pyspark import TaskContext

        tc = TaskContext.get()
        task = tc.taskAttemptId() if tc is not None else None
    except ImportError:  # pragma: no cover
        pass
    sock = connect_driver(spec, {"slot": partition if slot is None else slot, "task": task, **identity})
    link = _Link(sock)
    deferred = _Deferred()
    done = 0
    # fds 1 and 2 go through the capture for the task's life (native code, child processes)
    fds = ProcessCapture.install().fds()
    fds.__enter__()
    try:
        result: dict[str, Any] | None = None
        while True:
            message = link.request(NextRequest(result).to_wire())
            if message.get("op") != "trial":
                break
            result = run_trial(spec, message, identity, link, deferred)
            done += 1
    finally:
        fds.__exit__(None, None, None)
        deferred.close()
        link.close()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    yield done
