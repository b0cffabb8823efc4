"""What runs on executors: a long-lived task that pulls trials from the driver and runs them.

One Spark task per slot connects to the driver's channel and loops: send the last result,
receive the next trial, run it, until the driver says stop. The Python worker and the
unpickled training function are reused for every trial the task runs. Exceptions from the
function are caught here and returned as values, so Spark's own task retries are left for
lost executors.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sparkexp.context import TrialContext, using
from sparkexp.errors import TrialError
from sparkexp.fs import filesystem_for
from sparkexp.outputs import interpret
from sparkexp.runner import channel

__all__ = ["TaskSpec", "run_task", "executor_identity"]


@dataclass(frozen=True)
class TaskSpec:
    """Everything a task needs, shipped to executors inside the Spark closure."""

    host: str
    port: int
    secret: str
    fn: Callable[..., Any]
    metric: str | None
    project_root: str
    experiment_path: str
    echo_output: bool = True


def executor_identity() -> dict[str, Any]:
    """Host, executor id and process id of this Python worker."""
    executor = os.environ.get("SPARK_EXECUTOR_ID")
    if not executor:
        # standalone/YARN executors run in .../<app-id>/<executor-id>/ (their work dir)
        cwd = os.getcwd()
        parent, leaf = os.path.split(cwd)
        app = os.path.basename(parent)
        if leaf.isdigit() and (app.startswith("app-") or app.startswith("application_")):
            executor = leaf
        else:
            executor = "driver"
    return {"host": socket.gethostname(), "executor": executor, "pid": os.getpid()}


class _LineTee(io.TextIOBase):
    """A text stream that writes to a log file (opened on first write) and echoes the text
    to the original stream."""

    def __init__(self, path: str, echo: TextIO | None) -> None:
        self._path = path
        self._log: TextIO | None = None
        self._echo = echo

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self._log is None:
            self._log = open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._log.write(s)
        if self._echo is not None:
            try:
                self._echo.write(s)
            except (OSError, ValueError):
                self._echo = None
        return len(s)

    def flush(self) -> None:
        if self._log is not None:
            self._log.flush()
        if self._echo is not None:
            with contextlib.suppress(OSError, ValueError):
                self._echo.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
            if self._log is not None:
                self._log.close()

    @property
    def written(self) -> bool:
        return self._log is not None


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


@contextlib.contextmanager
def _captured_output(logdir: str, local: bool, echo: bool) -> Iterator[None]:
    """Send sys.stdout/sys.stderr of the trial to ``stdout.log``/``stderr.log`` in its logdir.

    A log file exists only if the trial wrote to that stream. On a remote filesystem the logs
    are written to a local temporary directory and uploaded when the trial ends.
    """
    import tempfile

    target = logdir if local else tempfile.mkdtemp(prefix="sparkexp-logs-")
    out = _LineTee(os.path.join(target, "stdout.log"), sys.stdout if echo else None)
    err = _LineTee(os.path.join(target, "stderr.log"), sys.stderr if echo else None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        out.close()
        err.close()
        if not local:
            fs = filesystem_for(logdir)
            for tee, name in ((out, "stdout.log"), (err, "stderr.log")):
                if tee.written:
                    fs.upload(os.path.join(target, name), fs.join(logdir, name))
            import shutil

            shutil.rmtree(target, ignore_errors=True)


def run_trial(spec: TaskSpec, trial: dict[str, Any], identity: dict[str, Any]) -> dict[str, Any]:
    """Run the function on one trial's params; always returns a result message, never raises."""
    logdir: str = trial["logdir"]
    fs = filesystem_for(logdir)
    # local mode: the driver hands out GPUs in the message; on clusters Spark assigns them
    gpus = [str(g) for g in trial["gpus"]] if "gpus" in trial else _task_gpus()
    result: dict[str, Any] = {"id": trial["id"], "gpus": gpus, **identity}
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    ctx = TrialContext(
        trial_id=trial["id"],
        index=int(trial["index"]),
        params=trial["params"],
        logdir=logdir,
        project_root=spec.project_root,
        experiment_path=spec.experiment_path,
        gpus=gpus,
    )
    started = time.time()
    try:
        fs.mkdirs(logdir)
        with _captured_output(logdir, fs.scheme == "file", spec.echo_output), using(ctx):
            started = time.time()
            value = spec.fn(**trial["params"])
        finished = time.time()
        outputs, metric, name = interpret(value, spec.metric)
        result.update(status="complete", metric=metric, outputs=outputs, metric_name=name)
    except TrialError as exc:
        finished = time.time()
        result.update(status="error", error=f"TrialError: {exc}")
    except BaseException as exc:  # noqa: BLE001 - the trial's failure is a result, not a task failure
        finished = time.time()
        if isinstance(exc, KeyboardInterrupt):
            raise
        result.update(status="error", error="".join(traceback.format_exception(exc)))
    result.update(started=started, finished=finished)
    return result


def run_task(spec: TaskSpec, partition: int, iterator: Iterable[Any]) -> Iterator[int]:
    """The body of one long-lived Spark task (``rdd.mapPartitionsWithIndex``)."""
    for _ in iterator:  # consume the input so PySpark keeps (reuses) this Python worker
        pass
    identity = executor_identity()
    sock = channel.connect(spec.host, spec.port, spec.secret, {"slot": partition, **identity})
    done = 0
    try:
        result: dict[str, Any] | None = None
        while True:
            channel.send(sock, {"op": "next", "result": result})
            message = channel.recv(sock)
            if message.get("op") != "trial":
                break
            result = run_trial(spec, message, identity)
            done += 1
    finally:
        sock.close()
    yield done
