"""TensorBoard event files written without tensorboardX, TensorFlow or protobuf.

sparkexp writes a few small events per trial (reported scalars, the HParams session). The
``tensorboardX`` package imports torch when torch is installed (``tensorboardX/__init__.py``
loads its PyTorch helpers: ~2.6 s and 450-600 MB in every Python worker), so the handful of
protobuf messages needed here are encoded by hand: the wire format is stable and these
messages (``Event``, ``Summary``, the HParams plugin's ``SessionStartInfo``/``SessionEndInfo``)
are TensorBoard's public file format. Records are TFRecord frames (length, masked CRC-32C,
data, masked CRC-32C), as TensorFlow writes them.

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with EventWriter(d, suffix=".demo") as w:
    ...     w.write(scalar_event("loss", 0.5, step=3))
    >>> sorted(os.listdir(d))[0].startswith("events.out.tfevents.")
    True
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

__all__ = [
    "EventWriter",
    "crc32c",
    "event",
    "scalar_event",
    "scalar_value",
    "hparams_value",
    "session_start",
    "session_end",
    "SESSION_STATUS_CODES",
]

#: TensorBoard's HParams ``Status`` enum.
SESSION_STATUS_CODES = {"STATUS_UNKNOWN": 0, "STATUS_SUCCESS": 1, "STATUS_FAILURE": 2,
                        "STATUS_RUNNING": 3}


def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> bytes:
    crc = crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + _masked_crc(header) + data + _masked_crc(data)


# --- protobuf wire format: just what these messages use ----------------------------------

def _varint(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF  # negative int64: ten bytes, two's complement
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value) if value else b""


def _double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", value)


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _key(field, 2) + _varint(len(data)) + data


def event(*, wall_time: float, step: int = 0, summary: bytes | None = None,
          file_version: str | None = None) -> bytes:
    """A serialized ``Event``; ``summary`` is a serialized ``Summary``."""
    out = _double(1, wall_time) + _int(2, step)
    if file_version is not None:
        out += _bytes(3, file_version)
    if summary is not None:
        out += _bytes(5, summary)
    return out


def scalar_value(tag: str, value: float) -> bytes:
    """A serialized ``Summary`` holding one scalar (``simple_value``)."""
    return _bytes(1, _bytes(1, tag) + _float(2, float(value)))


def scalar_event(tag: str, value: float, *, step: int = 0, wall_time: float | None = None) -> bytes:
    """A serialized ``Event`` holding one scalar."""
    return event(wall_time=time.time() if wall_time is None else wall_time, step=step,
                 summary=scalar_value(tag, value))


def hparams_value(tag: str, plugin_data: bytes) -> bytes:
    """A serialized ``Summary`` with an ``hparams`` plugin value and the empty float tensor
    TensorBoard's own HParams summaries carry (every reader keeps a value that has one)."""
    metadata = _bytes(1, _bytes(1, "hparams") + _bytes(2, plugin_data))
    empty_float = _int(1, 1) + _bytes(2, _bytes(2, b""))  # DT_FLOAT, shape [0]
    return _bytes(1, _bytes(1, tag) + _bytes(8, empty_float) + _bytes(9, metadata))


def _struct_value(value: bool | float | str) -> bytes:
    """A serialized ``google.protobuf.Value``."""
    if isinstance(value, bool):
        return _key(4, 0) + _varint(int(value))
    if isinstance(value, float):
        return _double(2, value)
    return _bytes(3, value)


def session_start(hparams: Mapping[str, bool | float | str], start_time: float) -> bytes:
    """Serialized ``HParamsPluginData`` with a ``SessionStartInfo``."""
    info = b"".join(_bytes(1, _bytes(1, name) + _bytes(2, _struct_value(value)))
                    for name, value in hparams.items())
    info += _double(5, start_time)
    return _bytes(3, info)


def session_end(status: str, end_time: float) -> bytes:
    """Serialized ``HParamsPluginData`` with a ``SessionEndInfo`` (``status``: ``STATUS_*``)."""
    return _bytes(4, _int(1, SESSION_STATUS_CODES.get(status, 0)) + _double(2, end_time))


class EventWriter:
    """One event file in ``logdir``: ``events.out.tfevents.<time>.<host><suffix>``.

    Local files are appended to directly; other schemes (``hdfs://``, ``webhdfs://``) go
    through :mod:`sparkexp.fs`, sending what was written at each :meth:`flush`. ``create``
    makes ``logdir`` first if it does not exist.
    """

    def __init__(self, logdir: str, *, suffix: str = "", create: bool = False) -> None:
        from sparkexp.fs import filesystem_for

        fs = filesystem_for(logdir)
        if create and not fs.isdir(logdir):
            fs.mkdirs(logdir)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}{suffix}"
        self.path = fs.join(logdir, name)
        self._file: Any
        if fs.scheme == "file":
            local = self.path[len("file://"):] if self.path.startswith("file://") else self.path
            self._file = open(local, "ab")  # noqa: SIM115 - closed in close()
        else:
            from sparkexp.fs._tbwriter import EventFileWriter

            self._file = EventFileWriter(self.path)
        self.write(event(wall_time=time.time(), file_version="brain.Event:2"))

    def write(self, serialized_event: bytes) -> None:
        """Append one serialized ``Event``."""
        self._file.write(_record(serialized_event))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
