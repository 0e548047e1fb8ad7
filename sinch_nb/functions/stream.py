"""``stream``: what a media stream handler holds (``async def handler(context, stream)``).

One class for both places a stream handler runs: the notebook runtime (``runtime/streams.py``, a task
on the server's loop) and the exported Function (``bridge.StreamSessions``, on Pyodide's loop in the
worker); in both, the handler shares one loop with every other handler. Standard library only: it
ships with the Function. Frames from the caller arrive through ``_received`` (called on the same
loop by whoever reads the socket); what the handler sends goes out through ``post``, one FIFO, so
``answer`` always leaves before the audio sent after it. The protocol's order is enforced here, where the mistake is
made: audio or a control before ``answer()`` raises ``StreamError`` naming the fix.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from .errors import StreamClosedError, StreamError
from .stream_protocol import ConnectMessage

__all__ = ["MAX_STREAMS", "MAX_UNREAD", "Outgoing", "Stream", "streams_full"]

#: Frames kept for a handler that does not read ``audio()`` (about a minute of 20 ms frames); older ones are dropped.
MAX_UNREAD = 3000
#: Streams served at once, by the notebook's runtime and by one Function instance; one more is closed 1013.
MAX_STREAMS = 64

#: What the handler sends, as the server loop writes it: ("text", command), ("bytes", pcm), ("close", code, reason).
Outgoing = tuple[Any, ...]


def streams_full(limit: int) -> str:
    """The close reason (with code 1013, try again later) for one stream more than ``limit`` open at once."""
    return f"{limit} streams are open already: try again when one ends"


class Stream:
    """One media stream: answer it, read the caller's audio, send audio back, clear, hang up."""

    def __init__(self, connect: ConnectMessage, post: Callable[[Outgoing], None]) -> None:
        #: Sinch's ``connect`` message: ``call_id``, ``sample_rate``, ``codec``, ``call_headers``, ``application_key``.
        self.connect = connect
        self._post = post
        #: ``connected`` → ``answered``; ``closed`` after busy, reject, hangup or the caller's hang-up.
        self.state = "connected"
        #: The DTMF digits received so far, in order (sinch_nb's ``dtmf`` message: docs/simulation.md S6).
        self.digits = ""
        #: The close code and reason once the stream has ended.
        self.close_code: int | None = None
        self.close_reason = ""
        #: Caller frames dropped because the handler did not read ``audio()`` (more than ``MAX_UNREAD`` waiting).
        self.dropped = 0
        self._frames: deque[bytes] = deque()
        self._digits: deque[str] = deque()
        self._arrived = asyncio.Event()

    @property
    def call_id(self) -> str:
        """The call's id (``connect.callId``)."""
        return self.connect.call_id

    @property
    def sample_rate(self) -> int:
        """Samples a second of the audio both ways (``connect.sampleRate``)."""
        return self.connect.sample_rate

    @property
    def frame_bytes(self) -> int:
        """Bytes in 20 ms of audio at this rate, the frame size Sinch recommends (320 at 8 kHz)."""
        return self.connect.frame_bytes

    @property
    def closed(self) -> bool:
        """Whether the stream has ended."""
        return self.state == "closed"

    def __repr__(self) -> str:
        return f"<stream {self.call_id} {self.sample_rate} Hz {self.state}>"

    # The reply to connect -------------------------------------------------

    async def answer(self) -> None:
        """Accept the call: audio flows both ways from now on."""
        self._respond("answer")
        self.state = "answered"

    async def busy(self) -> None:
        """Refuse as busy; the stream ends."""
        self._respond("busy")
        self._close(1000, "busy")

    async def reject(self) -> None:
        """Reject the call; the stream ends."""
        self._respond("reject")
        self._close(1000, "rejected")

    def _respond(self, name: str) -> None:
        self._check_open()
        if self.state != "connected":
            raise StreamError(f"the stream was answered already: {name}() must be the first reply, and only one")
        self._post(("text", name))

    # Audio and control ------------------------------------------------------

    async def audio(self) -> AsyncIterator[bytes]:
        """The caller's frames as they arrive (PCM s16le mono at ``sample_rate``); ends when the stream does."""
        while True:
            if self._frames:
                yield self._frames.popleft()
            elif self.closed:
                return
            else:
                self._arrived.clear()
                await self._arrived.wait()

    async def dtmf(self, timeout: float | None = None) -> str | None:
        """The next DTMF digit (``None`` when ``timeout`` seconds pass or the stream ends first)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._digits:
            if self.closed:
                return None
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return None
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return None
        return self._digits.popleft()

    async def send(self, pcm: bytes) -> None:
        """Send audio to the caller: PCM s16le mono at ``sample_rate``, any whole number of samples."""
        self._check_answered("send()")
        if not isinstance(pcm, bytes | bytearray | memoryview):
            raise StreamError(f"send() takes PCM bytes (s16le mono), not {type(pcm).__name__}")
        data = bytes(pcm)
        if len(data) % 2:
            raise StreamError(f"send() got {len(data)} bytes: PCM s16le has 2 bytes a sample, so an even count")
        if data:
            self._post(("bytes", data))

    async def clear(self) -> None:
        """Tell Sinch to drop the audio it holds but has not played yet (barge-in)."""
        self._check_answered("clear()")
        self._post(("text", "clear"))

    async def heartbeat(self) -> None:
        """Keep the stream alive while sending no audio (Sinch hangs up after a minute without any)."""
        self._check_answered("heartbeat()")
        self._post(("text", "heartbeat"))

    async def hangup(self) -> None:
        """End the stream (close 1000): the call leg hangs up."""
        if not self.closed:
            self._close(1000, "hangup by the handler")

    def _check_open(self) -> None:
        if self.closed:
            why = f" ({self.close_code} {self.close_reason})".rstrip() if self.close_code else ""
            raise StreamClosedError(f"the stream has ended{why}: nothing more can be sent")

    def _check_answered(self, what: str) -> None:
        self._check_open()
        if self.state != "answered":
            raise StreamError(
                f"{what} before answer(): await stream.answer() first (or stream.busy() / stream.reject() to refuse)"
            )

    def _close(self, code: int, reason: str) -> None:
        self._post(("close", code, reason))
        self._ended(code, reason)

    # From whoever reads the socket (on the handler's loop) ----------------------------------

    def _received(self, pcm: bytes) -> None:
        """A caller frame: kept for ``audio()``; past ``MAX_UNREAD`` unread, the oldest goes."""
        self._frames.append(pcm)
        if len(self._frames) > MAX_UNREAD:
            self._frames.popleft()
            self.dropped += 1
        self._arrived.set()

    def _digit(self, digit: str) -> None:
        """A DTMF digit from the caller."""
        self.digits += digit
        self._digits.append(digit)
        self._arrived.set()

    def _ended(self, code: int, reason: str) -> None:
        """The stream is over: ``audio()`` ends once the frames already received are read."""
        if not self.closed:
            self.state, self.close_code, self.close_reason = "closed", code, reason
        self._arrived.set()
