"""The filesystem interface every project root goes through (driver and executors alike)."""

from __future__ import annotations

import posixpath
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import IO, Any

__all__ = ["FileSystem", "LazyConnection"]


class FileSystem(ABC):
    """A minimal filesystem over URIs or plain paths.

    Implementations: local paths and ``file://`` (:class:`~sparkexp.fs.LocalFileSystem`),
    ``webhdfs://`` and ``hdfs://``. Paths passed in are full URIs or absolute paths as returned
    by :meth:`join`; the same string works on the driver and on executors.

    Writes of whole records are atomic (:meth:`write_bytes` writes a temporary file and renames
    it), and :meth:`append` adds bytes at the end of a file, flushing to durable storage where
    the filesystem allows. Readers never see half of a :meth:`write_bytes`; an interrupted
    :meth:`append` can leave at most an incomplete last line, which journal readers skip.
    """

    #: URI scheme handled (``file``, ``hdfs``, ``webhdfs``).
    scheme: str = ""

    def join(self, base: str, *parts: str) -> str:
        """Join path segments with ``/`` (URIs keep their scheme and authority)."""
        return posixpath.join(base, *parts)

    @abstractmethod
    def exists(self, path: str) -> bool:
        """True if a file or directory exists at ``path``."""

    @abstractmethod
    def isdir(self, path: str) -> bool:
        """True if ``path`` is a directory."""

    @abstractmethod
    def mkdirs(self, path: str) -> None:
        """Create ``path`` and its parents; no error if it exists."""

    @abstractmethod
    def mkdir_exclusive(self, path: str) -> bool:
        """Create ``path`` (parents must exist); False if it already existed."""

    @abstractmethod
    def ls(self, path: str) -> list[str]:
        """Names (not paths) of the entries of directory ``path``, sorted."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """The whole content of file ``path``."""

    def read_from(self, path: str, offset: int) -> bytes:
        """The bytes of file ``path`` from ``offset`` to its current end (for tailing a file
        that only grows, such as the journal or a trial's logs).

        Filesystems that can start a read at an offset override this; the default seeks when
        the stream can, else skips ``offset`` bytes.
        """
        with self.open(path, "rb") as f:
            if offset:
                try:
                    f.seek(offset)
                except (OSError, ValueError):
                    f.read(offset)
            return f.read()

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace file ``path`` with ``data`` atomically (temporary file, then rename)."""

    @abstractmethod
    def append(self, path: str, data: bytes, *, sync: bool = True) -> None:
        """Append ``data`` to ``path`` (created if missing); durable when ``sync``."""

    @abstractmethod
    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, replacing a file at ``dst``."""

    @abstractmethod
    def delete(self, path: str, *, recursive: bool = False) -> None:
        """Remove a file, or a directory (with ``recursive=True`` if not empty)."""

    @abstractmethod
    def open(self, path: str, mode: str = "rb") -> IO[bytes]:
        """A binary stream for reading (``rb``) or writing (``wb``, not atomic) a file."""

    @abstractmethod
    def upload(self, local_path: str, path: str) -> None:
        """Copy a local file or directory tree to ``path`` on this filesystem."""

    @abstractmethod
    def download(self, path: str, local_path: str) -> None:
        """Copy a file or directory tree at ``path`` to the local disk."""

    def read_text(self, path: str) -> str:
        """The content of ``path`` decoded as UTF-8."""
        return self.read_bytes(path).decode("utf-8")

    def write_text(self, path: str, text: str) -> None:
        """Atomically replace ``path`` with UTF-8 ``text``."""
        self.write_bytes(path, text.encode("utf-8"))


class LazyConnection:
    """Mixin for a filesystem whose client is made on first use, once per process.

    The client (sockets, a lock) is never pickled: a filesystem shipped to executors inside a
    Spark closure connects again there. A subclass names the attribute holding its client in
    ``_client_attr``, calls :meth:`_init_connection` in ``__init__`` and gets the client from
    :meth:`_connection`.

    Example:
        >>> import copy
        >>> class Remote(LazyConnection):
        ...     def __init__(self):
        ...         self._init_connection()
        ...     def client(self):
        ...         return self._connection(lambda: object())
        >>> r = Remote()
        >>> r.client() is r.client()
        True
        >>> copy.copy(r)._client is None   # as pickling does: no client travels
        True
    """

    _client_attr = "_client"
    _lock: threading.Lock

    def _init_connection(self, client: Any = None) -> None:
        setattr(self, self._client_attr, client)
        self._lock = threading.Lock()

    def _connection(self, make: Callable[[], Any]) -> Any:
        with self._lock:
            client = getattr(self, self._client_attr)
            if client is None:
                client = make()
                setattr(self, self._client_attr, client)
            return client

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state[self._client_attr] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

