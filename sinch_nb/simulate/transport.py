"""How a simulated callback reaches a runtime, and what comes back: over real HTTP, or in process."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import httpx

from ..functions.origin import ERROR_HEADER, OUTCOME_HEADER

__all__ = ["Reply", "Transport", "failure", "http_transport"]


class Reply(NamedTuple):
    """A runtime's answer to one callback: status, body and headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = {}


#: ``(path, body, headers) -> Reply``: how a callback reaches the runtime.
Transport = Callable[[str, bytes, dict[str, str]], Reply]


def http_transport(client: httpx.Client) -> Transport:
    """Callbacks over real HTTP, as Sinch sends them."""

    def send(path: str, body: bytes, headers: dict[str, str]) -> Reply:
        response = client.post(path, content=body, headers=headers)
        return Reply(response.status_code, response.content, dict(response.headers))

    return send


def failure(reply: Reply) -> str | None:
    """Why the app's handler did not answer this callback itself (the runtime says so to marked requests)."""
    headers = {name.lower(): value for name, value in reply.headers.items()}
    if headers.get(OUTCOME_HEADER) not in ("fallback", "error"):
        return None
    return headers.get(ERROR_HEADER) or "the handler raised"
