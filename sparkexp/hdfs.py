"""Files in the project root, hops-style: ``hdfs.project_path() + "Resources/train.csv"``.

The names follow hops-util-py's ``hops.hdfs`` (``project_path``, ``project_name``, ``exists``,
``ls``, ``mkdir``, ``delete``, ``rmr``, ``cp``, ``open_file``, ``dump``, ``load``,
``copy_to_local``, ``copy_to_hdfs``, ``log``, ``get_plain_path``...). Every function takes a path relative to the project root (or absolute
inside it) and works the same on a local root, ``hdfs://`` or ``webhdfs://``, on the driver and
inside trials. A path that leaves the root (``../x``, or an absolute path elsewhere) is refused
unless ``allow_outside=True`` (or the trial was started with ``allow_outside_root``).

Inside a trial the root comes from the trial's context; on the driver it is resolved from the
active Spark session's conf, ``SPARKEXP_PROJECT_ROOT`` or the local default.

Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()  # a fresh project root
    >>> os.environ["SPARKEXP_PROJECT_ROOT"] = root
    >>> project_path() == root + "/"
    True
    >>> path("Resources/train.csv") == root + "/Resources/train.csv"
    True
    >>> dump("a,b\\n1,2\\n", "Resources/train.csv")
    >>> load("Resources/train.csv")
    'a,b\\n1,2\\n'
"""

from __future__ import annotations

import errno
import fnmatch
import getpass
import io
import os
import posixpath
import shutil
import sys
from datetime import datetime
from typing import IO, Any
from urllib.parse import unquote, urlparse

from sparkexp.context import current_or_none
from sparkexp.errors import ConfigError
from sparkexp.fs import FileSystem, filesystem_for
from sparkexp.project import resolve_root

__all__ = [
    "project_path",
    "path",
    "abs_path",
    "project_name",
    "project_user",
    "exists",
    "isdir",
    "isfile",
    "ls",
    "glob",
    "mkdir",
    "delete",
    "rmr",
    "move",
    "rename",
    "open_file",
    "dump",
    "load",
    "copy_to_local",
    "copy_to_hdfs",
    "cp",
    "log",
    "get_plain_path",
]

_PROJECT_NAME_ENV = "HOPSWORKS_PROJECT_NAME"


def _active_spark() -> object | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is a dependency
        return None
    return SparkSession.getActiveSession()


def project_path(project: str | None = None) -> str:
    """The project root, with a trailing ``/`` (``project``: hops' keyword; only this project)."""
    _check_project(project)
    ctx = current_or_none()
    if ctx is not None:
        return ctx.project_root
    return resolve_root(_active_spark())


def path(relative: str, *, allow_outside: bool = False) -> str:
    """Resolve ``relative`` into the project root.

    An absolute path (or URI) inside the root is accepted as is; for an ``hdfs://`` or
    ``webhdfs://`` root, an absolute path such as ``/Projects/demo/x`` under the root's path
    is resolved into the root. A path that would leave the root (``../x``, or an absolute path
    elsewhere) is refused unless ``allow_outside=True``.
    """
    root = project_path()
    rel = str(relative)
    if rel.startswith(root) or rel + "/" == root:
        rel = rel[len(root):]
    elif rel.startswith("/") and "://" in root:
        root_path = unquote(urlparse(root).path).rstrip("/") + "/"
        if rel.startswith(root_path) or rel + "/" == root_path:
            rel = rel[len(root_path):]
        elif allow_outside:
            return rel
        else:
            raise ConfigError(f"path {relative!r} is outside the project root {root!r} (pass allow_outside=True)")
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


def abs_path(hdfs_path: str, *, allow_outside: bool = False) -> str:
    """The full path (or URI) of ``hdfs_path`` (hops' name for :func:`path`)."""
    return _resolve(hdfs_path, allow_outside)


def project_name() -> str:
    """The project's name: ``HOPSWORKS_PROJECT_NAME`` if set, else the root's last component.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"SPARKEXP_PROJECT_ROOT": "hdfs://nn:8020/Projects/demo"}):
        ...     project_name()
        'demo'
    """
    name = os.environ.get(_PROJECT_NAME_ENV)
    if name:
        return name
    root = project_path().rstrip("/")
    return posixpath.basename(urlparse(root).path if "://" in root else root)


def project_user() -> str:
    """The HDFS user: ``HADOOP_USER_NAME`` (``project__user`` on Hopsworks), else the login user."""
    return os.environ.get("HADOOP_USER_NAME") or getpass.getuser()


def _resolve(hdfs_path: str, allow_outside: bool) -> str:
    ctx = current_or_none()
    allowed = allow_outside or bool(ctx is not None and ctx.allow_outside_root)
    return path(hdfs_path, allow_outside=allowed)


def _check_project(project: str | None) -> None:
    """hops' ``project=`` keyword: sparkexp works in one project root, so only its own name."""
    if project is None:
        return
    own = project_name()
    if project != own:
        raise ConfigError(f"project={project!r}: sparkexp works in one project root ({own!r}); "
                          "read another project's files by their full path with allow_outside=True")


def _fs(hdfs_path: str, allow_outside: bool, project: str | None = None) -> tuple[FileSystem, str]:
    _check_project(project)
    full = _resolve(hdfs_path, allow_outside)
    return filesystem_for(full), full


def exists(hdfs_path: str, *, allow_outside: bool = False, project: str | None = None) -> bool:
    """True if a file or directory exists at ``hdfs_path``."""
    fs, full = _fs(hdfs_path, allow_outside, project)
    return fs.exists(full)


def isdir(hdfs_path: str, *, allow_outside: bool = False, project: str | None = None) -> bool:
    """True if ``hdfs_path`` is a directory."""
    fs, full = _fs(hdfs_path, allow_outside, project)
    return fs.isdir(full)


def isfile(hdfs_path: str, *, allow_outside: bool = False, project: str | None = None) -> bool:
    """True if ``hdfs_path`` is a file."""
    fs, full = _fs(hdfs_path, allow_outside, project)
    return fs.exists(full) and not fs.isdir(full)


def ls(hdfs_path: str = "", recursive: bool = False, *, allow_outside: bool = False,
       project: str | None = None) -> list[str]:
    """Full paths of the entries of directory ``hdfs_path`` (every entry below it if
    ``recursive``), sorted.

    Example:
        >>> mkdir("Resources/images")
        >>> [p.rsplit("/", 1)[1] for p in ls("Resources")]
        ['images', 'train.csv']
    """
    fs, full = _fs(hdfs_path, allow_outside, project)
    out: list[str] = []

    def walk(directory: str) -> None:
        for name in fs.ls(directory):
            child = fs.join(directory, name)
            out.append(child)
            if recursive and fs.isdir(child):
                walk(child)

    walk(full.rstrip("/") or full)
    return sorted(out)


def glob(pattern: str, *, allow_outside: bool = False, project: str | None = None) -> list[str]:
    """Full paths matching a shell pattern in its last component (``Resources/*.csv``)."""
    directory, _, name_pattern = pattern.rpartition("/")
    fs, full = _fs(directory, allow_outside, project)
    if not fs.isdir(full):
        raise FileNotFoundError(errno.ENOENT, "glob directory does not exist", full)
    base = full.rstrip("/") or full
    return [fs.join(base, n) for n in fnmatch.filter(fs.ls(base), name_pattern)]


def mkdir(hdfs_path: str, *, allow_outside: bool = False, project: str | None = None) -> None:
    """Create a directory and its parents (no error if it exists)."""
    fs, full = _fs(hdfs_path, allow_outside, project)
    fs.mkdirs(full)


def delete(hdfs_path: str, recursive: bool = False, *, allow_outside: bool = False) -> None:
    """Remove a file or directory (``recursive=True`` for a non-empty one); no error if missing.

    The project root itself is never deleted.
    """
    fs, full = _fs(hdfs_path, allow_outside)
    if full.rstrip("/") == project_path().rstrip("/"):
        raise ConfigError(f"refusing to delete the project root {full!r}: name a path inside it")
    if fs.exists(full):
        fs.delete(full, recursive=recursive)


def rmr(hdfs_path: str, *, allow_outside: bool = False, project: str | None = None) -> None:
    """Remove a file or a directory tree (``delete(hdfs_path, recursive=True)``)."""
    _check_project(project)
    delete(hdfs_path, recursive=True, allow_outside=allow_outside)


def move(src: str, dest: str, *, allow_outside: bool = False) -> None:
    """Move or rename ``src`` to ``dest`` (both in the project), replacing a file at ``dest``."""
    fs, full_src = _fs(src, allow_outside)
    full_dest = _resolve(dest, allow_outside)
    if filesystem_for(full_dest).scheme != fs.scheme:
        raise ConfigError(f"cannot move {full_src!r} to {full_dest!r}: different filesystems")
    fs.rename(full_src, full_dest)


rename = move


def open_file(hdfs_path: str, flags: str = "r", *, encoding: str = "utf-8", allow_outside: bool = False,
              project: str | None = None) -> IO[Any]:
    """Open a file for reading (``r``), writing (``w``) or appending (``a``); add ``b`` for
    bytes (default text is ``t``). Close it when done (use ``with``).

    Writes through ``open_file`` are not atomic; use :func:`dump` to replace a file whole.

    Example:
        >>> with open_file("Resources/notes.txt", "w") as f:
        ...     _ = f.write("hello")
        >>> with open_file("Resources/notes.txt") as f:
        ...     f.read()
        'hello'
    """
    mode = flags.replace("t", "")
    if mode not in ("r", "w", "a", "rb", "wb", "ab"):
        raise ConfigError(f"open_file flags must be r, w or a, optionally with b or t; got {flags!r}")
    fs, full = _fs(hdfs_path, allow_outside, project)
    binary_mode = mode[0] + "b"
    if binary_mode in ("wb", "ab"):
        parent = posixpath.dirname(full.rstrip("/"))
        if parent and not fs.exists(parent):
            fs.mkdirs(parent)
    stream = fs.open(full, binary_mode)
    if "b" in mode:
        return stream
    if binary_mode == "rb":
        return io.TextIOWrapper(_buffered(stream, read=True), encoding=encoding)
    return io.TextIOWrapper(_buffered(stream, read=False), encoding=encoding, write_through=True)


def _buffered(stream: Any, *, read: bool) -> Any:
    if isinstance(stream, (io.BufferedIOBase, io.TextIOBase)) or not isinstance(stream, io.RawIOBase):
        return stream
    return io.BufferedReader(stream) if read else io.BufferedWriter(stream)


def dump(data: str | bytes, hdfs_path: str, *, allow_outside: bool = False) -> None:
    """Replace ``hdfs_path`` with ``data`` (``str`` is written as UTF-8) atomically.

    Parent directories are created.
    """
    fs, full = _fs(hdfs_path, allow_outside)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    parent = posixpath.dirname(full.rstrip("/"))
    if parent and not fs.exists(parent):
        fs.mkdirs(parent)
    fs.write_bytes(full, payload)


def load(hdfs_path: str, *, encoding: str | None = "utf-8", allow_outside: bool = False) -> Any:
    """The content of ``hdfs_path``: ``str`` decoded with ``encoding``, ``bytes`` if None."""
    fs, full = _fs(hdfs_path, allow_outside)
    data = fs.read_bytes(full)
    return data if encoding is None else data.decode(encoding)


def copy_to_local(
    hdfs_path: str, local_path: str = "", overwrite: bool = False, *, allow_outside: bool = False,
    project: str | None = None,
) -> str:
    """Copy a file or directory from the project into local directory ``local_path``
    (default: the working directory); returns the local path of the copy.

    Raises:
        FileExistsError: the copy exists locally and ``overwrite`` is False.

    Example:
        >>> import tempfile
        >>> local = copy_to_local("Resources/train.csv", tempfile.mkdtemp())
        >>> open(local).read()
        'a,b\\n1,2\\n'
    """
    fs, full = _fs(hdfs_path, allow_outside, project)
    if not fs.exists(full):
        raise FileNotFoundError(errno.ENOENT, "nothing to copy at this project path", full)
    local_dir = os.path.abspath(local_path or os.getcwd())
    os.makedirs(local_dir, exist_ok=True)
    name = posixpath.basename(full.rstrip("/")) or project_name()
    target = os.path.join(local_dir, name)
    if os.path.lexists(target):
        if not overwrite:
            raise FileExistsError(errno.EEXIST, "local copy exists (pass overwrite=True)", target)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)
    fs.download(full, target)
    return target


def copy_to_hdfs(
    local_path: str, hdfs_path: str = "", overwrite: bool = False, *, allow_outside: bool = False,
    project: str | None = None,
) -> str:
    """Copy a local file or directory into project directory ``hdfs_path`` (default: the
    root); returns the full path of the copy.

    Raises:
        FileExistsError: the copy exists in the project and ``overwrite`` is False.

    Example:
        >>> import tempfile
        >>> src = os.path.join(tempfile.mkdtemp(), "model.txt")
        >>> _ = open(src, "w").write("w=1")
        >>> copy_to_hdfs(src, "Models").endswith("Models/model.txt")
        True
    """
    source = os.path.abspath(local_path)
    if not os.path.exists(source):
        raise FileNotFoundError(errno.ENOENT, "local path to copy does not exist", source)
    fs, directory = _fs(hdfs_path, allow_outside, project)
    target = fs.join(directory.rstrip("/") or directory, os.path.basename(source.rstrip(os.sep)))
    if fs.exists(target):
        if not overwrite:
            raise FileExistsError(errno.EEXIST, "project copy exists (pass overwrite=True)", target)
        fs.delete(target, recursive=True)
    fs.mkdirs(directory)
    fs.upload(source, target)
    return target


def cp(src_hdfs_path: str, dest_hdfs_path: str, overwrite: bool = False, *,
       allow_outside: bool = False) -> None:
    """Copy a file or directory to ``dest_hdfs_path`` inside the project (hops' ``cp``).

    Raises:
        FileExistsError: ``dest_hdfs_path`` exists and ``overwrite`` is False.

    Example:
        >>> cp("Resources/train.csv", "Backup/train.csv")
        >>> load("Backup/train.csv")
        'a,b\\n1,2\\n'
    """
    import tempfile

    fs, src = _fs(src_hdfs_path, allow_outside)
    dest_fs, dest = _fs(dest_hdfs_path, allow_outside)
    if not fs.exists(src):
        raise FileNotFoundError(errno.ENOENT, "nothing to copy at this project path", src)
    if dest_fs.exists(dest):
        if not overwrite:
            raise FileExistsError(errno.EEXIST, "destination exists (pass overwrite=True)", dest)
        dest_fs.delete(dest, recursive=True)
    with tempfile.TemporaryDirectory(prefix="sparkexp-cp-") as tmp:
        local = os.path.join(tmp, "copy")
        fs.download(src, local)
        parent = posixpath.dirname(dest.rstrip("/"))
        if parent and not dest_fs.exists(parent):
            dest_fs.mkdirs(parent)
        dest_fs.upload(local, dest)


def log(string: Any) -> None:
    """Write a timestamped line to the trial's log (its ``stdout.log``), as hops' ``hdfs.log``.

    Outside a trial the line goes to standard output.

    Example:
        >>> log("epoch 3 done")  # doctest: +ELLIPSIS
        20...: epoch 3 done
    """
    text = string if isinstance(string, str) else "ERROR! Attempting to write a non-string object to logfile"
    print(f"{datetime.now().isoformat()}: {text}", file=sys.stdout, flush=True)


def get_plain_path(abs_path: str) -> str:
    """The path of a URI without scheme and authority (hops' ``get_plain_path``).

    Example:
        >>> get_plain_path("hdfs://nn:8020/Projects/demo/Resources/x.csv")
        '/Projects/demo/Resources/x.csv'
        >>> get_plain_path("/tmp/proj/x")
        '/tmp/proj/x'
    """
    return unquote(urlparse(abs_path).path) if "://" in abs_path else abs_path
