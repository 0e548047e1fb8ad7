"""The dev ``FunctionContext``: an in-memory cache, ``./storage``, ``./data/function.db``.

As the Functions dev runtime has them (reference/sinch-functions.md §8): the cache
is lost on restart, storage and the database are plain local files.
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..functions.context import DEFAULT_CACHE_TTL, FunctionConfig, FunctionStorage, RequestLog
from ..functions.environment import Environment

__all__ = ["DevCache", "DevContext", "DevStorage"]


class DevCache:
    """Thread-safe in-memory cache with per-entry expiry; values must be JSON-serialisable."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _live(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        return entry[0]

    def set(self, key: str, value: Any, ttl: float = DEFAULT_CACHE_TTL) -> None:
        """Store ``value`` for ``ttl`` seconds (default 3600)."""
        try:
            encoded = json.dumps(value)
        except TypeError as error:
            raise TypeError(f"cache values must be JSON-serialisable, as in the Functions runtime: {error}") from None
        with self._lock:
            self._entries[key] = (encoded, self._clock() + ttl)

    def get(self, key: str, default: Any = None) -> Any:
        """The value for ``key``, or ``default`` when absent or expired."""
        with self._lock:
            encoded = self._live(key)
        return default if encoded is None else json.loads(encoded)

    def has(self, key: str) -> bool:
        """Whether ``key`` holds a live value."""
        with self._lock:
            return self._live(key) is not None

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""
        with self._lock:
            return self._entries.pop(key, None) is not None

    def extend(self, key: str, seconds: float) -> bool:
        """Give a live entry ``seconds`` more; False when it is absent."""
        with self._lock:
            encoded = self._live(key)
            if encoded is None:
                return False
            self._entries[key] = (encoded, self._entries[key][1] + seconds)
            return True

    def keys(self, pattern: str = "*") -> list[str]:
        """Live keys matching a glob such as ``session:*``."""
        with self._lock:
            return sorted(k for k in list(self._entries) if fnmatch.fnmatchcase(k, pattern) and self._live(k))

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The live values among ``keys``."""
        found = {key: self.get(key, _MISSING) for key in keys}
        return {key: value for key, value in found.items() if value is not _MISSING}

    def copy(self) -> DevCache:
        """Another cache holding the same entries (the explorer's sandbox); changes to either stay there."""
        other = DevCache(self._clock)
        with self._lock:
            other._entries = dict(self._entries)
        return other


_MISSING = object()


class DevStorage:
    """Blob storage as files under ``root`` (``./storage``); keys may contain ``/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not key or not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {key!r} leaves the storage folder; use a relative key such as 'a/b.txt'")
        return path

    def write(self, key: str, data: bytes | str) -> None:
        """Store ``data`` under ``key``."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    def read(self, key: str) -> bytes:
        """The bytes under ``key``; KeyError when absent."""
        path = self._path(key)
        if not path.is_file():
            raise KeyError(f"no storage object {key!r}")
        return path.read_bytes()

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``."""
        if not self.root.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix))

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""
        path = self._path(key)
        if not path.is_file():
            return False
        path.unlink()
        return True


@dataclass(repr=False)
class DevContext:
    """The context a handler receives in the notebook runtime."""

    cache: DevCache
    storage: FunctionStorage
    database: str
    config: FunctionConfig
    assets_dir: Path
    log: RequestLog = field(default_factory=RequestLog)
    env: Mapping[str, str] = field(default_factory=lambda: Environment(os.environ))
    request_id: str = field(default_factory=lambda: f"{random.getrandbits(128):032x}")
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    voice: Any = None
    conversation: Any = None
    sms: Any = None
    numbers: Any = None

    def __repr__(self) -> str:
        clients = [name for name in ("voice", "conversation", "sms", "numbers") if getattr(self, name)]
        return (
            f"<context request {self.request_id} of function {self.config.function_name!r}: cache, storage, "
            f"database, log, config, env ({len(self.env)} variables), clients {clients or 'none'}>"
        )

    def assets(self, name: str) -> str:
        """The text of ``assets/<name>``, as ``context.assets()`` in the Functions runtime."""
        path = (self.assets_dir / name).resolve()
        if not path.is_relative_to(self.assets_dir.resolve()) or not path.is_file():
            raise FileNotFoundError(f"no asset {name!r} in {self.assets_dir}; put the file in that folder")
        return path.read_text()
