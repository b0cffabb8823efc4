"""Paths inside the project root, hops-style: ``hdfs.project_path() + "Resources/train.csv"``.

Inside a trial the root comes from the trial's context; on the driver it is resolved from the
active Spark session's conf, ``SPARKEXP_PROJECT_ROOT`` or the local default.

Example:
    >>> import os
    >>> os.environ["SPARKEXP_PROJECT_ROOT"] = "/tmp/proj"
    >>> project_path()
    '/tmp/proj/'
    >>> path("Resources/train.csv")
    '/tmp/proj/Resources/train.csv'
"""

from __future__ import annotations

import posixpath

from sparkexp.context import current_or_none
from sparkexp.errors import ConfigError
from sparkexp.project import resolve_root

__all__ = ["project_path", "path"]


def _active_spark() -> object | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is a dependency
        return None
    return SparkSession.getActiveSession()


def project_path() -> str:
    """The project root, with a trailing ``/``."""
    ctx = current_or_none()
    if ctx is not None:
        return ctx.project_root
    return resolve_root(_active_spark())


def path(relative: str, *, allow_outside: bool = False) -> str:
    """Resolve ``relative`` into the project root.

    A path that would leave the root (``../x``, or an absolute path elsewhere) is refused
    unless ``allow_outside=True``.
    """
    root = project_path()
    rel = str(relative)
    if rel.startswith(root):
        rel = rel[len(root):]
    elif rel.startswith("/") or "://" in rel:
        if allow_outside:
            return rel
        raise ConfigError(f"path {relative!r} is outside the project root {root!r} (pass allow_outside=True)")
    normal = posixpath.normpath(rel) if rel else ""
    if normal == ".":
        normal = ""
    if normal.startswith(".."):
        if allow_outside:
            return posixpath.normpath(posixpath.join(root, rel))
        raise ConfigError(f"path {relative!r} escapes the project root {root!r} (pass allow_outside=True)")
    return root + normal
