"""What a handler's ``context`` offers, as in the Sinch Functions runtime (reference §3).

These are protocols: the notebook runtime backs them with memory and local files,
the deployed Function with the Functions runtime. Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .errors import MissingVariableError

__all__ = [
    "DEFAULT_CACHE_TTL",
    "FunctionCache",
    "FunctionConfig",
    "FunctionContext",
    "FunctionLog",
    "FunctionStorage",
    "MissingVariableError",
    "RequestLog",
]

#: Seconds a cache entry lives unless ``ttl`` says otherwise.
DEFAULT_CACHE_TTL = 3600


class FunctionCache(Protocol):
    """Key-value cache; values are JSON-serialisable, entries expire after ``ttl`` seconds."""

    def set(self, key: str, value: Any, ttl: float = DEFAULT_CACHE_TTL) -> None: ...
    def get(self, key: str, default: Any = None) -> Any: ...
    def has(self, key: str) -> bool: ...
    def delete(self, key: str) -> bool: ...
    def extend(self, key: str, seconds: float) -> bool: ...
    def keys(self, pattern: str = "*") -> list[str]: ...
    def get_many(self, keys: list[str]) -> dict[str, Any]: ...


class FunctionStorage(Protocol):
    """Blob storage; keys may contain ``/``."""

    def write(self, key: str, data: bytes | str) -> None: ...
    def read(self, key: str) -> bytes: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> bool: ...


class FunctionLog(Protocol):
    """A logger whose records are kept with the request that wrote them."""

    def debug(self, message: str, *args: Any) -> None: ...
    def info(self, message: str, *args: Any) -> None: ...
    def warning(self, message: str, *args: Any) -> None: ...
    def error(self, message: str, *args: Any) -> None: ...


class RequestLog:
    """``context.log``: records kept with the request (journal ``logs``), never printed."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def _add(self, level: str, message: str, args: tuple[Any, ...]) -> None:
        text = message % args if args else str(message)
        # Kept, not printed: the caller decides where records go (the journal, Node's log).
        self.records.append({"level": level, "message": text, "time": time.time()})

    def debug(self, message: str, *args: Any) -> None:
        self._add("debug", message, args)

    def info(self, message: str, *args: Any) -> None:
        self._add("info", message, args)

    def warning(self, message: str, *args: Any) -> None:
        self._add("warning", message, args)

    def error(self, message: str, *args: Any) -> None:
        self._add("error", message, args)


@dataclass(frozen=True)
class FunctionConfig:
    """The function's name, project and non-secret variables."""

    function_name: str = "notebook"
    project_id: str | None = None
    environment: str = "development"
    variables: Mapping[str, str] = field(default_factory=dict)

    def get_variable(self, name: str, default: str | None = None) -> str | None:
        """The variable ``name``, or ``default``."""
        return self.variables.get(name, default)

    def require_variable(self, name: str) -> str:
        """The variable ``name``; raises naming how to set it when absent."""
        if name not in self.variables:
            raise MissingVariableError(
                f"variable {name} is not set: pass sn.configure(variables={{'{name}': ...}}) "
                "or add it to sinch.json's variables"
            )
        return self.variables[name]


@runtime_checkable
class FunctionContext(Protocol):
    """The second argument of every handler."""

    cache: FunctionCache
    storage: FunctionStorage
    database: str
    log: FunctionLog
    config: FunctionConfig
    env: Mapping[str, str]
    request_id: str
    timestamp: str
    voice: Any
    conversation: Any
    sms: Any
    numbers: Any

    def assets(self, name: str) -> str: ...
