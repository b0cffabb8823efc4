"""The filesystem interface every project root goes through (driver and executors alike)."""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from typing import IO

__all__ = ["FileSystem"]


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
