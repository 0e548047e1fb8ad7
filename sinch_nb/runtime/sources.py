"""The notebook's handlers as source code, and back: what ``to_pytest`` writes (and deploy will ship)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from ..functions.cells import build_handlers
from .registry import Registry

__all__ = ["HandlerSource", "handler_sources", "register_sources"]


@dataclass(frozen=True)
class HandlerSource:
    """One handler: its kind, route key, origin, and either a cell body or a plain function's source."""

    kind: str
    key: str
    origin: str
    source: str
    cell: bool

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "origin": self.origin, "source": self.source, "cell": self.cell}


def handler_sources(registry: Registry) -> tuple[list[str], list[HandlerSource]]:
    """Module cells (in the order they ran) and every handler, as source."""
    modules = [module.source for module in registry.modules.values()]
    handlers = [
        HandlerSource(h.kind, h.key, h.origin, h.source if cell else textwrap.dedent(h.source), cell)
        for h in registry.handlers()
        for cell in [h.origin.startswith("cell")]
    ]
    missing = [h.key for h in handlers if not h.source]
    if missing:
        raise ValueError(f"no source for the handlers {', '.join(missing)}: define them in a cell or a file")
    return modules, handlers


def register_sources(registry: Registry, modules: list[str], handlers: list[dict[str, Any]]) -> None:
    """Rebuild handlers from ``handler_sources`` output in ``registry``."""
    for number, source in enumerate(modules):
        registry.run_module(f"module {number}", source, f"<sinch module {number}>")
    built = build_handlers([], handlers, registry.namespace)
    for item in handlers:
        registry.register(item["kind"], built[item["key"]], item["origin"], key=item["key"], source=item["source"])
