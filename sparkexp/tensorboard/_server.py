"""Serve one real TensorBoard over an experiment (or a whole project) directory.

:func:`start` runs the ``tensorboard`` package (the optional extra
``pip install 'sparkexp[tensorboard]'``) in a child process of this interpreter, with an argv
list and no shell. Port 0 lets the server bind a free port itself (no probe-then-bind race);
the port is read from TensorBoard's own serving message and :func:`start` returns once the
server answers HTTP. Every trial directory below the path is one TensorBoard run, so the
Scalars dashboard overlays the trials and the HParams dashboard compares them.

Example:
    >>> with start("/data/project/Experiments/mnist_1") as board:     # doctest: +SKIP
    ...     print(board.url)
    http://127.0.0.1:40573/
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType

from sparkexp.errors import ConfigError, SparkexpError
from sparkexp.fs import local_path, scheme_of

__all__ = ["TensorBoardServer", "TensorBoardError", "start"]

_INSTALL = "pip install 'sparkexp[tensorboard]'"
_SERVING = re.compile(r"TensorBoard \S+ at (https?://\S+?/?)(?:\s|$)")


class TensorBoardError(SparkexpError, RuntimeError):
    """TensorBoard could not be started (missing package, bad logdir, early exit, timeout)."""


class TensorBoardServer:
    """A running TensorBoard child process; stop it with :meth:`stop` or a ``with`` block.

    Attributes:
        url: Where it serves, e.g. ``http://127.0.0.1:40573/``.
        port: The port it bound.
        pid: Its process id.
        logdir: The directory it serves.
    """

    def __init__(self, process: subprocess.Popen[bytes], *, url: str, port: int,
                 logdir: str, log_path: str) -> None:
        self._process = process
        self.url = url
        self.port = port
        self.pid = process.pid
        self.logdir = logdir
        self._log_path = log_path

    @property
    def running(self) -> bool:
        """True until the process has exited."""
        return self._process.poll() is None

    def log(self) -> str:
        """What TensorBoard printed so far (its stdout and stderr)."""
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop TensorBoard: SIGTERM (it exits cleanly), SIGKILL after ``timeout`` seconds.

        Its data server (a helper process TensorBoard starts in the same process group) ends
        with it. Calling :meth:`stop` again does nothing.
        """
        process = self._process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # the group is ours (start_new_session): collect a helper left behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(self._log_path)

    def __enter__(self) -> TensorBoardServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"TensorBoardServer(url={self.url!r}, pid={self.pid}, {state})"


def _check_logdir(path: str) -> str:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"path must be a directory path or URI, got {path!r}")
    path = os.fspath(path)
    if scheme_of(path) == "file":
        directory = os.path.abspath(local_path(path))
        if not os.path.isdir(directory):
            raise ConfigError(
                f"cannot serve {path!r}: not an existing directory (pass an experiment "
                "directory such as <root>/Experiments/<name>_<run>, or the project root)"
            )
        return directory
    try:
        import fsspec  # noqa: F401
    except ImportError:
        raise TensorBoardError(
            f"TensorBoard reads {scheme_of(path)}:// logdirs through fsspec, which is not "
            "installed: pip install fsspec (hdfs:// also needs pyarrow with libhdfs)"
        ) from None
    return path


def _serving_url(log_path: str) -> str | None:
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            found = _SERVING.search(f.read())
    except OSError:
        return None
    return found.group(1) if found else None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "data/logdir", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# TensorBoard with its TensorFlow stub even where TensorFlow is installed (what Bazel's
# //tensorboard/compat:no_tensorflow does): TensorFlow's file system has no webhdfs:// or
# hdfs:// through fsspec, and importing it adds seconds to every start.
_MAIN = ("import sys, types; "
         "sys.modules['tensorboard.compat.notf'] = types.ModuleType('tensorboard.compat.notf'); "
         "sys.argv[0] = 'tensorboard'; "
         "from tensorboard.main import run_main; run_main()")


def start(path: str, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0,
          reload_interval: float = 5.0) -> TensorBoardServer:
    """Serve ``path`` with TensorBoard and return once it answers HTTP.

    Args:
        path: An experiment directory (``<root>/Experiments/<name>_<run>``: one run per
            trial) or any directory above it (the project root compares experiments). Local
            paths and ``file://``; ``webhdfs://``/``hdfs://`` need fsspec (see
            ``docs/tensorboard.md``).
        host: Interface to bind; ``127.0.0.1`` keeps it on this machine, ``0.0.0.0`` opens it
            to the network.
        port: Port to bind; 0 picks a free one.
        timeout: Seconds to wait for the server to answer.
        reload_interval: Seconds between TensorBoard's scans for new data.

    Returns:
        The running :class:`TensorBoardServer` (``.url``, ``.pid``, ``.stop()``).

    Raises:
        ConfigError: ``path`` is not an existing directory, or a bad ``port``/``host``.
        TensorBoardError: the ``tensorboard`` package is missing, or the server exited or
            did not answer within ``timeout`` (its output is in the message).

    Example:
        >>> board = start("sparkexp-project/Experiments/mnist_1")       # doctest: +SKIP
        >>> board.url                                                     # doctest: +SKIP
        'http://127.0.0.1:40573/'
        >>> board.stop()                                                  # doctest: +SKIP
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise TensorBoardError(f"serving needs the tensorboard package: {_INSTALL}") from None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        raise ConfigError(f"port must be a whole number from 0 to 65535 (0: any free port), got {port!r}")
    if not isinstance(host, str) or not host or any(c.isspace() for c in host):
        raise ConfigError(f"host must be an interface name or address such as '127.0.0.1', got {host!r}")
    logdir = _check_logdir(path)
    argv = [
        sys.executable, "-c", _MAIN,
        "--logdir", logdir,
        "--host", host,
        "--port", str(port),
        "--reload_interval", str(float(reload_interval)),
    ]
    fd, log_path = tempfile.mkstemp(prefix="sparkexp-tensorboard-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        # its own session: Ctrl-C in a notebook or terminal does not reach it, and stop()
        # can collect the data server it starts
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = None
    deadline = time.monotonic() + timeout
    try:
        url = None
        while time.monotonic() < deadline:
            if url is None:
                url = _serving_url(log_path)
            if url is not None and _answers(url):
                url = url if url.endswith("/") else url + "/"
                server = TensorBoardServer(process, url=url, port=urllib.parse.urlparse(url).port or port,
                                           logdir=logdir, log_path=log_path)
                return server
            if process.poll() is not None:
                break
            time.sleep(0.1)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            output = f.read().strip()
        what = (f"exited with code {process.returncode}" if process.poll() is not None
                else f"did not answer within {timeout:g} s")
        raise TensorBoardError(f"TensorBoard for {path!r} {what}:\n{output[-2000:]}")
    finally:
        if server is None:
            TensorBoardServer(process, url="", port=port, logdir=logdir, log_path=log_path).stop()
