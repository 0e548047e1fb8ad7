"""What every tunnel provider gives: a public URL for a local port, and a way to close it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..functions.errors import TunnelError

__all__ = ["Tunnel", "TunnelError"]


@dataclass
class Tunnel:
    """An open tunnel: ``public_url`` reaches ``local_url``."""

    provider: str
    public_url: str
    local_url: str
    pid: int | None = None
    closer: Callable[[], None] | None = field(default=None, repr=False)
    closed: bool = False

    def close(self) -> None:
        """Close the tunnel (and end its agent process); safe to call twice."""
        if not self.closed and self.closer is not None:
            self.closer()
        self.closed = True
