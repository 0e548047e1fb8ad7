"""What the pipeline reads of one request: method, path, query, headers and a way to read the body.

Read straight from the ASGI scope (one endpoint serves every path; routing is Sinch's,
``functions.routing``), or built in process for replay and the explorer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .protocol import HEADER_BYTES_KEY, MAX_HEADER_BYTES
from .refused import RefusedError

__all__ = ["Incoming", "read_body"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: What tunnels and proxies add: a request carrying one came from outside, whatever its socket says.
_FORWARDED = frozenset({"x-forwarded-for", "forwarded", "cf-connecting-ip", "x-real-ip", "ngrok-trace-id"})

Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One request; header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    receive: Receive
    #: The size of the request's headers when they were over the cap (only those under it are kept).
    header_bytes: int = 0
    #: Whether it comes from this machine itself, not through a tunnel or proxy.
    local: bool = True

    @classmethod
    def from_scope(cls, scope: Any, receive: Receive) -> Incoming:
        """The request uvicorn hands over."""
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        query = scope["query_string"].decode("latin-1")
        client = (scope.get("client") or ("", 0))[0]
        local = client in _LOOPBACK and not _FORWARDED.intersection(headers)
        return cls(scope["method"], scope["path"], query, headers, receive, scope.get(HEADER_BYTES_KEY, 0), local)

    @classmethod
    def in_process(cls, method: str, path: str, headers: dict[str, str], body: bytes) -> Incoming:
        """A request without a socket: ``path`` may carry a query."""
        bare, _, query = path.partition("?")
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(method.upper(), bare, query, lowered, _body_once(body))


def _body_once(body: bytes) -> Receive:
    """An ASGI ``receive`` that hands over ``body`` in one message, then a disconnect."""
    messages: list[dict[str, Any]] = [
        {"type": "http.disconnect"},
        {"type": "http.request", "body": body, "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop() if len(messages) > 1 else messages[0]

    return receive


async def read_body(incoming: Incoming, limit: int) -> bytes:
    """The whole body, refused with 413 past ``limit`` bytes (declared or read), or 431 for oversized headers."""
    if incoming.header_bytes:
        raise RefusedError(
            431,
            f"request headers of {incoming.header_bytes} bytes refused: at most {MAX_HEADER_BYTES}; "
            "Sinch sends a few hundred",
        )
    declared = incoming.headers.get("content-length", "")
    too_large = RefusedError(413, f"body over {limit} bytes; Sinch callbacks are far smaller")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    while True:
        message = await incoming.receive()
        if message["type"] != "http.request":  # the client went away mid-body
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
