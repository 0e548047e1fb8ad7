"""uvicorn's httptools protocol with the limits a server on the internet needs and uvicorn lacks.

Behind a tunnel, anyone can open connections to the runtime. uvicorn closes idle keep-alive
connections but never a connection that sends nothing, or its head or body slowly, and it
takes headers of any size. So, per connection: the request head must arrive within
``HEAD_TIMEOUT`` and the body within ``BODY_TIMEOUT``; past ``MAX_CONNECTIONS`` the oldest
connection with no request in progress is closed to make room (a real callback sends its
request at once, so it is never the one waiting longest); headers past ``MAX_HEADER_BYTES``
are dropped and the request is marked, so the runtime answers it 431 and journals it.
Written by hand because no maintained server for an in-process ASGI app offers these.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEADER_BYTES_KEY", "GuardedHttpToolsProtocol"]

HEAD_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
MAX_CONNECTIONS = 512
MAX_HEADER_BYTES = 64 * 1024
#: Where the runtime finds, in the ASGI scope, the size of headers that were too large.
HEADER_BYTES_KEY = "sinch_nb.header_bytes"


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """One connection, with deadlines for its request, a share of the connection cap, a header cap."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._wait(HEAD_TIMEOUT)
        waiting = _waiting(self.server_state)
        waiting[self] = None
        if len(self.connections) > MAX_CONNECTIONS:
            oldest = next(iter(waiting))
            if oldest is not self:
                waiting.pop(oldest)
                oldest.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._wait(None)
        _waiting(self.server_state).pop(self, None)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._wait(HEAD_TIMEOUT)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes <= MAX_HEADER_BYTES:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        _waiting(self.server_state).pop(self, None)
        self._wait(BODY_TIMEOUT)
        super().on_headers_complete()
        if self._header_bytes > MAX_HEADER_BYTES and self.scope is not None:
            cast(dict[str, Any], self.scope)[HEADER_BYTES_KEY] = self._header_bytes

    def on_message_complete(self) -> None:
        self._wait(None)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            _waiting(self.server_state)[self] = None  # idle keep-alive: first to go when room is needed

    def _wait(self, seconds: float | None) -> None:
        """Close the connection unless the next part of the request arrives within ``seconds``."""
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._too_slow) if seconds is not None else None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def _waiting(server_state: Any) -> dict[GuardedHttpToolsProtocol, None]:
    """The connections of this server with no request in progress, oldest first."""
    waiting: dict[GuardedHttpToolsProtocol, None] | None = getattr(server_state, "sinch_nb_waiting", None)
    if waiting is None:
        waiting = server_state.sinch_nb_waiting = {}
    return waiting
