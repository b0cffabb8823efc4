"""Local disk (plain paths and ``file://`` URIs)."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from typing import IO
from urllib.parse import urlparse

from sparkexp.fs._base import FileSystem

__all__ = ["LocalFileSystem", "local_path"]


def local_path(path: str) -> str:
    """The OS path of a plain path or ``file://`` URI."""
    if path.startswith("file:"):
        parsed = urlparse(path)
        return parsed.path or "/"
    return path


@functools.cache
def _umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, once
    os.umask(mask)
    return mask


class LocalFileSystem(FileSystem):
    """The local disk. Atomic writes use a temporary file in the same directory + ``os.replace``.

    Example:
        >>> import tempfile, os
        >>> fs = LocalFileSystem()
        >>> d = tempfile.mkdtemp()
        >>> fs.write_text(os.path.join(d, "a.json"), "{}")
        >>> fs.read_text(os.path.join(d, "a.json"))
        '{}'
    """

    scheme = "file"

    def exists(self, path: str) -> bool:
        return os.path.exists(local_path(path))

    def isdir(self, path: str) -> bool:
        return os.path.isdir(local_path(path))

    def mkdirs(self, path: str) -> None:
        os.makedirs(local_path(path), exist_ok=True)

    def mkdir_exclusive(self, path: str) -> bool:
        try:
            os.mkdir(local_path(path))
        except FileExistsError:
            return False
        return True

    def ls(self, path: str) -> list[str]:
        return sorted(os.listdir(local_path(path)))

    def read_bytes(self, path: str) -> bytes:
        with open(local_path(path), "rb") as f:
            return f.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        target = local_path(path)
        directory = os.path.dirname(target) or "."
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; records are meant to be shared
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def append(self, path: str, data: bytes, *, sync: bool = True) -> None:
        fd = os.open(local_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, src: str, dst: str) -> None:
        os.replace(local_path(src), local_path(dst))

    def delete(self, path: str, *, recursive: bool = False) -> None:
        p = local_path(path)
        if os.path.isdir(p) and not os.path.islink(p):
            if recursive:
                shutil.rmtree(p)
            else:
                os.rmdir(p)
        elif os.path.lexists(p):
            os.unlink(p)

    def open(self, path: str, mode: str = "rb") -> IO[bytes]:
        if mode not in ("rb", "wb", "ab"):
            raise ValueError(f"mode must be 'rb', 'wb' or 'ab', got {mode!r}")
        return open(local_path(path), mode)  # noqa: SIM115 - the caller closes it

    def upload(self, local_src: str, path: str) -> None:
        self._copy(local_src, local_path(path))

    def download(self, path: str, local_dst: str) -> None:
        self._copy(local_path(path), local_dst)

    @staticmethod
    def _copy(src: str, dst: str) -> None:
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
            shutil.copy2(src, dst)
