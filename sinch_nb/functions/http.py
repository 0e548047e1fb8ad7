"""The request a custom endpoint (``%%sinch http GET /status``) receives. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HttpRequest", "HttpResponse"]


@dataclass(frozen=True)
class HttpRequest:
    """Method, path, query, headers (lower-case names) and raw body of one request."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class HttpResponse:
    """What a custom endpoint may return for full control: status, body, headers."""

    body: Any = None
    status_code: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
