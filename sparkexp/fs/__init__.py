"""Filesystems behind project roots: local paths, ``file://``, ``hdfs://`` and ``webhdfs://``.

:func:`filesystem_for` picks the implementation from a path's scheme. Every record and trial
directory goes through it, on the driver and on executors, so nothing assumes the driver's
local disk is visible to executors.

Example:
    >>> filesystem_for("/tmp/project").scheme
    'file'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlparse

from sparkexp.errors import ConfigError
from sparkexp.fs._base import FileSystem
from sparkexp.fs._local import LocalFileSystem, local_path

__all__ = ["FileSystem", "LocalFileSystem", "filesystem_for", "local_path", "scheme_of"]

_LOCAL = LocalFileSystem()


def scheme_of(path: str) -> str:
    """The URI scheme of ``path`` (``file`` for plain paths).

    >>> scheme_of("/data/exp"), scheme_of("hdfs://nn:8020/exp"), scheme_of("C:/exp")
    ('file', 'hdfs', 'file')
    """
    if path.startswith("/"):  # an absolute local path (the common case: no URL parsing)
        return "file"
    scheme = urlparse(path).scheme
    # a Windows drive letter or a plain path has no real scheme
    return scheme if len(scheme) > 1 else "file"


@functools.cache
def _factories() -> dict[str, Callable[[str], FileSystem]]:
    """Scheme -> filesystem factory; optional backends are looked up once per process."""
    factories: dict[str, Callable[[str], FileSystem]] = {"file": lambda _p: _LOCAL}
    try:
        from sparkexp.fs import _webhdfs

        factories["webhdfs"] = _webhdfs.filesystem
        factories["swebhdfs"] = _webhdfs.filesystem
    except ImportError:
        pass
    try:
        from sparkexp.fs import _hdfs

        factories["hdfs"] = _hdfs.filesystem
        factories["viewfs"] = _hdfs.filesystem
    except ImportError:
        pass
    return factories


def filesystem_for(path: str) -> FileSystem:
    """The filesystem that serves ``path``, chosen by its URI scheme.

    Raises:
        ConfigError: for a scheme sparkexp cannot write to.
    """
    scheme = scheme_of(path)
    factories = _factories()
    if scheme not in factories:
        raise ConfigError(
            f"unsupported project root scheme '{scheme}://' in {path!r}: "
            f"use a local path, file://, {', '.join(s + '://' for s in sorted(factories) if s != 'file')}"
        )
    return factories[scheme](path)
