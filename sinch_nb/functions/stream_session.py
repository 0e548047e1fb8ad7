"""Media streams in the deployed Function: the notebook's ``stream /path`` handlers, on Pyodide's loop in the worker.

Standard library only; it ships. ``templates/function.js`` registers each stream path with the Functions
runtime's ``setup(runtime).onWebSocket``; each connection gets an id, and the main thread forwards the
platform's messages to the worker in order (TEXT as text, BINARY as base64). Here the first message must be
the ``connect`` (else the stream closes 1008, as in the notebook); then ``handler(context, stream)`` runs as
a task with a ``Stream`` (the notebook's own class) and a ``NodeContext`` whose host calls carry the stream
id. What the handler sends goes back through ``post`` (one JSON string a message, no waiting): ``text``,
``bytes`` (base64), ``close`` ``[code, reason]``, and last ``done`` with the error (or null) and the log.

As in the notebook, a handler has ``handler_timeout`` (from the request) to answer, busy or reject, else the
stream closes 1011. Not yet as in the notebook: no journal or recording, no limit on streams at once, and
audio crosses the thread boundary as base64 text.
"""

from __future__ import annotations

import asyncio
import base64
import json
import traceback
from collections.abc import Callable
from typing import Any

from .errors import StreamClosedError, StreamError
from .node_context import Host, NodeContext
from .stream import Outgoing, Stream
from .stream_protocol import command, parse_connect, parse_control

__all__ = ["HANDLER_GRACE", "StreamSessions"]

#: Seconds a handler has to finish once its stream has closed; then it is cancelled (as in the notebook).
HANDLER_GRACE = 5.0
#: A close reason is at most 123 bytes (RFC 6455 §5.5).
_REASON_BYTES = 123
_DIGITS = "0123456789*#ABCD"

Post = Callable[[str], Any]


def _reason(text: str) -> str:
    data = text.encode()
    if len(data) <= _REASON_BYTES:
        return text
    return data[: _REASON_BYTES - 3].decode(errors="ignore") + "..."


class _Session:
    """One WebSocket: waiting for ``connect``, then the handler's task."""

    def __init__(self, request: dict[str, Any], post: Post) -> None:
        self.request = request
        self.post = post
        self.stream: Stream | None = None
        self.task: asyncio.Future[None] | None = None
        self.finished = False
        #: Why the runtime ended the handler (no answer in time), reported as its error.
        self.error: str | None = None

    def out(self, message: Outgoing) -> None:
        """What the ``Stream`` sends, as the JSON the main thread writes to the socket."""
        if message[0] == "text":
            self.post(json.dumps({"text": command(message[1])}))
        elif message[0] == "bytes":
            self.post(json.dumps({"bytes": base64.b64encode(message[1]).decode()}))
        elif message[0] == "close":
            self.post(json.dumps({"close": [int(message[1]), _reason(str(message[2]))]}))

    def done(self, error: str | None, logs: list[Any]) -> None:
        if not self.finished:
            self.finished = True
            self.post(json.dumps({"done": True, "error": error, "logs": logs}))


class StreamSessions:
    """The open streams of one Function instance, by the id the main thread gave each."""

    def __init__(self, handlers: dict[str, Any], host: Host | None) -> None:
        self.handlers = handlers
        self.host = host
        self.sessions: dict[str, _Session] = {}

    def open(self, sid: str, request_json: str, post: Post) -> None:
        """A new connection on ``request['key']`` (``stream /path``); nothing runs until its ``connect``."""
        self.sessions[sid] = _Session(json.loads(request_json), post)

    def text(self, sid: str, text: str) -> None:
        session = self.sessions.get(sid)
        if session is None:
            return
        if session.stream is None:
            self._connect(sid, session, text)
            return
        name, body = parse_control(text)
        digit = body.get("digit")
        if name == "dtmf" and isinstance(digit, str) and len(digit) == 1 and digit in _DIGITS:
            session.stream._digit(digit)

    def binary(self, sid: str, data_b64: str) -> None:
        session = self.sessions.get(sid)
        if session is None:
            return
        if session.stream is None:
            self._connect(sid, session, None)
            return
        session.stream._received(base64.b64decode(data_b64))

    def closed(self, sid: str, code: int, reason: str) -> None:
        """The platform closed the socket: ``audio()`` ends; a handler still running past the grace is cancelled."""
        session = self.sessions.get(sid)
        if session is None:
            return
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
            session.out(("close", 1008, f"bad connect message: {error}"))
            session.done(f"bad connect message: {error}", [])
            del self.sessions[sid]
            return
        key = str(session.request.get("key"))
        handler = self.handlers.get(key)
        if handler is None or self.host is None:
            why = f"no handler for {key}" if handler is None else "the bridge has no host"
            session.out(("close", 1011, why))
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
        stream._close(1011, session.error)
        task.cancel()

    async def _run(self, sid: str, session: _Session, handler: Any, context: NodeContext, stream: Stream) -> None:
        """The handler, then how the runtime closes what it left open; ``done`` last."""
        error: str | None = None
        try:
            await handler(context, stream)
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
                stream._close(1011, error.split("\n", 1)[0])
            else:
                stream._close(1000, "the handler returned")
        session.done(error, context.log.records)
        self.sessions.pop(sid, None)


def key_of(session: _Session) -> str:
    """The handler's label in messages: ``the stream /echo handler``."""
    return f"the {session.request.get('key')} handler"
