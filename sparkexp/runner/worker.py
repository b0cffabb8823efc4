"""What runs on executors: a long-lived task that pulls trials from the driver and runs them.

One Spark task per slot connects to the driver's channel and loops: send the last result,
receive the next trial, run it, until the driver says stop. The Python worker and the
unpickled training function are reused for every trial the task runs. Exceptions from the
function are caught here and returned as values, so Spark's own task retries are left for
lost executors.

The task's parts live beside it: its connection to the driver (:mod:`~sparkexp.runner.link`),
the trial's output capture (:mod:`~sparkexp.runner.trial_output`, over
:mod:`~sparkexp.runner.capture`), and the background thread for end-of-trial work
(:mod:`~sparkexp.runner.deferred`). This module is the loop and one trial's life.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sparkexp.checkpoint import DEFAULT_KEEP, TrialCheckpoints
from sparkexp.context import TrialContext, using
from sparkexp.errors import ConfigError, MetricChoiceError, TrialError
from sparkexp.fs import filesystem_for
from sparkexp.outputs import interpret
from sparkexp.runner import logdirs
from sparkexp.runner.capture import ProcessCapture
from sparkexp.runner.deferred import Deferred
from sparkexp.runner.link import DriverLink, connect_driver
from sparkexp.runner.messages import NextRequest, ReportRequest, stop_cause
from sparkexp.runner.trial_output import captured_output, json_metrics_line
from sparkexp.status import TrialStatus
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



class _Once:
    """Calls ``fn`` the first time it is called (a trial folder made on first use)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn: Callable[[], None] | None = fn

    def __call__(self) -> None:
        if self._fn is not None:
            self._fn()
            self._fn = None


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


def run_trial(spec: TaskSpec, trial: dict[str, Any], identity: dict[str, Any],
              link: DriverLink | None = None, deferred: Deferred | None = None) -> dict[str, Any]:
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
            return link.cancelled[tid].reason
        reply = link.request(ReportRequest(tid, json_safe(report)).to_wire())
        stop = reply.get("stop")
        if stop:
            link.stopped(tid, str(stop), stop_cause(reply))
            return str(stop)
        cancelled = link.cancelled.get(tid)
        return cancelled.reason if cancelled is not None else None

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
        with (captured_output(logdir, fs.scheme == "file", spec.echo_output, on_stdout_line,
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
        stop = link.cancelled.get(tid) if link is not None else None
        reason = exc.reason if isinstance(exc, TrialStopped) else (stop.reason if stop else None)
        if reason is None:
            raise  # a real KeyboardInterrupt of the worker, not a cancellation
        # timeout or stopped: from the driver's stop cause, never from the reason's words
        cause = stop.cause if stop is not None else None
        result.update(status=str(cause.status if cause is not None else TrialStatus.STOPPED),
                      error=f"stopped: {reason}")
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
    link = DriverLink(sock)
    deferred = Deferred()
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
