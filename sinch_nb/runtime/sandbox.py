"""The explorer's sandbox: a path's handlers get their own copy of the state, and clients that only record.

Each explored path is a simulated call marked with ``SANDBOX_HEADER`` (believed only with the
runtime's marker). Its handlers see a copy of the cache, storage that reads through to the real
folder but writes to memory, a copy of the database file, and ``context.voice`` / ``conversation``
/ ``sms`` / ``numbers`` as recorders: every call on them is listed (``Sandbox.sent``), none is
made. So ``sn.explore()`` changes nothing and sends nothing, and every path starts from the same state.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import DevCache, DevStorage

__all__ = ["OverlayStorage", "Recorder", "Sandbox"]

_LIMIT = 240


class Recorder:
    """Stands in for a Sinch client: attribute chains and calls are recorded as text, nothing is sent."""

    __slots__ = ("_path", "_sent")

    def __init__(self, path: str, sent: list[str]) -> None:
        self._path, self._sent = path, sent

    def __getattr__(self, name: str) -> Recorder:
        if name.startswith("__"):
            raise AttributeError(name)
        return Recorder(f"{self._path}.{name}", self._sent)

    def __call__(self, *args: Any, **kwargs: Any) -> Recorder:
        shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        line = f"{self._path}({shown})"
        self._sent.append(line if len(line) <= _LIMIT else line[: _LIMIT - 1] + "…")
        return Recorder(f"{self._path}(…)", self._sent)

    def __repr__(self) -> str:
        return f"<recorder {self._path}: calls are listed, not made>"


class OverlayStorage:
    """Storage that reads through to the real one and keeps writes and deletes in memory."""

    def __init__(self, live: DevStorage) -> None:
        self.live = live
        self.written: dict[str, bytes] = {}
        self.deleted: set[str] = set()

    def write(self, key: str, data: bytes | str) -> None:
        """Keep ``data`` for ``key`` in this sandbox."""
        self.live._path(key)  # the same key rules as the real storage
        self.written[key] = data.encode() if isinstance(data, str) else data
        self.deleted.discard(key)

    def read(self, key: str) -> bytes:
        """This sandbox's bytes for ``key``, else the real storage's."""
        if key in self.written:
            return self.written[key]
        if key in self.deleted:
            raise FileNotFoundError(f"no stored object {key!r}")
        return self.live.read(key)

    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix``, as this sandbox sees them."""
        keys = (set(self.live.list(prefix)) - self.deleted) | {k for k in self.written if k.startswith(prefix)}
        return sorted(keys)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored, as this sandbox sees it."""
        return key in self.written or (key not in self.deleted and self.live.exists(key))

    def delete(self, key: str) -> bool:
        """Remove ``key`` in this sandbox; True if it was there."""
        existed = self.exists(key)
        self.written.pop(key, None)
        self.deleted.add(key)
        return existed


@dataclass
class Sandbox:
    """One explored path's state: cache, storage and database copies, recording clients, what they sent."""

    cache: DevCache
    storage: OverlayStorage
    database: str
    folder: Path
    sent: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, cache: DevCache, storage: DevStorage, database: str) -> Sandbox:
        """A sandbox starting from the live state."""
        folder = Path(tempfile.mkdtemp(prefix="sinch_nb-sandbox-"))
        copy = folder / Path(database).name
        if Path(database).is_file():
            shutil.copyfile(database, copy)
        return cls(cache.copy(), OverlayStorage(storage), str(copy), folder)

    def client(self, name: str) -> Recorder:
        """``context.<name>`` in this sandbox."""
        return Recorder(f"context.{name}", self.sent)

    def close(self) -> list[str]:
        """Remove the copies; what the path's handlers would have sent."""
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.sent
