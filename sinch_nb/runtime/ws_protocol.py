"""uvicorn's sans-I/O WebSocket protocol, reading on while messages wait instead of pausing after each one.

uvicorn pauses the socket's reads after every message it queues for the app and resumes them when
the app takes it: two ``epoll_ctl`` calls a frame. Beside a computing cell every system call hands
the GIL to the cell and costs up to one switch interval to get back (``docs/architecture.md``, busy
cell), and eight 16 kHz streams make 400 frames a second. Here reads pause only once ``BACKLOG``
messages wait: the stream reader (``streams.py``) takes each frame as it comes on the same loop, so
the queue stays short and the back-pressure uvicorn wants still holds for an app that stops reading.
Written as a subclass because uvicorn has no setting for it; it leans on one attribute,
``read_paused``, which uvicorn's own code sets and reads (pinned by ``tests/test_streams.py``).

It also refuses a frame once the connection is going: uvicorn raises ``ClientDisconnected`` only
after ``connection_lost`` has run, a loop turn after a send failed, and a handler's backlog written
in between made asyncio warn "socket.send() raised exception." on stderr, into the user's cell.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["BACKLOG", "StreamWebSocketProtocol"]

#: Messages queued for the app before reads pause (about two seconds of 20 ms frames).
BACKLOG = 100


class StreamWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` whose reads pause past ``BACKLOG`` queued messages, and that refuses frames
    for a connection already closing."""

    _paused = False

    @property
    def read_paused(self) -> bool:
        """Whether uvicorn should treat reads as paused: really paused, or too few messages waiting to bother."""
        queue: Any = getattr(self, "queue", None)
        return self._paused or (queue is not None and queue.qsize() < BACKLOG)

    @read_paused.setter
    def read_paused(self, paused: bool) -> None:
        self._paused = paused

    async def send(self, message: Any) -> None:
        """uvicorn's, but a frame for a connection whose transport is already closing raises ``ClientDisconnected``."""
        if message["type"] == "websocket.send" and self.transport.is_closing():
            raise ClientDisconnected()
        await super().send(message)
