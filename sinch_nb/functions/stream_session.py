"""Media streams in the deployed Function: the notebook's ``stream /path`` handlers, on Pyodide's loop in the worker.

Standard library only; it ships. ``templates/function.js`` registers each stream path with the Functions
runtime's ``setup(runtime).onWebSocket``; each connection gets an id, and the main thread forwards the
platform's messages to the worker in order (TEXT as text, BINARY as a ``Uint8Array`` moved by transfer,
which arrives here as a JS proxy with ``to_bytes()``; base64 text is still taken). Here the first message
must be the ``connect`` (else the stream closes 1008, as in the notebook); then ``handler(context, stream)``
runs as a task with a ``Stream`` (the notebook's own class) and a ``NodeContext`` whose host calls carry the
stream id. What the handler sends goes back, no waiting: PCM through ``post_bytes`` (function.js turns the
``bytes`` into a ``Uint8Array`` and transfers it), the rest through ``post`` as one JSON string a message:
``text``, ``bytes`` (base64, when there is no ``post_bytes``), ``close`` ``[code, reason]``, and last ``done``
with the error (or null), the handler's log and the stream's summary line.

As in the notebook: at most ``MAX_STREAMS`` streams at once per Function instance (one more is closed 1013
with the notebook's reason); ``handler_timeout`` (from the request) to answer, busy or reject, else 1011; a
handler that runs more than ``STEP_LIMIT`` s between two awaits (``step_timer.Timed``) gets a warning in the
Function's log naming the fix (``held_warning``: it held up every stream and HTTP callback of the worker);
and each stream ends with one ``info`` line in the log, ``sinch_nb stream summary`` then JSON: path, call id,
frames and bytes each way, control messages sent and received, digits, close code, reason and side, duration,
answer time, the steps that held the loop. Not yet as in the notebook: no journal row and no WAV recording
(the Function's log is what ``sn.logs()`` shows), and the handler's log reaches Node only when it ends.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

from .errors import StreamClosedError, StreamError
from .node_context import Host, NodeContext
from .step_timer import STEP_LIMIT, Timed, held_warning
from .stream import MAX_STREAMS, Outgoing, Stream, streams_full
from .stream_protocol import command, parse_connect, parse_control

__all__ = ["HANDLER_GRACE", "SUMMARY_PREFIX", "Post", "PostBytes", "StreamSessions"]

#: Seconds a handler has to finish once its stream has closed; then it is cancelled (as in the notebook).
HANDLER_GRACE = 5.0
#: What each stream's summary line in the Function's log starts with; JSON follows.
SUMMARY_PREFIX = "sinch_nb stream summary "
#: A close reason is at most 123 bytes (RFC 6455 §5.5).
_REASON_BYTES = 123
_DIGITS = "0123456789*#ABCD"

#: Takes one JSON message for the main thread.
Post = Callable[[str], Any]
#: Takes the PCM the handler sends, as bytes (function.js: a ``Uint8Array`` moved to the main thread).
PostBytes = Callable[[bytes], Any]


def _reason(text: str) -> str:
    data = text.encode()
    if len(data) <= _REASON_BYTES:
        return text
    return data[: _REASON_BYTES - 3].decode(errors="ignore") + "..."


def _pcm(data: Any) -> bytes:
    """A BINARY frame as the worker got it: a JS ``Uint8Array`` (Pyodide's proxy), bytes, or base64 text."""
    if isinstance(data, str):
        return base64.b64decode(data)
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return bytes(data.to_bytes())


class _Session:
    """One WebSocket: waiting for ``connect``, then the handler's task; what the summary line reports."""

    def __init__(self, request: dict[str, Any], post: Post, post_bytes: PostBytes | None) -> None:
        self.request = request
        self.post = post
        self.post_bytes = post_bytes
        self.started = time.perf_counter()
        self.stream: Stream | None = None
        self.task: asyncio.Future[None] | None = None
        self.finished = False
        #: Why the runtime ended the handler (no answer in time), reported as its error.
        self.error: str | None = None
        self.counts = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "bytes_out": 0}
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed_by = ""
        self.answer_ms: float | None = None
        #: Seconds of each handler step past ``STEP_LIMIT``.
        self.held: list[float] = []

    def out(self, message: Outgoing) -> None:
        """What the ``Stream`` sends (and the runtime's closes), on to the main thread to write to the socket."""
        kind = message[0]
        if kind == "text":
            name = str(message[1])
            self.sent[name] += 1
            if name in ("answer", "busy", "reject") and self.answer_ms is None:
                self.answer_ms = (time.perf_counter() - self.started) * 1000
            self.post(json.dumps({"text": command(name)}))
        elif kind == "bytes":
            pcm: bytes = message[1]
            self.counts["frames_out"] += 1
            self.counts["bytes_out"] += len(pcm)
            if self.post_bytes is not None:
                self.post_bytes(pcm)
            else:
                self.post(json.dumps({"bytes": base64.b64encode(pcm).decode()}))
        elif kind == "close":
            if self.close_code is None:  # the first close is the stream's; the socket ignores any later one
                self.close_code, self.close_reason = int(message[1]), str(message[2])
                self.closed_by = str(message[3]) if len(message) > 3 else "handler"
            self.post(json.dumps({"close": [int(message[1]), _reason(str(message[2]))]}))

    def close(self, code: int, reason: str) -> None:
        """The runtime closes the stream (not the handler): the socket, and the handler's ``Stream``."""
        self.out(("close", code, reason, "runtime"))
        if self.stream is not None:
            self.stream._ended(code, reason)

    def platform_closed(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason, self.closed_by = code, reason, "platform"

    def summary(self) -> str:
        """The stream in one log line: ``SUMMARY_PREFIX`` and JSON."""
        stream = self.stream
        line: dict[str, Any] = {
            "path": str(self.request.get("key") or "").split(" ", 1)[-1],
            "call_id": stream.call_id if stream is not None else None,
            **self.counts,
            "sent": dict(self.sent),
            "received": dict(self.received),
            "digits": stream.digits if stream is not None else "",
            "dropped_in": stream.dropped if stream is not None else 0,
            "close_code": self.close_code,
            "close_reason": self.close_reason,
            "closed_by": self.closed_by,
            "duration_s": round(time.perf_counter() - self.started, 3),
            "answer_ms": None if self.answer_ms is None else round(self.answer_ms, 3),
            "held_loop_s": [round(seconds, 3) for seconds in self.held[:20]],
        }
        return SUMMARY_PREFIX + json.dumps(line)

    def done(self, error: str | None, logs: list[Any]) -> None:
        if not self.finished:
            self.finished = True
            self.post(json.dumps({"done": True, "error": error, "logs": logs, "summary": self.summary()}))


class StreamSessions:
    """The open streams of one Function instance, by the id the main thread gave each."""

    def __init__(self, handlers: dict[str, Any], host: Host | None) -> None:
        self.handlers = handlers
        self.host = host
        self.sessions: dict[str, _Session] = {}
        #: Streams served at once, as the notebook's runtime; one more is closed 1013.
        self.limit = MAX_STREAMS

    def open(self, sid: str, request_json: str, post: Post, post_bytes: PostBytes | None = None) -> None:
        """A new connection on ``request['key']`` (``stream /path``); nothing runs until its ``connect``.

        ``post_bytes`` takes the PCM the handler sends; without it, PCM goes through ``post`` as base64.
        """
        session = _Session(json.loads(request_json), post, post_bytes)
        if len(self.sessions) >= self.limit:
            reason = streams_full(self.limit)
            session.close(1013, reason)
            session.done(reason, [])
            return
        self.sessions[sid] = session

    def text(self, sid: str, text: str) -> None:
        session = self.sessions.get(sid)
        if session is None:
            return
        if session.stream is None:
            self._connect(sid, session, text)
            return
        name, body = parse_control(text)
        session.received[name] += 1
        digit = body.get("digit")
        if name == "dtmf" and isinstance(digit, str) and len(digit) == 1 and digit in _DIGITS:
            session.stream._digit(digit)

    def binary(self, sid: str, data: Any) -> None:
        """A BINARY frame: a JS ``Uint8Array`` from function.js, or bytes, or base64 text."""
        session = self.sessions.get(sid)
        if session is None:
            return
        if session.stream is None:
            self._connect(sid, session, None)
            return
        pcm = _pcm(data)
        session.counts["frames_in"] += 1
        session.counts["bytes_in"] += len(pcm)
        session.stream._received(pcm)

    def closed(self, sid: str, code: int, reason: str) -> None:
        """The platform closed the socket: ``audio()`` ends; a handler still running past the grace is cancelled."""
        session = self.sessions.get(sid)
        if session is None:
            return
        session.platform_closed(int(code or 1005), str(reason or ""))
        if session.stream is None:
            session.done("the platform closed the stream before its connect message", [])
            del self.sessions[sid]
            return
        session.stream._ended(int(code or 1005), str(reason or ""))
        task = session.task
        if task is not None and not task.done():
            asyncio.get_event_loop().call_later(HANDLER_GRACE, task.cancel)

    def _connect(self, sid: str, session: _Session, text: str | None) -> None:
        try:
            connect = parse_connect(text)
        except StreamError as error:
            session.close(1008, f"bad connect message: {error}")
            session.done(f"bad connect message: {error}", [])
            del self.sessions[sid]
            return
        key = str(session.request.get("key"))
        handler = self.handlers.get(key)
        if handler is None or self.host is None:
            why = f"no handler for {key}" if handler is None else "the bridge has no host"
            session.close(1011, why)
            session.done(why, [])
            del self.sessions[sid]
            return
        context = NodeContext({**session.request, "rid": sid}, self.host)
        stream = session.stream = Stream(connect, session.out)
        session.task = asyncio.ensure_future(self._run(sid, session, handler, context, stream))
        timeout = session.request.get("handler_timeout")
        if isinstance(timeout, int | float) and timeout > 0:
            asyncio.get_event_loop().call_later(float(timeout), self._no_answer, session, float(timeout))

    def _no_answer(self, session: _Session, timeout: float) -> None:
        """``handler_timeout`` passed with no answer, busy or reject: close 1011 and cancel, as the notebook does."""
        stream, task = session.stream, session.task
        if stream is None or task is None or task.done() or stream.state != "connected":
            return
        session.error = (
            f"{key_of(session)} did not answer within {timeout:g} s: await stream.answer() first, "
            "or raise the limit with sn.configure(handler_timeout=...)"
        )
        session.close(1011, session.error)
        task.cancel()

    async def _run(self, sid: str, session: _Session, handler: Any, context: NodeContext, stream: Stream) -> None:
        """The handler (each step timed), then how the runtime closes what it left open; ``done`` last."""
        error: str | None = None
        try:
            await Timed(handler(context, stream), STEP_LIMIT, session.held.append)
        except (StreamClosedError, asyncio.CancelledError) as failure:
            if stream.close_code is None:
                error = f"{key_of(session)} raised {type(failure).__name__}: {failure}"
        except Exception as failure:
            error = f"{key_of(session)} raised {type(failure).__name__}: {failure}\n{traceback.format_exc()}"
        error = session.error or error
        if error is None and stream.state == "connected" and not stream.closed:
            error = f"{key_of(session)} returned without answering: await stream.answer() first"
        if not stream.closed:
            if error is not None:
                session.close(1011, error.split("\n", 1)[0])
            else:
                stream._close(1000, "the handler returned")
        if session.held:
            context.log.warning(held_warning(key_of(session), session.held, deployed=True))
        session.done(error, context.log.records)
        self.sessions.pop(sid, None)


def key_of(session: _Session) -> str:
    """The handler's label in messages: ``the stream /echo handler``."""
    return f"the {session.request.get('key')} handler"
