"""HDFS over its REST API (WebHDFS), through HdfsCLI (the ``hdfs`` package).

Serves ``webhdfs://host:port/path`` (``http``), ``swebhdfs://host:port/path`` (``https``) and,
when ``SPARKEXP_WEBHDFS_URL`` is set, ``hdfs://`` and ``viewfs://`` roots on clusters where only
the namenode's HTTP port is reachable. No JVM and no libhdfs are needed.

Configuration (environment, read when the filesystem is created):

``SPARKEXP_WEBHDFS_URL``
    ``http(s)://namenode:9870`` used for ``hdfs://``/``viewfs://`` roots (HA: several URLs
    separated by ``;``). ``webhdfs://`` roots name their endpoint themselves.
``SPARKEXP_WEBHDFS_USER``
    The ``user.name`` sent with simple authentication; default ``HADOOP_USER_NAME``, then the
    login user. A user in the URI (``webhdfs://alice@nn:9870/...``) wins.
``SPARKEXP_WEBHDFS_TOKEN``
    A Hadoop delegation token (sent as ``delegation=``) instead of ``user.name``.
``SPARKEXP_WEBHDFS_AUTH``
    ``simple`` (default) or ``kerberos`` (SPNEGO through ``hdfs.ext.kerberos``; needs
    ``pip install requests-kerberos`` and a ticket from ``kinit``).
``SPARKEXP_WEBHDFS_VERIFY``
    For ``https``: a CA bundle path, or ``false`` to skip verification.
``SPARKEXP_WEBHDFS_CERT``
    For ``https`` with client certificates: ``cert.pem`` or ``cert.pem,key.pem``.
``SPARKEXP_WEBHDFS_TIMEOUT``
    Seconds to wait for the namenode or a datanode (default 60).

Atomicity: :meth:`WebHdfsFileSystem.write_bytes` writes a temporary file next to the target and
renames it with ``op=RENAME&renameoptions=OVERWRITE`` (the namenode's ``rename2``), which
replaces the target in one namenode operation. A server that does not know ``renameoptions``
(some HttpFS gateways) answers the old ``{"boolean": ...}`` rename; then the target is deleted
and the temporary file renamed, so a reader in that short window finds no file, never a partial
one.

Example:
    >>> fs = filesystem("webhdfs://namenode:9870/Projects/demo")  # no request is sent yet
    >>> fs.url
    'http://namenode:9870'
"""

from __future__ import annotations

import errno
import getpass
import io
import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar, cast
from urllib.parse import unquote, urlparse

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs._base import FileSystem, LazyConnection

__all__ = [
    "WebHdfsFileSystem",
    "filesystem",
    "URL_ENV",
    "USER_ENV",
    "TOKEN_ENV",
    "AUTH_ENV",
    "VERIFY_ENV",
    "CERT_ENV",
    "TIMEOUT_ENV",
    "DEFAULT_PORTS",
]

URL_ENV = "SPARKEXP_WEBHDFS_URL"
USER_ENV = "SPARKEXP_WEBHDFS_USER"
TOKEN_ENV = "SPARKEXP_WEBHDFS_TOKEN"
AUTH_ENV = "SPARKEXP_WEBHDFS_AUTH"
VERIFY_ENV = "SPARKEXP_WEBHDFS_VERIFY"
CERT_ENV = "SPARKEXP_WEBHDFS_CERT"
TIMEOUT_ENV = "SPARKEXP_WEBHDFS_TIMEOUT"

#: Namenode HTTP(S) ports of Hadoop 3, used when a ``webhdfs://`` URI has no port.
DEFAULT_PORTS = {"webhdfs": 9870, "swebhdfs": 9871}

_SCHEMES = ("webhdfs", "swebhdfs", "hdfs", "viewfs")
# The namenode briefly refuses a second writer while the previous lease is released.
_RETRIABLE = frozenset(
    {"AlreadyBeingCreatedException", "RecoveryInProgressException", "RetriableException"}
)
_RETRIES = 6
_PUSH_BYTES = 8 << 20

_T = TypeVar("_T")


def _errno_error(exc_name: str | None, text: str, path: str) -> OSError:
    """The Python exception for a WebHDFS ``RemoteException`` name."""
    if exc_name == "FileNotFoundException":
        return FileNotFoundError(errno.ENOENT, text, path)
    if exc_name == "FileAlreadyExistsException":
        return FileExistsError(errno.EEXIST, text, path)
    if exc_name in ("AccessControlException", "SecurityException", "AuthorizationException"):
        return PermissionError(errno.EACCES, text, path)
    if exc_name == "ParentNotDirectoryException":
        return NotADirectoryError(errno.ENOTDIR, text, path)
    if exc_name == "PathIsNotEmptyDirectoryException":
        return OSError(errno.ENOTEMPTY, text, path)
    return StorageError(f"{text}: {path!r}")


class WebHdfsFileSystem(LazyConnection, FileSystem):
    """A project root on HDFS reached through WebHDFS (``webhdfs://``, ``swebhdfs://``).

    Args:
        url: The namenode's HTTP endpoint, ``http://namenode:9870`` (several separated by ``;``
            for HA namenodes).
        scheme: The URI scheme of paths this instance serves (``webhdfs``, ``swebhdfs``,
            ``hdfs`` or ``viewfs``).
        authority: The ``host:port`` of those URIs; for ``webhdfs`` paths with another
            authority are refused.
        user: ``user.name`` for simple authentication (default: ``HADOOP_USER_NAME`` or the
            login user).
        token: A delegation token; used instead of ``user``.
        auth: ``"simple"`` or ``"kerberos"``.
        timeout: Seconds to wait for a reply.
        verify: ``requests``' ``verify`` (a CA bundle path or False) for https.
        cert: A client certificate path, or ``(cert, key)``.
        client: A ready HdfsCLI client to use instead (tests, custom authentication).

    The HdfsCLI client is created on first use and never pickled, so an instance can be sent
    to executors.

    Example:
        >>> fs = WebHdfsFileSystem("http://nn:9870", authority="nn:9870")
        >>> fs.join("webhdfs://nn:9870/Projects/demo", "Experiments")
        'webhdfs://nn:9870/Projects/demo/Experiments'
    """

    def __init__(
        self,
        url: str,
        *,
        scheme: str = "webhdfs",
        authority: str = "",
        user: str | None = None,
        token: str | None = None,
        auth: str = "simple",
        timeout: float = 60.0,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        client: Any = None,
    ) -> None:
        self.url = url
        self.scheme = scheme
        self.authority = authority
        self.user = user
        self.token = token
        self.auth = auth
        self.timeout = timeout
        self.verify = verify
        self.cert = cert
        self._init_connection(client)
        # None until the server has shown whether it honours renameoptions (rename2)
        self._rename2: bool | None = None

    def __repr__(self) -> str:
        return f"WebHdfsFileSystem(url={self.url!r}, scheme={self.scheme!r})"

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The HdfsCLI client (created on first use)."""
        return self._connection(self._make_client)

    def _make_client(self) -> Any:
        import requests
        from hdfs import InsecureClient, TokenClient

        session = requests.Session()
        if self.verify is not None:
            session.verify = self.verify
        if self.cert is not None:
            session.cert = self.cert
        if self.auth == "kerberos":
            try:
                from hdfs.ext.kerberos import KerberosClient
            except ImportError as exc:
                raise ConfigError(
                    f"{AUTH_ENV}=kerberos needs the requests-kerberos package "
                    "(pip install requests-kerberos) and a ticket from kinit; "
                    f"or use {AUTH_ENV}=simple / {TOKEN_ENV}"
                ) from exc
            return KerberosClient(self.url, session=session, timeout=self.timeout)
        if self.auth != "simple":
            raise ConfigError(f"{AUTH_ENV}={self.auth!r} is not supported: use 'simple' or 'kerberos'")
        if self.token:
            return TokenClient(self.url, self.token, session=session, timeout=self.timeout)
        user = self.user or os.environ.get("HADOOP_USER_NAME") or getpass.getuser()
        return InsecureClient(self.url, user=user, session=session, timeout=self.timeout)

    def _remote(self, path: str) -> str:
        """The absolute HDFS path of a URI (or absolute path) served by this filesystem."""
        parsed = urlparse(path)
        if parsed.scheme:
            if parsed.scheme != self.scheme:
                raise ConfigError(
                    f"{path!r} is not a {self.scheme}:// path; this filesystem serves "
                    f"{self.scheme}://{self.authority}/..."
                )
            if self.scheme in ("webhdfs", "swebhdfs") and _hostport(parsed.netloc) != _hostport(
                self.authority
            ):
                raise ConfigError(
                    f"{path!r} is on another namenode than {self.scheme}://{self.authority}/: "
                    "use sparkexp.fs.filesystem_for(path) for it"
                )
            remote = unquote(parsed.path) or "/"
        elif path.startswith("/"):
            remote = path
        else:
            raise ConfigError(
                f"relative path {path!r} on WebHDFS: give a {self.scheme}:// URI or an absolute path"
            )
        return posixpath.normpath(remote)

    def _call(self, what: str, path: str, fn: Callable[[], _T]) -> _T:
        """Run one HdfsCLI call, turning its errors into Python ``OSError`` subclasses."""
        try:
            return fn()
        except Exception as exc:
            converted = self._convert(exc, what, path)
            if converted is None:
                raise
            raise converted from exc

    def _convert(self, exc: BaseException, what: str, path: str) -> OSError | None:
        """The ``OSError`` for an HdfsCLI or ``requests`` error (None for anything else)."""
        import requests
        from hdfs import HdfsError

        if isinstance(exc, HdfsError):
            text = f"WebHDFS {what} failed ({exc.exception or 'error'}: {exc.message})"
            if exc.exception is None and str(exc.message).startswith("Authentication failure"):
                # HTTP 401: HdfsCLI drops the RemoteException; name the settings that matter
                return PermissionError(
                    errno.EACCES,
                    f"{text}; check {USER_ENV}/HADOOP_USER_NAME, {TOKEN_ENV} or {AUTH_ENV}",
                    path,
                )
            return _errno_error(exc.exception, text, path)
        if isinstance(exc, requests.RequestException):
            return StorageError(
                f"cannot reach WebHDFS at {self.url} for {what} {path!r}: {exc}. Check the "
                f"namenode HTTP host:port (9870 by default on Hadoop 3) or {URL_ENV}"
            )
        return None

    def _status(self, path: str) -> dict[str, Any] | None:
        """The FileStatus of ``path``, None if it does not exist."""
        remote = self._remote(path)
        try:
            status: dict[str, Any] = self._call("GETFILESTATUS", path, lambda: self.client.status(remote))
        except FileNotFoundError:
            return None
        return status

    def _list(self, path: str) -> list[dict[str, Any]]:
        remote = self._remote(path)
        reply = self._call("LISTSTATUS", path, lambda: self.client._list_status(remote).json())
        statuses: list[dict[str, Any]] = reply["FileStatuses"]["FileStatus"]
        if len(statuses) == 1 and not statuses[0].get("pathSuffix") and statuses[0].get("type") == "FILE":
            raise NotADirectoryError(errno.ENOTDIR, "WebHDFS LISTSTATUS of a file", path)
        return statuses

    def _rename_with(self, src: str, dst: str, option: str) -> bool | None:
        """RENAME with ``renameoptions`` (``rename2``); None if done, else the old boolean reply.

        Hadoop's namenode honours ``renameoptions`` (``NONE`` fails on an existing destination,
        ``OVERWRITE`` replaces it atomically) and answers with an empty body; a server that
        ignores the option performs the old rename and answers ``{"boolean": ...}``.
        """
        from hdfs import HdfsError

        rsrc, rdst = self._remote(src), self._remote(dst)
        if self._rename2 is not False:
            try:
                res = self._call(
                    "RENAME",
                    src,
                    lambda: self.client._rename(rsrc, destination=rdst, renameoptions=option),
                )
            except StorageError as exc:
                cause = exc.__cause__
                if not (
                    isinstance(cause, HdfsError)
                    and cause.exception in ("IllegalArgumentException", "UnsupportedOperationException")
                ):
                    raise
                self._rename2 = False  # a gateway that rejects the parameter
            else:
                reply = _json_or_none(res)
                if reply is None:
                    self._rename2 = True
                    return None
                self._rename2 = False
                return bool(reply.get("boolean"))
        res = self._call("RENAME", src, lambda: self.client._rename(rsrc, destination=rdst))
        reply = _json_or_none(res) or {}
        return bool(reply.get("boolean"))

    # -- FileSystem --------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return self._status(path) is not None

    def isdir(self, path: str) -> bool:
        status = self._status(path)
        return status is not None and status.get("type") == "DIRECTORY"

    def isfile(self, path: str) -> bool:
        """True if ``path`` is a file."""
        status = self._status(path)
        return status is not None and status.get("type") == "FILE"

    def size(self, path: str) -> int:
        """The length in bytes of file ``path``."""
        status = self._status(path)
        if status is None:
            raise FileNotFoundError(errno.ENOENT, "no such file on WebHDFS", path)
        return int(status.get("length", 0))

    def mkdirs(self, path: str) -> None:
        remote = self._remote(path)
        self._call("MKDIRS", path, lambda: self.client.makedirs(remote))

    def mkdir_exclusive(self, path: str) -> bool:
        """Create directory ``path``; False if it exists. Safe against concurrent creators.

        WebHDFS ``MKDIRS`` succeeds on an existing directory, so the directory is made under a
        unique temporary name and renamed into place with ``renameoptions=NONE``, which the
        namenode refuses when the destination exists: exactly one creator wins.
        """
        if self.exists(path):
            return False
        parent, name = posixpath.split(path.rstrip("/"))
        if not self.isdir(parent):
            raise FileNotFoundError(errno.ENOENT, "parent directory does not exist on WebHDFS", parent)
        tmp_name = f".tmp-mkdir-{name}-{uuid.uuid4().hex[:12]}"
        tmp = self.join(parent, tmp_name)
        self.mkdirs(tmp)
        try:
            try:
                moved = self._rename_with(tmp, path, "NONE")
            except FileExistsError:
                return False
            if moved is None:
                return True
            if moved:
                # the old rename moves into an existing directory instead of failing
                inside = self.join(path, tmp_name)
                if self.exists(inside):
                    self.delete(inside, recursive=True)
                    return False
                return True
            if self.exists(path):
                return False
            raise StorageError(f"WebHDFS could not create directory {path!r} (RENAME returned false)")
        finally:
            if self.exists(tmp):
                self.delete(tmp, recursive=True)

    def ls(self, path: str) -> list[str]:
        return sorted(s["pathSuffix"] for s in self._list(path))

    def read_bytes(self, path: str) -> bytes:
        remote = self._remote(path)

        def read() -> bytes:
            with self.client.read(remote) as reader:
                return cast(bytes, reader.read())

        return self._call("OPEN", path, read)

    def read_from(self, path: str, offset: int) -> bytes:
        remote = self._remote(path)

        def read() -> bytes:
            with self.client.read(remote, offset=offset) as reader:
                return cast(bytes, reader.read())

        return self._call("OPEN", path, read)

    def _create(self, path: str, data: Any, *, overwrite: bool) -> None:
        remote = self._remote(path)
        self._call("CREATE", path, lambda: self.client.write(remote, data, overwrite=overwrite))

    def write_bytes(self, path: str, data: bytes) -> None:
        parent, name = posixpath.split(path.rstrip("/"))
        tmp = self.join(parent, f".tmp-{name}-{uuid.uuid4().hex[:12]}")
        try:
            self._create(tmp, bytes(data), overwrite=False)
            self.rename(tmp, path)
        except BaseException:
            try:
                self.delete(tmp)
            except Exception:  # noqa: BLE001 - best-effort cleanup, the first error matters
                pass
            raise

    def append(self, path: str, data: bytes, *, sync: bool = True) -> None:
        """Append with ``op=APPEND`` (``CREATE`` when missing).

        Each call is one APPEND whose datanode closes the file before answering, so the data is
        durable when this returns whatever ``sync`` says. A namenode still releasing the
        previous writer's lease is retried a few times with a short backoff.
        """
        from hdfs import HdfsError

        remote = self._remote(path)
        payload = bytes(data)
        delay = 0.05
        for attempt in range(_RETRIES):
            try:
                try:
                    self.client.write(remote, payload, append=True)
                    return
                except HdfsError as exc:
                    if exc.exception != "FileNotFoundException":
                        raise
                try:
                    self.client.write(remote, payload, overwrite=False)
                    return
                except HdfsError as exc:
                    # created meanwhile by another writer: append again
                    if exc.exception != "FileAlreadyExistsException":
                        raise
            except HdfsError as exc:
                if exc.exception not in _RETRIABLE or attempt == _RETRIES - 1:
                    raise self._convert(exc, "APPEND", path) from exc  # type: ignore[misc]
            except Exception as exc:
                converted = self._convert(exc, "APPEND", path)
                if converted is None:
                    raise
                raise converted from exc
            time.sleep(delay)
            delay *= 2
        raise StorageError(f"WebHDFS APPEND to {path!r} kept failing after {_RETRIES} attempts")

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, replacing a file at ``dst``.

        Uses ``renameoptions=OVERWRITE`` (atomic on the namenode). On a server without it the
        destination file is deleted first (see the module notes). A directory at ``dst`` is
        refused unless the server supports ``rename2`` (which replaces an empty one).
        """
        if self._rename2 is not True:
            # the old rename moves *into* an existing directory: never let it
            target = self._status(dst)
            if target is not None and target.get("type") == "DIRECTORY":
                raise IsADirectoryError(errno.EISDIR, "rename destination is a directory on WebHDFS", dst)
        done = self._rename_with(src, dst, "OVERWRITE")
        if done is None or done:
            return
        # the old rename answers false for a missing source, a missing destination parent or
        # an existing destination; only the last is replaced (non-atomic window)
        if self._status(src) is None:
            raise FileNotFoundError(errno.ENOENT, "rename source does not exist on WebHDFS", src)
        target = self._status(dst)
        if target is None:
            raise FileNotFoundError(errno.ENOENT, "rename destination's parent does not exist on WebHDFS", dst)
        if target.get("type") == "DIRECTORY":
            raise IsADirectoryError(errno.EISDIR, "rename destination is a directory on WebHDFS", dst)
        self.delete(dst)
        if not self._rename_legacy(src, dst):
            raise StorageError(f"WebHDFS could not rename {src!r} to {dst!r} (RENAME returned false)")

    def _rename_legacy(self, src: str, dst: str) -> bool:
        rsrc, rdst = self._remote(src), self._remote(dst)
        res = self._call("RENAME", src, lambda: self.client._rename(rsrc, destination=rdst))
        return bool((_json_or_none(res) or {}).get("boolean"))

    def delete(self, path: str, *, recursive: bool = False) -> None:
        remote = self._remote(path)
        self._call("DELETE", path, lambda: self.client.delete(remote, recursive=recursive))

    def open(self, path: str, mode: str = "rb") -> IO[bytes]:
        """A stream over ``op=OPEN`` (``rb``), or a writer (``wb``, ``ab``).

        Writers buffer locally (spilling to a temporary file) and send what was written on
        :meth:`flush`, on :meth:`close` and every 8 MiB: ``wb`` creates (replacing) the file on
        the first send and appends afterwards; ``ab`` always appends.
        """
        if mode == "rb":
            remote = self._remote(path)
            res = self._call("OPEN", path, lambda: self.client._open(remote, offset=0))
            return cast(IO[bytes], io.BufferedReader(_ResponseReader(res)))
        if mode in ("wb", "ab"):
            return cast(IO[bytes], _WebHdfsWriter(self, path, append=mode == "ab"))
        raise ValueError(f"mode must be 'rb', 'wb' or 'ab', got {mode!r}")

    def upload(self, local_src: str, path: str) -> None:
        if os.path.isdir(local_src):
            self.mkdirs(path)
            for root, dirs, files in os.walk(local_src):
                rel = os.path.relpath(root, local_src)
                base = path if rel == "." else self.join(path, *rel.split(os.sep))
                for d in dirs:
                    self.mkdirs(self.join(base, d))
                for f in files:
                    self._put_file(os.path.join(root, f), self.join(base, f))
        elif os.path.exists(local_src):
            self._put_file(local_src, path)
        else:
            raise FileNotFoundError(errno.ENOENT, "local path to upload does not exist", local_src)

    def _put_file(self, local_file: str, path: str) -> None:
        with open(local_file, "rb") as f:
            self._create(path, f, overwrite=True)

    def download(self, path: str, local_dst: str) -> None:
        status = self._status(path)
        if status is None:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory on WebHDFS", path)
        if status.get("type") == "DIRECTORY":
            os.makedirs(local_dst, exist_ok=True)
            for child in self._list(path):
                name = child["pathSuffix"]
                self.download(self.join(path, name), os.path.join(local_dst, name))
            return
        os.makedirs(os.path.dirname(local_dst) or ".", exist_ok=True)
        with self.open(path, "rb") as src, open(local_dst, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)

    def walk(self, path: str) -> Iterator[tuple[str, list[str], list[str]]]:
        """Like :func:`os.walk`: ``(directory, subdirectory names, file names)``, top down."""
        dirs: list[str] = []
        files: list[str] = []
        for s in self._list(path):
            (dirs if s.get("type") == "DIRECTORY" else files).append(s["pathSuffix"])
        yield path, sorted(dirs), sorted(files)
        for d in sorted(dirs):
            yield from self.walk(self.join(path, d))


class _ResponseReader(io.RawIOBase):
    """A raw stream over a streaming ``requests`` response; closing it releases the socket."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return int(self._response.raw.readinto(buffer))

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class _WebHdfsWriter(io.RawIOBase):
    """Buffers writes and sends them with CREATE (first send of ``wb``) or APPEND."""

    def __init__(self, fs: WebHdfsFileSystem, path: str, *, append: bool) -> None:
        self._fs = fs
        self._path = path
        self._created = append
        self._buffer = tempfile.SpooledTemporaryFile(max_size=_PUSH_BYTES)  # noqa: SIM115
        self._pending = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError(f"write to closed WebHDFS file {self._path!r}")
        n = self._buffer.write(bytes(data))
        self._pending += n
        if self._pending >= _PUSH_BYTES:
            self.flush()
        return n

    def flush(self) -> None:
        if self.closed or (self._created and not self._pending):
            return
        self._buffer.seek(0)
        payload = self._buffer.read()
        if self._created:
            self._fs.append(self._path, payload)
        else:
            self._fs._create(self._path, payload, overwrite=True)
            self._created = True
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending = 0

    def close(self) -> None:
        if not self.closed:
            try:
                self.flush()
            finally:
                self._buffer.close()
                super().close()


def _json_or_none(response: Any) -> dict[str, Any] | None:
    """The JSON object of a reply, or None for an empty/non-JSON body (``rename2``)."""
    if not response.content:
        return None
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _hostport(netloc: str) -> str:
    return netloc.rpartition("@")[2].lower()


def _env_settings() -> dict[str, Any]:
    """Constructor keywords from ``SPARKEXP_WEBHDFS_*`` variables."""
    settings: dict[str, Any] = {
        "user": os.environ.get(USER_ENV) or None,
        "token": os.environ.get(TOKEN_ENV) or None,
        "auth": (os.environ.get(AUTH_ENV) or "simple").strip().lower(),
    }
    timeout = os.environ.get(TIMEOUT_ENV)
    if timeout:
        try:
            settings["timeout"] = float(timeout)
        except ValueError as exc:
            raise ConfigError(f"{TIMEOUT_ENV}={timeout!r} is not a number of seconds (e.g. 60)") from exc
    verify = os.environ.get(VERIFY_ENV)
    if verify:
        settings["verify"] = False if verify.strip().lower() in ("0", "false", "no") else verify
    cert = os.environ.get(CERT_ENV)
    if cert:
        parts = [p.strip() for p in cert.split(",") if p.strip()]
        settings["cert"] = (parts[0], parts[1]) if len(parts) == 2 else parts[0]
    return settings


def filesystem(uri: str) -> WebHdfsFileSystem:
    """The WebHDFS filesystem for ``uri`` (``webhdfs``/``swebhdfs``, or ``hdfs``/``viewfs``
    when ``SPARKEXP_WEBHDFS_URL`` is set).

    Raises:
        ConfigError: for a URI without a host, or an ``hdfs://`` URI without
            ``SPARKEXP_WEBHDFS_URL``.

    Example:
        >>> filesystem("swebhdfs://nn.example.com/Projects/demo").url
        'https://nn.example.com:9871'
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme
    settings = _env_settings()
    if scheme in ("webhdfs", "swebhdfs"):
        if not parsed.hostname:
            raise ConfigError(
                f"{uri!r} has no namenode host: use {scheme}://namenode:{DEFAULT_PORTS[scheme]}/path"
            )
        port = parsed.port or DEFAULT_PORTS[scheme]
        http = "https" if scheme == "swebhdfs" else "http"
        if parsed.username:
            settings["user"] = unquote(parsed.username)
        return WebHdfsFileSystem(
            f"{http}://{parsed.hostname}:{port}", scheme=scheme, authority=parsed.netloc, **settings
        )
    if scheme in ("hdfs", "viewfs"):
        url = os.environ.get(URL_ENV, "").strip()
        if not url:
            raise ConfigError(
                f"{uri!r} needs {URL_ENV}=http://namenode:9870 to be reached over WebHDFS "
                "(or libhdfs: see docs/storage.md)"
            )
        for u in url.split(";"):
            if u and urlparse(u).scheme not in ("http", "https"):
                raise ConfigError(f"{URL_ENV}={url!r}: each URL must be http(s)://host:port")
        if parsed.username:
            settings["user"] = unquote(parsed.username)
        return WebHdfsFileSystem(url, scheme=scheme, authority=parsed.netloc, **settings)
    raise ConfigError(f"{uri!r} is not a WebHDFS URI: use {', '.join(s + '://' for s in _SCHEMES)}")
