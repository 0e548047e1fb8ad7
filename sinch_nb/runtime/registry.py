"""The handler registry: one handler per route, each owned by the cell (or function) that made it.

Re-running a cell swaps its handler in one assignment and bumps the version;
a request takes its handler once, so calls in flight finish on the old one. A cell
that changes from ``%%sinch ice`` to ``%%sinch pie`` gives up its ICE route.
"""

from __future__ import annotations

import inspect
import linecache
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..functions import routing, svaml

__all__ = ["Handler", "Registry"]


@dataclass(frozen=True)
class Handler:
    """A registered handler: what it answers, where it came from, which version it is."""

    key: str
    kind: str
    function: Callable[..., Any]
    #: Where it came from, as the user reads it: ``cell [5]``, ``function mymodule.greet``.
    origin: str
    version: int
    source: str = ""
    is_async: bool = False
    #: What defined it, the same across re-runs (a cell's id): re-running that cell replaces it.
    defined_in: str = ""

    @property
    def label(self) -> str:
        """``ice v2 (cell 5)``."""
        return f"{self.key} v{self.version} ({self.origin})"


@dataclass
class ModuleCell:
    """A ``%%sinch module`` cell: source run into the handlers' namespace."""

    origin: str
    source: str
    names: list[str] = field(default_factory=list)


class Registry:
    """Handlers by route key, module cells by origin, and the namespace handler cells run in."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._custom: frozenset[str] = frozenset()
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()
        self.modules: dict[str, ModuleCell] = {}
        self.namespace: dict[str, Any] = {"svaml": svaml, "__name__": "sinch_nb_handlers"}

    def register(
        self,
        kind: str,
        function: Callable[..., Any],
        origin: str,
        *,
        key: str | None = None,
        source: str = "",
        defined_in: str | None = None,
    ) -> Handler:
        """Add or replace the handler for ``key`` (default: ``kind``).

        ``origin`` is shown to the user (``cell [5]``); ``defined_in`` identifies the cell
        across re-runs (its cell id) and defaults to ``origin``.
        """
        defined_in = defined_in or origin
        if kind not in routing.HANDLER_KINDS:
            raise ValueError(f"unknown handler kind {kind!r}; use one of {', '.join(routing.HANDLER_KINDS)}")
        if kind == "http":  # checked here too: a custom endpoint never takes over a signed route
            key = routing.handler_key(kind, *(key or "").split(" ", 1))
        key = key or routing.handler_key(kind)
        with self._lock:
            version = self._versions.get(key, 0) + 1
            self._versions[key] = version
            handler = Handler(
                key, kind, function, origin, version, source or _source_of(function), _is_async(function), defined_in
            )
            handlers = {k: h for k, h in self._handlers.items() if not (h.defined_in == defined_in and k != key)}
            handlers[key] = handler
            self._replace(handlers)
        return handler

    def _replace(self, handlers: dict[str, Handler]) -> None:
        # One assignment each: a reader sees the old table or the new one, never half of each.
        self._custom = frozenset(k for k, h in handlers.items() if h.kind == "http")
        self._handlers = handlers

    def get(self, key: str) -> Handler | None:
        """The current handler for ``key``."""
        return self._handlers.get(key)

    def handlers(self) -> list[Handler]:
        """Every handler, voice first, then by key."""
        order = {kind: i for i, kind in enumerate(routing.HANDLER_KINDS)}
        return sorted(self._handlers.values(), key=lambda h: (order[h.kind], h.key))

    def custom_keys(self) -> frozenset[str]:
        """Keys of the custom endpoints (``GET /status``)."""
        return self._custom

    def run_module(self, origin: str, source: str, filename: str) -> ModuleCell:
        """Run a module cell's code into the handlers' namespace and remember its source."""
        before = set(self.namespace)
        code = compile(source, filename, "exec")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(code, self.namespace)
        module = ModuleCell(origin, source, sorted(n for n in set(self.namespace) - before if not n.startswith("_")))
        previous = self.modules.get(origin)
        if previous:
            module.names = sorted({*module.names, *(n for n in previous.names if n in self.namespace)})
        self.modules[origin] = module
        return module

    def clear(self) -> None:
        """Forget every handler and module cell."""
        with self._lock:
            self._replace({})
            self.modules.clear()


def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


def _source_of(function: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""
