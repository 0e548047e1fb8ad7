"""The simulated platform's side of a media stream: Sinch's WebSocket client, as sinch-voice-v2.md §8 documents it.

``run_stream`` opens the socket, sends ``connect`` (the AsyncAPI ConnectRequest's fields, fixture
``stream-connect-request.schema.sinch-docs.json``), waits for ``answer`` (``busy`` and ``reject`` end
it), then streams the caller's PCM in 20 ms frames paced by a monotonic clock while it plays the
app's audio from a buffer in real time: ``clear`` drops what is not yet played, ``heartbeat`` or
audio keeps the stream alive, the buffer drops its oldest audio past the limit, and a closed
socket ends the leg (no reconnection). The rows are S7 onward in ``docs/simulation.md``; the
numbers are ``PlatformModel``'s. Everything is recorded in a ``StreamTranscript``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .model import PlatformModel
from .voice_audio import check_rate, frame_bytes

if TYPE_CHECKING:
    import pandas as pd
    from websockets.asyncio.client import ClientConnection

__all__ = [
    "StreamMessage",
    "StreamTranscript",
    "call_headers_of",
    "connect_message",
    "run_stream",
    "runtime_url",
]

#: Hosts a stream endpoint is used as given at; any other endpoint reaches the runtime at its path (S16).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: The close code the platform sends when it ends a stream (*choice*: normal closure, the reason says why).
NORMAL_CLOSURE = 1000


@dataclass(frozen=True)
class StreamMessage:
    """One message on the socket, or one thing the platform did: when (s on the call's clock), who, what."""

    at: float
    sender: str
    kind: str
    text: str = ""
    size: int = 0


@dataclass
class StreamTranscript:
    """What happened on one stream: the messages each way, the two audio tracks as played, how it ended."""

    url: str
    connect: dict[str, Any]
    messages: list[StreamMessage] = field(default_factory=list)
    #: ``answered``, ``busy``, ``rejected``, ``no answer`` or ``failed`` (the upgrade or the socket).
    outcome: str = ""
    #: Who ended it: ``caller`` (hung up), ``app`` (closed the socket) or ``sinch`` (a timeout, a limit).
    ended_by: str = ""
    close_code: int | None = None
    close_reason: str = ""
    answered_at: float | None = None
    ended_at: float = 0.0
    #: The caller's audio as sent to the app, from the answer on (PCM s16le mono at ``sample_rate``).
    caller_track: bytearray = field(default_factory=bytearray)
    #: The app's audio as the caller heard it, from the answer on: silence where nothing played, clears applied.
    app_track: bytearray = field(default_factory=bytearray)
    frames_sent: int = 0
    bytes_sent: int = 0
    frames_received: int = 0
    bytes_received: int = 0
    #: Each ``clear``: (when, bytes of queued app audio dropped).
    clears: list[tuple[float, int]] = field(default_factory=list)
    #: Each overflow of the buffer limit: (when, bytes of the oldest audio dropped).
    overflows: list[tuple[float, int]] = field(default_factory=list)

    @property
    def call_id(self) -> str:
        return str(self.connect.get("callId", ""))

    @property
    def sample_rate(self) -> int:
        return int(self.connect.get("sampleRate", 8000))

    @property
    def cleared_bytes(self) -> int:
        return sum(dropped for _, dropped in self.clears)

    @property
    def overflow_bytes(self) -> int:
        return sum(dropped for _, dropped in self.overflows)

    def note(self, at: float, sender: str, kind: str, text: str = "", size: int = 0) -> None:
        self.messages.append(StreamMessage(round(at, 4), sender, kind, text, size))

    def to_frame(self) -> pd.DataFrame:
        """The messages as a DataFrame (at, sender, kind, text, size); ``attrs`` hold the outcome and counts."""
        import pandas as pd

        frame = pd.DataFrame([vars(m) for m in self.messages], columns=["at", "sender", "kind", "text", "size"])
        frame.attrs.update(
            call_id=self.call_id,
            outcome=self.outcome,
            ended_by=self.ended_by,
            close=(self.close_code, self.close_reason),
            frames_sent=self.frames_sent,
            bytes_sent=self.bytes_sent,
            frames_received=self.frames_received,
            bytes_received=self.bytes_received,
            cleared_bytes=self.cleared_bytes,
            overflow_bytes=self.overflow_bytes,
        )
        return frame


def call_headers_of(headers: Mapping[str, str] | Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """``callHeaders`` as the connect message carries them (an object), from a mapping or SVAML's [{key, value}]."""
    if headers is None:
        return {}
    if isinstance(headers, Mapping):
        return {str(k): str(v) for k, v in headers.items()}
    return {str(h["key"]): str(h.get("value", "")) for h in headers}


def connect_message(
    call_id: str, application_key: str, sample_rate: int, call_headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The first TEXT frame (S7): every field the AsyncAPI ConnectRequest requires, in its order."""
    return {
        "command": "connect",
        "version": 1,
        "callId": call_id,
        "applicationKey": application_key,
        "codec": "PCM",
        "sampleRate": check_rate(sample_rate),
        "callHeaders": dict(call_headers or {}),
    }


def runtime_url(endpoint: str, runtime: str | None) -> str:
    """Where the simulated platform opens a stream ``endpoint`` (S16): a loopback endpoint as given; any other at
    its path (and query) on the runtime at ``runtime`` (``http://127.0.0.1:PORT``), the only app it reaches."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"stream endpoint {endpoint!r}: a stream's endpoint is a ws:// or wss:// URL")
    if runtime is None or (parts.hostname or "") in LOOPBACK:
        return endpoint
    base = urlsplit(runtime)
    return urlunsplit(("wss" if base.scheme == "https" else "ws", base.netloc, parts.path or "/", parts.query, ""))


class _Stream:
    """One stream as the platform runs it, on one event loop."""

    def __init__(
        self,
        url: str,
        connect: dict[str, Any],
        caller: bytes,
        model: PlatformModel,
        *,
        duration: float | None,
        max_duration: float | None,
        headers: Mapping[str, str] | None,
        keys: Sequence[tuple[float, str]] = (),
    ) -> None:
        self.url, self.model, self.headers = url, model, dict(headers or {})
        self.keys = sorted(keys)  # (seconds into the caller's audio, key), sent as TEXT dtmf when reached (S14)
        self.transcript = StreamTranscript(url=url, connect=connect)
        self.caller, self.duration, self.max_duration = caller, duration, max_duration
        self.frame = frame_bytes(connect["sampleRate"], model.stream_frame_ms)
        self.pending = bytearray()
        self.began = time.monotonic()
        self.last_heard = self.began
        self.app_gone = asyncio.Event()
        self.closing = False

    def now(self) -> float:
        return time.monotonic() - self.began

    async def run(self) -> StreamTranscript:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus, WebSocketException

        t = self.transcript
        try:
            ws = await connect(
                self.url,
                additional_headers=self.headers,
                compression=None,
                max_size=None,
                ping_interval=None,
                open_timeout=self.model.stream_answer_timeout_s,
                close_timeout=2,
            )
        except InvalidStatus as error:
            status = error.response.status_code
            path = urlsplit(self.url).path or "/"
            return self._failed(
                f"the WebSocket upgrade was refused: HTTP {status}; is a stream handler defined for {path}? "
                f"(%%sinch stream {path}, or @sn.stream({path!r}))"
            )
        except (OSError, TimeoutError, ValueError, WebSocketException) as error:
            return self._failed(f"the WebSocket could not open: {error}")
        async with ws:
            t.note(self.now(), "sinch", "connect", json.dumps(t.connect), len(json.dumps(t.connect)))
            await ws.send(json.dumps(t.connect))
            if await self._await_answer(ws):
                await self._stream(ws)
        return self._closed(ws)

    def _failed(self, why: str) -> StreamTranscript:
        t = self.transcript
        t.outcome, t.ended_by, t.close_reason, t.ended_at = "failed", "sinch", why, self.now()
        t.note(self.now(), "sinch", "failed", why)
        return t

    async def _close(self, ws: ClientConnection, ended_by: str, reason: str) -> None:
        """The platform ends the stream (S13): a normal closure whose reason says why."""
        self.closing = True
        t = self.transcript
        t.ended_by, t.close_code, t.close_reason = ended_by, NORMAL_CLOSURE, reason
        t.note(self.now(), "sinch", "close", f"{NORMAL_CLOSURE} {reason}")
        await ws.close(NORMAL_CLOSURE, reason)

    def _closed(self, ws: ClientConnection) -> StreamTranscript:
        t = self.transcript
        t.ended_at = round(self.now(), 4)
        if not t.ended_by:  # the app closed the socket, or it was lost: the leg is hung up, no reconnection (S13)
            code = ws.close_code
            reason = ws.close_reason or ("the connection was lost" if code == 1006 else "")
            t.ended_by, t.close_code, t.close_reason = "app", code, reason
            t.note(t.ended_at, "app", "close", f"{code} {reason}".strip())
            if not t.outcome:
                t.outcome = "failed"
        return t

    async def _await_answer(self, ws: ClientConnection) -> bool:
        """S8: ``answer`` within the answer timeout opens the audio; ``busy``/``reject`` end the stream."""
        from websockets.exceptions import ConnectionClosed

        t = self.transcript
        timeout = self.model.stream_answer_timeout_s
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = await asyncio.wait_for(ws.recv(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                t.outcome = "no answer"
                await self._close(ws, "sinch", f"no answer within {timeout:g} s")
                return False
            except ConnectionClosed:
                t.outcome = "failed"
                return False
            if isinstance(message, bytes):
                t.note(self.now(), "app", "audio", "before answer: ignored", len(message))
                continue
            command = _command(message)
            t.note(self.now(), "app", command or "text", message, len(message))
            if command == "answer":
                t.outcome, t.answered_at = "answered", round(self.now(), 4)
                return True
            if command in ("busy", "reject"):
                t.outcome = "busy" if command == "busy" else "rejected"
                await self._close(ws, "sinch", t.outcome)
                return False

    async def _stream(self, ws: ClientConnection) -> None:
        """S9–S13: caller frames out and app audio played, both on one monotonic clock, until someone ends it."""
        from websockets.exceptions import ConnectionClosed

        t, size = self.transcript, self.frame
        seconds = self.model.stream_frame_ms / 1000
        receiver = asyncio.create_task(self._receive(ws))
        start = time.monotonic()
        self.last_heard = start
        frames = None if self.duration is None else round(self.duration / seconds)
        tick = 0
        try:
            while True:
                wait = start + tick * seconds - time.monotonic()  # the schedule, not the sleeps, sets the pace
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.app_gone.wait(), wait)
                if self.app_gone.is_set():
                    return
                chunk = self.caller[tick * size : (tick + 1) * size]
                chunk += bytes(size - len(chunk))  # past its words the caller's phone sends silence
                try:
                    await ws.send(chunk)
                except ConnectionClosed:
                    return
                t.frames_sent, t.bytes_sent = t.frames_sent + 1, t.bytes_sent + size
                t.note(self.now(), "sinch", "audio", "", size)
                t.caller_track += chunk
                while self.keys and self.keys[0][0] <= tick * seconds:
                    key = self.keys.pop(0)[1]
                    try:
                        await ws.send(json.dumps({"command": "dtmf", "digit": key}))
                    except ConnectionClosed:
                        return
                    t.note(self.now(), "sinch", "dtmf", key)
                played = bytes(self.pending[:size])
                del self.pending[:size]
                t.app_track += played + bytes(size - len(played))
                tick += 1
                idle = time.monotonic() - self.last_heard
                if idle > self.model.stream_idle_timeout_s:
                    limit = self.model.stream_idle_timeout_s
                    await self._close(ws, "sinch", f"no audio or heartbeat from the app for {limit:g} s")
                    return
                if self.max_duration is not None and tick * seconds >= self.max_duration:
                    await self._close(ws, "sinch", f"maxDuration {self.max_duration:g} s reached")
                    return
                said = tick * size >= len(self.caller)
                done = tick >= frames if frames is not None else said and not self.keys and _quiet(self.pending)
                if done:
                    await self._close(ws, "caller", "the caller hung up")
                    return
        finally:
            if self.closing:
                await asyncio.wait({receiver}, timeout=3)
            receiver.cancel()

    async def _receive(self, ws: ClientConnection) -> None:
        """The app's messages: audio into the playout buffer (S12 limit), ``clear`` (S10), ``heartbeat`` (S11)."""
        from websockets.exceptions import ConnectionClosed

        t = self.transcript
        try:
            async for message in ws:
                at = self.now()
                if isinstance(message, bytes):
                    self.last_heard = time.monotonic()
                    t.frames_received, t.bytes_received = t.frames_received + 1, t.bytes_received + len(message)
                    t.note(at, "app", "audio", "", len(message))
                    self.pending += message[: len(message) // 2 * 2]
                    over = len(self.pending) - self.model.stream_buffer_bytes
                    if over > 0:
                        over += over & 1
                        del self.pending[:over]
                        t.overflows.append((round(at, 4), over))
                        t.note(at, "sinch", "overflow", f"buffer over {self.model.stream_buffer_bytes} B", over)
                    continue
                command = _command(message)
                t.note(at, "app", command or "text", message, len(message))
                if command == "clear":
                    dropped = len(self.pending)
                    self.pending.clear()
                    t.clears.append((round(at, 4), dropped))
                    t.note(at, "sinch", "cleared", f"dropped {dropped} B not yet played", dropped)
                elif command == "heartbeat":
                    self.last_heard = time.monotonic()
                elif command in ("answer", "busy", "reject"):
                    t.note(at, "sinch", "ignored", f"{command} after the answer")
        except ConnectionClosed:
            pass
        if not self.closing:
            self.app_gone.set()


def _command(message: str) -> str | None:
    """The ``command`` of a TEXT message, or None when it is not JSON with one."""
    try:
        body = json.loads(message)
    except ValueError:
        return None
    return str(body["command"]) if isinstance(body, dict) and "command" in body else None


def run_stream(
    url: str,
    caller: bytes,
    *,
    call_id: str | None = None,
    application_key: str = "sinch-nb-simulator",
    sample_rate: int = 8000,
    call_headers: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    model: PlatformModel | None = None,
    duration: float | None = None,
    max_duration: float | None = None,
    headers: Mapping[str, str] | None = None,
    keys: Sequence[tuple[float, str]] = (),
) -> StreamTranscript:
    """Run one stream to ``url`` with ``caller`` (PCM s16le mono at ``sample_rate``) as the caller's voice.

    ``keys`` are (seconds into the caller's audio, key): each goes as a TEXT ``dtmf`` message then (S14).

    Blocks for the call's real time; runs on the simulated platform's loop, a thread of its own (a
    notebook's loop is busy), with every other stream of the process.
    The caller hangs up once its audio is sent and the app's voiced audio has played, or after ``duration`` s;
    ``max_duration`` is the connect's ``maxDuration``. ``headers`` go on the upgrade request (the
    simulator's marker; Sinch sends none, §8.1).
    """
    connect = connect_message(
        call_id or uuid.uuid4().hex.upper()[:26], application_key, sample_rate, call_headers_of(call_headers)
    )
    stream = _Stream(
        url,
        connect,
        caller,
        model or PlatformModel(),
        duration=duration,
        max_duration=max_duration,
        headers=headers,
        keys=keys,
    )

    async def main() -> StreamTranscript:
        stream.began = time.monotonic()
        return await stream.run()

    future = asyncio.run_coroutine_threadsafe(main(), _platform_loop())
    try:
        return future.result()
    except BaseException:  # an interrupted cell hangs up its call rather than leave it running
        future.cancel()
        raise


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _platform_loop() -> asyncio.AbstractEventLoop:
    """The simulated platform's one event loop, on a daemon thread of its own (a notebook's loop is busy).

    Every stream of this process runs on it, as the runtime serves them all on one loop: one
    wake-up of the interpreter a tick for all of them, not one a stream (what keeps simulated
    callers on time while a cell computes: ``benchmarks/bench_streams_concurrent.py``).
    """
    global _loop
    with _loop_lock:
        if _loop is None or not _loop.is_running():
            loop = asyncio.new_event_loop()
            started = threading.Event()
            loop.call_soon(started.set)
            threading.Thread(target=loop.run_forever, name="sinch_nb-platform", daemon=True).start()
            started.wait()
            _loop = loop
        return _loop


#: S17: how a stream that was not answered ends a v1 call: the key of ``PlatformModel.unanswered`` (*choice*).
V1_UNANSWERED = {"busy": "busy", "no answer": "no-answer", "rejected": "failed", "failed": "failed"}
#: S17: how a v2 STREAM dial that was not answered reports: its ``events`` key, or the webhook (*choice*, §9.13).
V2_UNANSWERED = {
    "busy": ("onBusy", "call.busy"),
    "rejected": ("onReject", "call.rejected"),
    "no answer": ("onTimeout", "call.timeout"),
    "failed": ("onFailure", "call.failed"),
}


def v1_ending(transcript: StreamTranscript, model: PlatformModel) -> tuple[str, str]:
    """S17: the DiCE ``(reason, result)`` of a v1 call whose connectStream's stream ended as ``transcript`` did."""
    if transcript.outcome == "answered":
        by = {"caller": "CALLERHANGUP", "app": "CALLEEHANGUP"}
        return by.get(transcript.ended_by, "TIMEOUT"), "ANSWERED"
    result, reason = model.unanswered[V1_UNANSWERED.get(transcript.outcome, "failed")]
    return reason, result


def v2_reason(transcript: StreamTranscript) -> str:
    """S17: the ``callReason`` of a v2 call whose answered STREAM leg ended as ``transcript`` did."""
    return "CALLER_HANGUP" if transcript.ended_by == "caller" else "CALLEE_HANGUP"


#: The loudest sample (of 32767) that still counts as silence in the app's queued audio.
QUIET = 200


def _quiet(pending: bytearray) -> bool:
    """Whether the app has nothing left to say: its queued audio is empty or silence (an echo of silence never ends)."""
    if not pending:
        return True
    samples = memoryview(bytes(pending[: len(pending) // 2 * 2])).cast("h")
    return max(samples, default=0) <= QUIET and -min(samples, default=0) <= QUIET
