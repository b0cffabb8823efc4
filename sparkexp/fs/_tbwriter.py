"""tensorboardX event files on ``webhdfs://``, ``swebhdfs://``, ``hdfs://`` and ``viewfs://``.

tensorboardX writes only to local paths, ``s3://`` and ``gs://``; it looks up other schemes in
``tensorboardX.record_writer``'s factory registry. :func:`register_tensorboardx_schemes` adds
factories that write through :func:`sparkexp.fs.filesystem_for`, so a trial's logdir on the
project root works the same on every filesystem. Each writer flush sends the buffered records
with one append (WebHDFS ``APPEND``; an ``hflush`` through libhdfs), so TensorBoard sees
progress while the trial runs; ``close()`` sends the rest.

Call it once per process before creating a ``SummaryWriter`` (it is idempotent). sparkexp's
trial runner calls it on executors with ``lazy=True``: the factories are registered when the
trial's own code imports tensorboardX, never by sparkexp itself (tensorboardX's package import
loads torch when torch is installed).

Example:
    >>> register_tensorboardx_schemes()                          # doctest: +SKIP
    >>> from tensorboardX import SummaryWriter                   # doctest: +SKIP
    >>> w = SummaryWriter("webhdfs://nn:9870/Projects/demo/Experiments/x_1/trial_00000")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import IO, Any

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


def register_tensorboardx_schemes(schemes: Iterable[str] = SCHEMES, *, lazy: bool = False) -> None:
    """Make tensorboardX write ``<scheme>://`` logdirs through sparkexp's filesystems.

    With ``lazy=True`` and tensorboardX not imported yet, the factories are registered the
    moment something imports it (an import hook), so this costs nothing in a trial that never
    uses tensorboardX.

    Raises:
        ImportError: when tensorboardX is not installed (``lazy=False``).
    """
    schemes = tuple(schemes)
    if lazy and "tensorboardX.record_writer" not in sys.modules:
        if not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
            sys.meta_path.insert(0, _RegisterOnImport(schemes))
        return
    from tensorboardX import record_writer

    _register(record_writer, schemes)


def _register(record_writer: Any, schemes: Sequence[str]) -> None:
    factory = FileSystemWriterFactory()
    for scheme in schemes:
        record_writer.register_writer_factory(scheme, factory)


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Registers the factories right after ``tensorboardX.record_writer`` is first imported."""

    _module = "tensorboardX.record_writer"

    def __init__(self, schemes: Sequence[str]) -> None:
        self._schemes = schemes

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._module:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        schemes = self._schemes

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
                return loader.create_module(spec)

            def exec_module(self, module: ModuleType) -> None:
                loader.exec_module(module)
                _register(module, schemes)

        spec.loader = _Loader()
        return spec
