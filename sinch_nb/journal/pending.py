"""The pending log: each callback written before its handler runs and before its answer leaves.

A file of this session's, mapped into memory: a write is a JSON encoding and a memory copy
(microseconds; no system call, so the request thread keeps the GIL and the writer thread
does not get in between). Once copied, the bytes are in the operating system's page cache
and survive the process being killed. The SQLite writer commits the same records in groups,
off the request path; a half of the file whose records are all committed is written over
(a new epoch). A log left by
a kernel that died is read back into the journal on the next open (``recover``), and removed.

Each entry: length, epoch and CRC-32 (three little-endian uint32), then, in ``marshal``'s
format (the fastest the standard library writes; plain values only, nothing runs on reading),
the record's column values as a tuple (its first entry), or the values of the answer's
columns (later entries: the request is not written again). The header is written last, so a
half-written entry never reads as valid. When the mapped file is full, entries go to a
plain ``.overflow`` file of the same entries.
"""

from __future__ import annotations

import marshal
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["PendingLog", "recover"]

SUFFIX = ".pending"
SIZE = 16 * 1024 * 1024
HALF = SIZE // 2
_HEADER = struct.Struct("<III")
_PLAIN = (str, int, float, bool, type(None))


class PendingLog:
    """This session's pending log, in ``folder``; not thread-safe (the journal holds a lock around it).

    The mapped file has two halves: entries go to one until it is full, then to the other once
    every entry there is committed (``committed`` counts the records the SQLite writer has done).
    """

    def __init__(self, folder: Path, session: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{session}{SUFFIX}"
        self.overflow_path = self.path.with_name(self.path.name + ".overflow")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self._overflow: int | None = None
        self._half = 0
        self._epoch = 1
        self._offset = 0
        #: The sequence number of the last record written to each half, and to the overflow file.
        self._last = [0, 0]
        self._last_overflow = 0
        #: How many records the SQLite writer has committed (set by the journal's writer).
        self.committed = 0

    def write(self, entry: tuple[Any, ...], sequence: int) -> None:
        """Append a record's column values (or, later, its answer's); ``sequence`` numbers it."""
        try:
            payload = marshal.dumps(entry)
        except ValueError:  # a value marshal cannot write (a handler's odd object): as its str
            payload = marshal.dumps(tuple(v if isinstance(v, _PLAIN) else str(v) for v in entry))
        limit = (self._half + 1) * HALF
        if self._offset + _HEADER.size + len(payload) > limit and not self._switch(len(payload)):
            if self._overflow is None:
                self._overflow = os.open(self.overflow_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.write(self._overflow, _HEADER.pack(len(payload), 0, zlib.crc32(payload)) + payload)
            self._last_overflow = sequence
            return
        start = self._offset + _HEADER.size
        self._map[start : start + len(payload)] = payload
        self._map[self._offset : start] = _HEADER.pack(len(payload), self._epoch, zlib.crc32(payload))
        self._offset = start + len(payload)
        self._last[self._half] = sequence

    def _switch(self, length: int) -> bool:
        """Move to the other half if all of it, and all that overflowed, is committed; True if moved.

        Until then entries keep going to the overflow file, so it always holds the newest entries
        (``recover`` reads it last) and is emptied only once nothing in it is still needed.
        """
        other = 1 - self._half
        waiting = max(self._last[other], self._last_overflow)
        if waiting > self.committed or _HEADER.size + length > HALF:
            return False
        self._half, self._epoch, self._offset = other, self._epoch + 1, other * HALF
        self._map[self._offset : self._offset + _HEADER.size] = bytes(_HEADER.size)
        if self._overflow is not None:
            os.ftruncate(self._overflow, 0)
        return True

    def close(self, *, remove: bool) -> None:
        """Unmap; ``remove`` the files when everything in them is committed."""
        self._map.close()
        if self._overflow is not None:
            os.close(self._overflow)
        if remove:
            self.path.unlink(missing_ok=True)
            self.overflow_path.unlink(missing_ok=True)


def _half_entries(data: bytes, start: int) -> tuple[int, list[Any]]:
    """One half's epoch and its entries, in order (up to the first that is not whole)."""
    offset, epoch, entries = start, 0, []
    while offset + _HEADER.size <= start + HALF and offset + _HEADER.size <= len(data):
        length, entry_epoch, crc = _HEADER.unpack_from(data, offset)
        payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
        if length == 0 or entry_epoch != (epoch or entry_epoch) or zlib.crc32(payload) != crc:
            break
        epoch = entry_epoch
        offset += _HEADER.size + length
        entries.append(_load(payload))
    return epoch, entries


def _entries(path: Path) -> Iterator[Any]:
    """Every entry, oldest half first, then the overflow's lines."""
    data = path.read_bytes()
    for _, entries in sorted((_half_entries(data, half * HALF) for half in (0, 1)), key=lambda pair: pair[0]):
        yield from entries
    overflow = path.with_name(path.name + ".overflow")
    data = overflow.read_bytes() if overflow.is_file() else b""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, _, crc = _HEADER.unpack_from(data, offset)
        payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
        if zlib.crc32(payload) != crc:
            break  # cut short by the crash: it was never acknowledged
        offset += _HEADER.size + length
        yield _load(payload)


def _load(payload: bytes) -> Any:
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def recover(
    folder: Path, alive: Callable[[str], bool], columns: list[str], answer_columns: list[str]
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The latest state of every record in logs whose session is gone, and those logs' files (to remove)."""
    latest: dict[int, dict[str, Any]] = {}
    files = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        if alive(path.name.removesuffix(SUFFIX)):
            continue
        files += [path, path.with_name(path.name + ".overflow")]
        for entry in _entries(path):
            if isinstance(entry, tuple) and len(entry) == len(columns):
                row = dict(zip(columns, entry, strict=True))
                if isinstance(row.get("id"), int):
                    latest[row["id"]] = row
            elif isinstance(entry, tuple) and len(entry) == len(answer_columns):
                answer = dict(zip(answer_columns, entry, strict=True))
                if answer.get("id") in latest:
                    latest[answer["id"]].update({k: v for k, v in answer.items() if v is not None})
    return [latest[key] for key in sorted(latest)], files
