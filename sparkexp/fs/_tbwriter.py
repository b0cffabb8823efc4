"""tensorboardX event files on ``webhdfs://``, ``swebhdfs://``, ``hdfs://`` and ``viewfs://``.

tensorboardX writes only to local paths, ``s3://`` and ``gs://``; it looks up other schemes in
``tensorboardX.record_writer``'s factory registry. :func:`register_tensorboardx_schemes` adds
factories that write through :func:`sparkexp.fs.filesystem_for`, so a trial's logdir on the
project root works the same on every filesystem. Each writer flush sends the buffered records
with one append (WebHDFS ``APPEND``; an ``hflush`` through libhdfs), so TensorBoard sees
progress while the trial runs; ``close()`` sends the rest.

Call it once per process before creating a ``SummaryWriter`` (it is idempotent; sparkexp's
trial runner calls it on executors).

Example:
    >>> register_tensorboardx_schemes()                          # doctest: +SKIP
    >>> from tensorboardX import SummaryWriter                   # doctest: +SKIP
    >>> w = SummaryWriter("webhdfs://nn:9870/Projects/demo/Experiments/x_1/trial_00000")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from sparkexp.fs import filesystem_for

__all__ = ["EventFileWriter", "FileSystemWriterFactory", "register_tensorboardx_schemes", "SCHEMES"]

#: Schemes registered by default.
SCHEMES = ("webhdfs", "swebhdfs", "hdfs", "viewfs")


class EventFileWriter:
    """The ``write``/``flush``/``close`` object tensorboardX's ``RecordWriter`` expects.

    Deliberately has no ``fileno`` (tensorboardX would ``os.fsync`` it). Records are buffered
    and appended to the file on :meth:`flush`.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fs = filesystem_for(path)
        self._pending: list[bytes] = []
        self.closed = False
        # the file exists from the start, as a local event file would
        self._fs.append(path, b"")

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ValueError(f"write to closed event file {self.path!r}")
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if self._pending:
            payload = b"".join(self._pending)
            self._pending = []
            self._fs.append(self.path, payload)

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True


class FileSystemWriterFactory:
    """A tensorboardX writer factory (``open``, ``directory_check``) over sparkexp filesystems."""

    def open(self, path: str) -> IO[bytes] | EventFileWriter:
        return EventFileWriter(path)

    def directory_check(self, path: str) -> None:
        fs = filesystem_for(path)
        if not fs.isdir(path):
            fs.mkdirs(path)


def register_tensorboardx_schemes(schemes: Iterable[str] = SCHEMES) -> None:
    """Make tensorboardX write ``<scheme>://`` logdirs through sparkexp's filesystems.

    Raises:
        ImportError: when tensorboardX is not installed.
    """
    from tensorboardX import record_writer

    factory = FileSystemWriterFactory()
    for scheme in schemes:
        record_writer.register_writer_factory(scheme, factory)
