"""A request the runtime refuses before any handler runs: its status, message and what to add."""

from __future__ import annotations

from typing import Any

from ..functions.errors import SinchNbError

__all__ = ["RefusedError"]


class RefusedError(SinchNbError):
    """A request Sinch would never send, or one not signed as it must be; the message names the fix."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        #: ``invalid`` or ``unsigned`` when refused for its signature.
        self.signature = signature
        self.headers = headers
        #: More fields for the JSON body (``known_routes``).
        self.extra = extra
