"""HDFS through libhdfs (``pyarrow.fs.HadoopFileSystem``), as on Hadoop and Hopsworks clusters.

Serves ``hdfs://[user@]namenode[:port]/path`` and ``viewfs://cluster/path``; ``hdfs:///path``
(no host) uses ``fs.defaultFS`` from the Hadoop configuration. The connection is made on first
use, so creating the filesystem (on the driver, or after unpickling on an executor) is cheap.

libhdfs needs a JVM and the Hadoop jars: ``JAVA_HOME``, ``HADOOP_HOME`` (or
``ARROW_LIBHDFS_DIR`` pointing at the directory of ``libhdfs.so``) and
``CLASSPATH=$(hadoop classpath --glob)``. When they are missing the first operation raises a
:class:`~sparkexp.errors.StorageError` that names what is missing and the WebHDFS alternative
(``SPARKEXP_WEBHDFS_URL``): when that variable is set, :func:`filesystem` serves ``hdfs://``
roots over WebHDFS instead and libhdfs is never loaded.

Atomicity: libhdfs only has the old HDFS rename, which refuses an existing destination, so
:meth:`HadoopFileSystem.write_bytes` writes a temporary file and then deletes the target and
renames (pyarrow's ``move``): a reader in that short window finds no file, never a partial one.

Example:
    >>> fs = filesystem("hdfs://alice@namenode:8020/Projects/demo")  # not connected yet
    >>> (fs.host, fs.port, fs.user)
    ('namenode', 8020, 'alice')
"""

from __future__ import annotations

import errno
import os
import posixpath
import uuid
from typing import IO, Any, cast
from urllib.parse import unquote, urlparse

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs._base import FileSystem, LazyConnection

__all__ = ["HadoopFileSystem", "filesystem", "parse_hdfs_uri", "DEFAULT_PORT"]

#: The namenode RPC port used when an ``hdfs://host`` URI has none.
DEFAULT_PORT = 8020


def parse_hdfs_uri(uri: str) -> tuple[str, int, str | None, str]:
    """Split an ``hdfs://`` or ``viewfs://`` URI into ``(host, port, user, path)``.

    ``host`` is ``"default"`` (and port 0) for ``hdfs:///path``, meaning ``fs.defaultFS``; for
    ``viewfs`` it is ``viewfs://cluster`` as libhdfs expects.

    Example:
        >>> parse_hdfs_uri("hdfs://nn:9000/Projects/demo/")
        ('nn', 9000, None, '/Projects/demo')
        >>> parse_hdfs_uri("hdfs:///Projects/demo")
        ('default', 0, None, '/Projects/demo')
    """
    parsed = urlparse(uri)
    if parsed.scheme not in ("hdfs", "viewfs"):
        raise ConfigError(f"{uri!r} is not an HDFS URI: use hdfs://namenode:8020/path or viewfs://cluster/path")
    user = unquote(parsed.username) if parsed.username else None
    path = posixpath.normpath(unquote(parsed.path) or "/")
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    try:
        port = parsed.port
    except ValueError as exc:
        raise ConfigError(f"{uri!r} has a bad port: use hdfs://namenode:8020/path") from exc
    host = parsed.hostname or ""
    if parsed.scheme == "viewfs":
        if not host:
            raise ConfigError(f"{uri!r} names no mount table: use viewfs://cluster/path")
        return f"viewfs://{host}", 0, user, path
    if not host:
        return "default", 0, user, path
    return host, port or DEFAULT_PORT, user, path


def _diagnose() -> list[str]:
    """What libhdfs is missing in this environment, as hints."""
    hints = []
    if not os.environ.get("JAVA_HOME"):
        hints.append("JAVA_HOME is not set (libhdfs loads libjvm.so from it)")
    libdir = os.environ.get("ARROW_LIBHDFS_DIR")
    hadoop_home = os.environ.get("HADOOP_HOME")
    if libdir:
        if not os.path.exists(os.path.join(libdir, "libhdfs.so")):
            hints.append(f"ARROW_LIBHDFS_DIR={libdir!r} has no libhdfs.so")
    elif not hadoop_home:
        hints.append("neither ARROW_LIBHDFS_DIR nor HADOOP_HOME is set (where libhdfs.so is)")
    elif not os.path.exists(os.path.join(hadoop_home, "lib", "native", "libhdfs.so")):
        hints.append(f"HADOOP_HOME={hadoop_home!r} has no lib/native/libhdfs.so (set ARROW_LIBHDFS_DIR)")
    if "hadoop" not in os.environ.get("CLASSPATH", "").lower():
        hints.append('CLASSPATH lacks the Hadoop jars (export CLASSPATH="$(hadoop classpath --glob)")')
    return hints


class HadoopFileSystem(LazyConnection, FileSystem):
    """A project root on HDFS through libhdfs (``pyarrow.fs.HadoopFileSystem``).

    Args:
        host: Namenode host, ``"default"`` for ``fs.defaultFS``, or ``viewfs://cluster``.
        port: Namenode RPC port (0 for ``default``/HA nameservices).
        user: HDFS user (default: ``HADOOP_USER_NAME``, else the login user).
        scheme: ``hdfs`` or ``viewfs``; the scheme of paths given back by :meth:`join`.
        authority: The URI authority these paths carry (``nn:8020``).
        kerb_ticket: Kerberos ticket cache (default ``KRB5CCNAME``).
        extra_conf: Extra Hadoop configuration for libhdfs.
        pafs: A ready ``pyarrow.fs.FileSystem`` to use instead of connecting (tests).

    Example:
        >>> fs = HadoopFileSystem("nn", 8020, authority="nn:8020")
        >>> fs.join("hdfs://nn:8020/Projects/demo", "Experiments")
        'hdfs://nn:8020/Projects/demo/Experiments'
    """

    _client_attr = "_pafs"  # the connected pyarrow filesystem

    def __init__(
        self,
        host: str = "default",
        port: int = 0,
        *,
        user: str | None = None,
        scheme: str = "hdfs",
        authority: str = "",
        kerb_ticket: str | None = None,
        extra_conf: dict[str, str] | None = None,
        pafs: Any = None,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.scheme = scheme
        self.authority = authority
        self.kerb_ticket = kerb_ticket
        self.extra_conf = extra_conf
        self._init_connection(pafs)

    def __repr__(self) -> str:
        return f"HadoopFileSystem(host={self.host!r}, port={self.port}, user={self.user!r})"

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def pafs(self) -> Any:
        """The connected ``pyarrow.fs.HadoopFileSystem`` (connects on first use)."""
        return self._connection(self._connect)

    def _connect(self) -> Any:
        from pyarrow import fs as pafs

        user = self.user or os.environ.get("HADOOP_USER_NAME") or None
        ticket = self.kerb_ticket or os.environ.get("KRB5CCNAME") or None
        try:
            return pafs.HadoopFileSystem(
                self.host, self.port, user=user, kerb_ticket=ticket, extra_conf=self.extra_conf
            )
        except (OSError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hints = _diagnose()
            missing = "; ".join(hints) if hints else "the environment looks complete, see the cause"
            raise StorageError(
                f"cannot connect to HDFS {self.scheme}://{self.authority or self.host} through "
                f"libhdfs ({first[:300]}). Missing: {missing}. Without libhdfs, reach the cluster "
                f"over WebHDFS: SPARKEXP_WEBHDFS_URL=http://namenode:9870 (for hdfs:// roots) or "
                f"a webhdfs://namenode:9870/... project root"
            ) from exc

    def _remote(self, path: str) -> str:
        parsed = urlparse(path)
        if parsed.scheme:
            if parsed.scheme != self.scheme:
                raise ConfigError(f"{path!r} is not a {self.scheme}:// path")
            return posixpath.normpath(unquote(parsed.path) or "/")
        if not path.startswith("/"):
            raise ConfigError(f"relative path {path!r} on HDFS: give an {self.scheme}:// URI or an absolute path")
        return posixpath.normpath(path)

    def _info(self, path: str) -> Any:
        return self.pafs.get_file_info(self._remote(path))

    # -- FileSystem --------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        from pyarrow.fs import FileType

        return bool(self._info(path).type != FileType.NotFound)

    def isdir(self, path: str) -> bool:
        from pyarrow.fs import FileType

        return bool(self._info(path).type == FileType.Directory)

    def isfile(self, path: str) -> bool:
        """True if ``path`` is a file."""
        from pyarrow.fs import FileType

        return bool(self._info(path).type == FileType.File)

    def mkdirs(self, path: str) -> None:
        self.pafs.create_dir(self._remote(path), recursive=True)

    def mkdir_exclusive(self, path: str) -> bool:
        """Create directory ``path``; False if it exists. Safe against concurrent creators.

        libhdfs' mkdir succeeds on an existing directory, so a uniquely named directory is
        renamed into place: the namenode either makes it ``path`` or, if ``path`` already
        exists, moves it inside, which this method detects and undoes.
        """
        if self.exists(path):
            return False
        parent, name = posixpath.split(path.rstrip("/"))
        if not self.isdir(parent):
            raise FileNotFoundError(errno.ENOENT, "parent directory does not exist on HDFS", parent)
        tmp_name = f".tmp-mkdir-{name}-{uuid.uuid4().hex[:12]}"
        tmp = self.join(parent, tmp_name)
        self.mkdirs(tmp)
        try:
            self.pafs.move(self._remote(tmp), self._remote(path))
        except OSError:
            self.delete(tmp, recursive=True)
            if self.exists(path):
                return False
            raise
        inside = self.join(path, tmp_name)
        if self.exists(inside):
            self.delete(inside, recursive=True)
            return False
        return True

    def ls(self, path: str) -> list[str]:
        from pyarrow.fs import FileSelector, FileType

        remote = self._remote(path)
        info = self.pafs.get_file_info(remote)
        if info.type == FileType.NotFound:
            raise FileNotFoundError(errno.ENOENT, "no such directory on HDFS", path)
        if info.type != FileType.Directory:
            raise NotADirectoryError(errno.ENOTDIR, "not a directory on HDFS", path)
        infos = self.pafs.get_file_info(FileSelector(remote))
        return sorted(posixpath.basename(i.path.rstrip("/")) for i in infos)

    def read_bytes(self, path: str) -> bytes:
        with self.pafs.open_input_stream(self._remote(path)) as f:
            return cast(bytes, f.read())

    def write_bytes(self, path: str, data: bytes) -> None:
        parent, name = posixpath.split(path.rstrip("/"))
        tmp = self.join(parent, f".tmp-{name}-{uuid.uuid4().hex[:12]}")
        try:
            with self.pafs.open_output_stream(self._remote(tmp)) as f:
                f.write(bytes(data))
            self.rename(tmp, path)
        except BaseException:
            try:
                self.delete(tmp)
            except Exception:  # noqa: BLE001 - best-effort cleanup, the first error matters
                pass
            raise

    def append(self, path: str, data: bytes, *, sync: bool = True) -> None:
        """Append (creating the file when missing); the stream is closed, so data is durable."""
        remote = self._remote(path)
        if not self.exists(path):
            with self.pafs.open_output_stream(remote) as f:
                f.write(bytes(data))
            return
        with self.pafs.open_append_stream(remote) as f:
            f.write(bytes(data))

    def rename(self, src: str, dst: str) -> None:
        if self.isdir(dst):
            raise IsADirectoryError(errno.EISDIR, "rename destination is a directory on HDFS", dst)
        # pyarrow's move deletes an existing destination file, then renames
        self.pafs.move(self._remote(src), self._remote(dst))

    def delete(self, path: str, *, recursive: bool = False) -> None:
        from pyarrow.fs import FileType

        remote = self._remote(path)
        info = self.pafs.get_file_info(remote)
        if info.type == FileType.NotFound:
            return
        if info.type == FileType.Directory:
            if not recursive and self.ls(path):
                raise OSError(errno.ENOTEMPTY, "directory not empty on HDFS (pass recursive=True)", path)
            self.pafs.delete_dir(remote)
        else:
            self.pafs.delete_file(remote)

    def open(self, path: str, mode: str = "rb") -> IO[bytes]:
        remote = self._remote(path)
        if mode == "rb":
            return cast(IO[bytes], self.pafs.open_input_file(remote))
        if mode == "wb":
            return cast(IO[bytes], self.pafs.open_output_stream(remote))
        if mode == "ab":
            if not self.exists(path):
                return cast(IO[bytes], self.pafs.open_output_stream(remote))
            return cast(IO[bytes], self.pafs.open_append_stream(remote))
        raise ValueError(f"mode must be 'rb', 'wb' or 'ab', got {mode!r}")

    def upload(self, local_src: str, path: str) -> None:
        from pyarrow import fs as pafs

        if not os.path.exists(local_src):
            raise FileNotFoundError(errno.ENOENT, "local path to upload does not exist", local_src)
        if os.path.isdir(local_src):
            self.mkdirs(path)
        pafs.copy_files(
            os.path.abspath(local_src),
            self._remote(path),
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=self.pafs,
        )

    def download(self, path: str, local_dst: str) -> None:
        from pyarrow import fs as pafs

        if not self.exists(path):
            raise FileNotFoundError(errno.ENOENT, "no such file or directory on HDFS", path)
        if self.isdir(path):
            os.makedirs(local_dst, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(local_dst)), exist_ok=True)
        pafs.copy_files(
            self._remote(path),
            os.path.abspath(local_dst),
            source_filesystem=self.pafs,
            destination_filesystem=pafs.LocalFileSystem(),
        )


def filesystem(uri: str) -> FileSystem:
    """The filesystem for an ``hdfs://`` or ``viewfs://`` URI.

    WebHDFS (:class:`~sparkexp.fs._webhdfs.WebHdfsFileSystem`) when ``SPARKEXP_WEBHDFS_URL``
    is set, libhdfs (:class:`HadoopFileSystem`, connected lazily) otherwise.

    Example:
        >>> type(filesystem("hdfs:///Projects/demo")).__name__  # doctest: +SKIP
        'HadoopFileSystem'
    """
    from sparkexp.fs import _webhdfs

    host, port, user, _path = parse_hdfs_uri(uri)
    if os.environ.get(_webhdfs.URL_ENV, "").strip():
        return _webhdfs.filesystem(uri)
    return HadoopFileSystem(host, port, user=user, scheme=urlparse(uri).scheme, authority=urlparse(uri).netloc)
