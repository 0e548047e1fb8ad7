"""Media streams on the runtime's server: one WebSocket from Sinch, one handler, one journal row.

    route → accept → connect (validated) → handler task → frames both ways → close → journal

The socket is read and written, and the handler runs as a task, on the server's loop (the one
uvicorn serves HTTP callbacks on). One loop, as in the deployed Function, where Pyodide runs
every handler on one loop: a stream handler that blocks between two awaits holds up every
stream and callback there, and here too, and its row says so (``functions/step_timer``).
One loop also costs one wake-up of the interpreter a frame instead of three (a thread per
handler did: socket → handler thread → socket), which is what keeps streams in real time
while a cell holds the GIL (``benchmarks/bench_streams_concurrent.py``). Caller frames go
straight into the handler's ``Stream``; the handler's messages go into one FIFO that a writer
task sends in order. HTTP handlers stay on ``invoke.HandlerPool``'s threads.

Every stream, refused or not, ends as one ``Record`` (kind ``stream``): the connect message,
the call id, frames and bytes each way, the messages sent, close code and reason, duration,
reply latency, the two WAV files, and the handler's error and traceback if it raised (the
socket then closes with 1011; the runtime and the next stream carry on).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..functions import origin, routing
from ..functions.errors import StreamClosedError, StreamError
from ..functions.step_timer import STEP_LIMIT, Timed, held_warning
from ..functions.stream import MAX_STREAMS, Outgoing, Stream, streams_full
from ..functions.stream_protocol import ConnectMessage, command, parse_connect, parse_control
from ..journal.record import Record
from .invoke import handler_traceback
from .stream_audio import Recording
from .stream_probe import answer_probe

if TYPE_CHECKING:
    from .app import CallbackApp
    from .registry import Handler

__all__ = [
    "CONNECT_TIMEOUT",
    "HANDLER_GRACE",
    "MAX_STREAMS",
    "STEP_LIMIT",
    "StreamSession",
    "serve_stream",
    "streams_folder",
]

#: Seconds Sinch has, after the upgrade, to send ``connect``.
CONNECT_TIMEOUT = 10.0
#: Seconds a handler has to finish once its stream has closed; then it is cancelled.
HANDLER_GRACE = 2.0
#: A WebSocket close reason is at most 123 bytes (RFC 6455 §5.5); the journal keeps the whole text.
_REASON_BYTES = 123

Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def _failure(task: asyncio.Task[Any]) -> BaseException | None:
    """How a finished handler task ended: its exception, ``CancelledError`` if cancelled, else ``None``."""
    return asyncio.CancelledError() if task.cancelled() else task.exception()


def streams_folder(base_dir: Path) -> Path:
    """Where a runtime with base folder ``base_dir`` keeps the streams' WAV files."""
    return base_dir / ".sinch_nb" / "streams"


def _short(reason: str) -> str:
    """``reason`` cut to what a close frame carries."""
    encoded = reason.encode()
    return reason if len(encoded) <= _REASON_BYTES else encoded[: _REASON_BYTES - 3].decode(errors="ignore") + "..."


async def serve_stream(app: CallbackApp, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """One WebSocket from ``scope`` through to its journal row (``app.__call__`` hands ``websocket`` scopes here)."""
    if await answer_probe(app, scope, receive, send):  # the doctor's own probe through the public URL
        return
    await StreamSession(app, scope, receive, send).run()


class StreamSession:
    """The server's side of one stream: the socket, the handler's thread, the counts, the record."""

    active = 0  # streams being served now, all runtimes of this process

    def __init__(self, app: CallbackApp, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.app, self.receive, self.send_asgi = app, receive, send
        self.started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        self.path = routing.normalise(str(scope.get("path", "/")))
        simulated, source = origin.simulated_source(headers.get(origin.SIMULATED_HEADER), app.marker)
        self.record = Record(  # marked simulated only when it carries this runtime's marker, as callbacks are
            time=time.time(),
            method="GET",
            path=self.path,
            kind=routing.STREAM_KIND,
            request_headers=headers,
            simulated=int(simulated),
            source=source,
        )
        self.loop = asyncio.get_running_loop()
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.open = False  # accepted and not closed yet
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed_by = ""
        self.responded = ""  # answer, busy or reject, once sent
        self.answer_ms: float | None = None  # from the upgrade to that reply
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.counts = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "bytes_out": 0, "dropped_out": 0}
        self.warnings: list[str] = []
        self.recording: Recording | None = None
        self.stream: Stream | None = None
        self.task: asyncio.Task[Any] | None = None
        self.held: list[float] = []  # seconds of each handler step past STEP_LIMIT
        self.digits_at: list[list[Any]] = []  # [seconds since the upgrade, digit]: when sn.parity replays each

    # The whole stream -----------------------------------------------------------

    async def run(self) -> None:
        """Accept, validate connect, run the handler, pump frames, close, journal."""
        StreamSession.active += 1
        try:
            await self._serve()
        except Exception as error:  # the runtime itself must never lose a stream's record
            self.record.update(error=f"sinch_nb internal error: {error!r}", traceback=traceback.format_exc())
            self.record.outcome = "error"
            await self._close(1011, "sinch_nb internal error", "runtime")
        finally:
            StreamSession.active -= 1
            self._journal()

    async def _serve(self) -> None:
        message = await self.receive()
        if message["type"] != "websocket.connect":
            return
        await self.send_asgi({"type": "websocket.accept"})  # accepted first, so a refusal can carry its reason
        self.open = True
        handler = self.app.registry.get(routing.handler_key(routing.STREAM_KIND, self.path))
        if handler is None:
            known = sorted(h.key.split(" ", 1)[1] for h in self.app.registry.handlers() if h.kind == "stream")
            listed = f" (stream routes: {', '.join(known)})" if known else ""
            await self._refuse(
                1008, f"no stream handler at {self.path}: define one with %%sinch stream {self.path}{listed}"
            )
            return
        self.record.update(handler=handler.label, handler_version=handler.version)
        if StreamSession.active > MAX_STREAMS:
            await self._refuse(1013, streams_full(MAX_STREAMS))
            return
        connect = await self._connect()
        if connect is None:
            return
        self.record.call_id = connect.call_id
        self.record.outcome = "running"
        self.app.journal.append(self.record, durable=True)  # numbered now: the WAV files take its id
        assert self.record.id is not None
        folder = streams_folder(self.app.settings.base_dir)
        self.recording = Recording(folder, str(self.record.id), connect.sample_rate)
        await self._run_handler(handler, connect)

    async def _connect(self) -> ConnectMessage | None:
        """Sinch's first message, parsed; refused (and ``None``) when it is missing or wrong."""
        try:
            message = await asyncio.wait_for(self.receive(), CONNECT_TIMEOUT)
        except TimeoutError:
            await self._refuse(1008, f"no connect message within {CONNECT_TIMEOUT:g} s of the upgrade")
            return None
        if message["type"] == "websocket.disconnect":
            self._closed_by_platform(message)
            self.record.update(outcome="rejected", error="the platform closed the stream before its connect message")
            return None
        text = message.get("text")
        self.record.request_body = text if text is not None else f"<{len(message.get('bytes') or b'')} bytes>"
        try:
            return parse_connect(text)
        except StreamError as error:
            await self._refuse(1008, f"bad connect message: {error}")
            return None

    async def _refuse(self, code: int, reason: str) -> None:
        """Close with ``reason`` (cut to fit a close frame) and journal the whole of it."""
        self.record.update(outcome="rejected", error=reason)
        await self._close(code, reason, "runtime")

    # The handler and the frames ----------------------------------------------------

    async def _run_handler(self, handler: Handler, connect: ConnectMessage) -> None:
        """The handler as a task on this loop, beside the tasks that read and write the socket."""
        stream = self.stream = Stream(connect, self.outbox.put_nowait)
        context = self.app._context()  # the same context an HTTP callback's handler gets

        async def handle() -> None:
            await Timed(handler.function(context, stream), STEP_LIMIT, self.held.append)

        task = self.task = self.loop.create_task(handle(), name=f"sinch_nb stream {self.path}")
        task.add_done_callback(_failure)  # retrieved even when it ends after the row: asyncio logs nothing
        writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        timer = self.loop.call_later(self.app.settings.handler_timeout, self._no_answer, handler)
        try:
            either: list[asyncio.Future[Any]] = [reader, task]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():  # the caller hung up first: the handler finishes, or is cancelled
                await self._wind_down(task, handler)
            failure = _failure(task) if task.done() else None
            self._settle(handler, failure)
            self.outbox.put_nowait(self._closing())  # after what the handler sent; a no-op once closed
            await writer
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        finally:
            timer.cancel()
            writer.cancel()
            self.record.logs = context.log.records or None
            self._note_held(handler)

    def _note_held(self, handler: Handler) -> None:
        """A warning on the row when the handler held the loop past ``STEP_LIMIT`` between two awaits."""
        if self.held:
            self.warnings.append(held_warning(handler.label, self.held))

    async def _wind_down(self, task: asyncio.Task[Any], handler: Handler) -> None:
        """The stream closed under a running handler: give it ``HANDLER_GRACE`` s to end, then cancel it."""
        await asyncio.wait([task], timeout=HANDLER_GRACE)
        if task.done():
            return
        task.cancel()
        await asyncio.wait([task], timeout=1.0)
        if task.done():
            return
        self.warnings.append(
            f"{handler.label} was still running {HANDLER_GRACE + 1:g} s after the stream closed and did not stop "
            "when cancelled (it caught the cancellation?); it was left running"
        )

    def _settle(self, handler: Handler, failure: BaseException | None) -> None:
        """The outcome on the record: ok, or the handler's error and its traceback."""
        if self.record.outcome == "error":  # no answer in time: said already
            return
        ended = isinstance(failure, StreamClosedError | asyncio.CancelledError) and self.close_code is not None
        if failure is not None and not ended:
            self.record.update(
                outcome="error",
                error=f"{handler.label} raised {type(failure).__name__}: {failure}",
                traceback=handler_traceback(failure, handler),
            )
        elif not self.responded and self.closed_by != "platform":
            self.record.update(
                outcome="error",
                error=f"{handler.label} returned without answering: await stream.answer() "
                "(or stream.busy() / stream.reject()) first",
            )
        else:
            self.record.outcome = "ok"

    def _closing(self) -> Outgoing:
        """How the runtime closes a stream its handler left open."""
        if self.record.outcome == "error":
            return ("close", 1011, str(self.record.error), "runtime")
        return ("close", 1000, "the handler returned", "handler")

    def _no_answer(self, handler: Handler) -> None:
        """``handler_timeout`` passed with no answer, busy or reject: refuse the stream, cancel the handler."""
        if self.responded or not self.open:
            return
        timeout = self.app.settings.handler_timeout
        self.record.update(
            outcome="error",
            error=f"{handler.label} did not answer within {timeout:g} s: await stream.answer() first, "
            "or raise the limit with sn.configure(handler_timeout=...)",
        )
        self.outbox.put_nowait(("close", 1011, str(self.record.error), "runtime"))
        if self.task is not None:
            self.task.cancel()

    async def _write(self) -> None:
        """Send the handler's messages in the order it sent them; stops after a close."""
        while True:
            message = await self.outbox.get()
            kind = message[0]
            if kind == "close":
                await self._close(message[1], message[2], message[3] if len(message) > 3 else "handler")
                return
            if not self.open:
                self.counts["dropped_out"] += kind == "bytes"
                continue
            if kind == "bytes":
                pcm: bytes = message[1]
                try:
                    await self.send_asgi({"type": "websocket.send", "bytes": pcm})
                except OSError:  # gone before the reader saw its close (ClientDisconnected): dropped, as after it
                    self.counts["dropped_out"] += 1
                    continue
                self.counts["frames_out"] += 1
                self.counts["bytes_out"] += len(pcm)
                if not self.counts["frames_out"] % 16:  # a backlog sent at once still lets the reader run
                    await asyncio.sleep(0)
                if self.recording is not None:
                    self.recording.sent(time.perf_counter(), pcm)
            elif kind == "text":
                name = message[1]
                try:
                    await self.send_asgi({"type": "websocket.send", "text": command(name)})
                except OSError:  # the platform hung up meanwhile (uvicorn's ClientDisconnected): nothing to tell
                    continue
                self.sent[name] += 1
                if name == "clear" and self.recording is not None:
                    self.recording.cleared(time.perf_counter())
                if name in ("answer", "busy", "reject") and not self.responded:
                    self.responded = name
                    self.record.response_body = command(name)
                    self.answer_ms = (time.perf_counter() - self.started) * 1000

    async def _read(self) -> None:
        """Read the platform's messages until it closes: frames to the handler, DTMF, the rest noted."""
        stream = self.stream
        assert stream is not None
        while True:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                self._closed_by_platform(message)
                stream._ended(self.close_code or 1005, self.close_reason)
                return
            pcm = message.get("bytes")
            if pcm is not None:
                self.counts["frames_in"] += 1
                self.counts["bytes_in"] += len(pcm)
                stream._received(pcm)
                if self.recording is not None:
                    self.recording.received(time.perf_counter(), pcm)
                continue
            name, body = parse_control(message.get("text") or "")
            self.received[name] += 1
            digit = body.get("digit")
            if name == "dtmf" and isinstance(digit, str) and len(digit) == 1 and digit in "0123456789*#ABCD":
                stream._digit(digit)
                self.digits_at.append([round(time.perf_counter() - self.started, 3), digit])
            elif len(self.warnings) < 20:
                self.warnings.append(f"ignored a TEXT message from the platform: {(message.get('text') or '')[:200]}")

    # Closing and the record ---------------------------------------------------------

    def _closed_by_platform(self, message: dict[str, Any]) -> None:
        if self.open:
            self.open = False
            self.close_code = int(message.get("code") or 1005)
            self.close_reason = str(message.get("reason") or "")
            self.closed_by = "platform"

    async def _close(self, code: int, reason: str, by: str) -> None:
        """Close the socket (once) with ``code`` and ``reason``; the handler's ``Stream`` learns it too."""
        if not self.open:
            return
        self.open = False
        self.close_code, self.close_reason, self.closed_by = code, reason, by
        with contextlib.suppress(Exception):  # the peer may be gone already
            await self.send_asgi({"type": "websocket.close", "code": code, "reason": _short(reason)})
        if self.stream is not None:
            self.stream._ended(code, reason)

    def _journal(self) -> None:
        """One row for the whole stream, durably, whatever happened; the last error kept for ``sn.last_error()``."""
        record = self.record
        seconds = time.perf_counter() - self.started
        answered = self.responded == "answer"
        ended = time.perf_counter()
        latencies = self.recording.close(ended, keep=answered) if self.recording is not None else []
        summary: dict[str, Any] = {
            **self.counts,
            "sent": dict(self.sent),
            "received": dict(self.received),
            "duration_s": round(seconds, 3),
            "answer_ms": None if self.answer_ms is None else round(self.answer_ms, 3),
            "close_code": self.close_code,
            "close_reason": self.close_reason,
            "closed_by": self.closed_by,
            "reply_latencies_ms": [round(ms, 3) for ms in latencies],
            "held_loop_s": [round(seconds, 3) for seconds in self.held[:20]],
        }
        if self.stream is not None:
            connect = self.stream.connect
            summary.update(
                sample_rate=connect.sample_rate,
                codec=connect.codec,
                call_headers=connect.call_headers,
                digits=self.stream.digits,
                digits_at=self.digits_at,
                dropped_in=self.stream.dropped,
            )
        if self.recording is not None:
            summary.update({f"audio_{way}": str(path) for way, path in self.recording.paths.items()})
            origin = self.recording.origin(ended)  # the -in and -heard files' time 0
            summary["clears_s"] = [round(at - origin, 3) for at in self.recording.clears]
        record.update(stream=summary, duration=round(seconds), status=101, warnings=self.warnings or None)
        record.latency_ms = latencies[0] if latencies else None  # the first turn's reply latency
        self.app.record_stream(record)
