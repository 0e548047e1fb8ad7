"""The Python side of a deployed Function: the Node entry hands each request here, as JSON.

Standard library only; it runs inside Pyodide in a worker thread of the Sinch Functions Node
runtime (``templates/function.js``). Python runs the notebook's handler once per request,
against a ``NodeContext`` whose cache, storage, assets and HTTP are Node's, reached through
synchronous host calls, and returns the answer and the handler's log for Node. The answer
is shaped as the notebook runtime shapes it: SVAML for ICE/ACE/PIE (the fallback when the
handler fails), an empty 200 for DiCE and Notify; for a Voice API v2 ``call.*`` event
(``kind`` ``call``, ``key`` the ``onCall`` slot Node picked), ``{"commands": [...]}`` with 200
or nothing with 204, by the rules of ``call_answers``; a body Sinch never posts gets the
notebook's 400 (``payloads``). ``async def`` handlers run on Pyodide's event loop: ``handle``
then returns an awaitable that Node awaits.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from . import call_answers, payloads, routing, signing, svaml
from .answers import DEFAULT_FALLBACK, http_answer, svaml_answer
from .calls import parse_call
from .cells import build_handlers
from .errors import SinchNbError
from .events import parse_event
from .http import HttpRequest
from .node_context import Host, NodeContext
from .stream_session import Post, PostBytes, StreamSessions

__all__ = ["Bridge"]

#: status, content type, body, error (the traceback when the handler failed).
Answer = tuple[int, str | None, str, str | None]
#: What ``_steps`` yields: the handler and its arguments, for ``handle`` to call once.
Call = tuple[Callable[..., Any], tuple[Any, ...]]
Steps = Generator[Call, Any, Answer]


class Bridge:
    """Handlers by route key, compiled from the notebook's sources; ``host`` reaches Node."""

    def __init__(
        self,
        handlers: dict[str, Any],
        fallback: dict[str, Any] | None = None,
        host: Host | None = None,
        window: float | None = 300.0,
    ) -> None:
        self.handlers = handlers
        self.fallback = fallback or DEFAULT_FALLBACK
        self.host = host
        #: Seconds a signed v2 event may be off the clock (None: not checked), as the notebook's signature_window.
        self.window = window
        #: The media streams ``function.js``'s ``setup`` serves (``stream /path`` handlers), by connection id.
        self.streams = StreamSessions(handlers, host)

    @classmethod
    def from_json(cls, sources_json: str, host: Host | None = None) -> Bridge:
        """The bridge for an exported ``handlers.json`` (module cells, handlers, fallback)."""
        sources = json.loads(sources_json)
        namespace: dict[str, Any] = {"svaml": svaml, "__name__": "sinch_nb_handlers"}
        handlers = build_handlers(sources["modules"], sources["handlers"], namespace)
        return cls(handlers, sources.get("fallback"), host, sources.get("signature_window", 300.0))

    def handle(self, request_json: str) -> str | Awaitable[str]:
        """One request in (JSON), one answer out (JSON); an awaitable of it when the handler is ``async def``.

        The handler runs exactly once: its reads and writes go to Node as they happen.
        """
        if self.host is None:
            raise RuntimeError("the bridge has no host: build it with Bridge.from_json(sources, host)")
        request = json.loads(request_json)
        context = NodeContext(request, self.host)
        steps = self._steps(request, context)
        try:
            handler, args = next(steps)
        except StopIteration as done:  # answered before any handler: a malformed body, no handler
            return _reply(done.value, context)
        if inspect.iscoroutinefunction(handler):
            return asyncio.ensure_future(self._awaited(steps, handler, args, context))
        try:
            result = handler(*args)
        except Exception as error:
            return _reply(_finish(steps, error=error), context)
        return _reply(_finish(steps, result), context)

    async def _awaited(
        self, steps: Steps, handler: Callable[..., Any], args: tuple[Any, ...], context: NodeContext
    ) -> str:
        """An ``async def`` handler, awaited on Pyodide's loop; then the same answer rules."""
        try:
            result = await handler(*args)
        except Exception as error:
            return _reply(_finish(steps, error=error), context)
        return _reply(_finish(steps, result), context)

    # Media streams: function.js forwards each connection's messages, in order, by its id.

    def stream_open(self, sid: str, request_json: str, post: Post, post_bytes: PostBytes | None = None) -> None:
        """A WebSocket opened on ``request['key']``; ``post`` takes what goes back (JSON strings).

        ``post_bytes`` takes the handler's PCM (without it, PCM goes through ``post`` as base64). One stream
        more than ``MAX_STREAMS`` open at once is closed 1013.
        """
        self.streams.open(sid, request_json, post, post_bytes)

    def stream_text(self, sid: str, text: str) -> None:
        """A TEXT message from the platform: ``connect`` first, then ``dtmf`` and the like."""
        self.streams.text(sid, text)

    def stream_bytes(self, sid: str, data: Any) -> None:
        """A BINARY frame from the platform, PCM for ``stream.audio()``: a JS ``Uint8Array``, bytes or base64."""
        self.streams.binary(sid, data)

    def stream_closed(self, sid: str, code: int, reason: str) -> None:
        """The platform closed the WebSocket."""
        self.streams.closed(sid, code, reason)

    def _steps(self, request: dict[str, Any], context: NodeContext) -> Steps:
        """The answer for ``request``: yields the handler call once, gets its result (or error) back."""
        kind, key = str(request["kind"]), str(request.get("key") or request["kind"])
        if kind == "call":
            return (yield from self._call_event(request, context))
        handler = self.handlers.get(key)
        if kind == "http":
            http = HttpRequest(
                method=str(request.get("method", "GET")),
                path=str(request.get("path", "/")),
                query=dict(request.get("query") or {}),
                headers=dict(request.get("headers") or {}),
                body=str(request.get("body") or "").encode(),
            )
            if handler is None:
                return 404, "application/json", json.dumps({"error": f"no handler for {key}"}), None
            try:
                status, _, content_type, raw = http_answer((yield handler, (context, http)))
                return status, content_type, raw.decode("utf-8", errors="replace"), None
            except Exception:
                return 500, "application/json", json.dumps({"error": "the handler failed"}), traceback.format_exc()
        try:
            payload = payloads.read_json(str(request.get("body") or ""))
            payloads.callback_kind(kind, payload)
        except payloads.MalformedCallbackError as error:
            return error.status, "application/json", json.dumps({"error": str(error)}), None
        event = parse_event(payload, kind)
        if handler is None:
            if kind in ("ice", "pie"):
                return 200, "application/json", json.dumps(self.fallback), f"no {kind.upper()} handler"
            if kind == "ace":
                return 200, "application/json", json.dumps({"action": {"name": "continue"}}), None
            return 200, None, "", None
        try:
            result = yield handler, (context, event)
            if kind not in routing.VOICE_KINDS[:3]:
                body = json.dumps(result) if kind == "conversation" and isinstance(result, dict | list) else ""
                return 200, "application/json" if body else None, body, None
            return 200, "application/json", json.dumps(svaml_answer(kind, result)), None
        except Exception:
            if kind in ("ice", "ace", "pie"):
                return 200, "application/json", json.dumps(self.fallback), traceback.format_exc()
            return 200, None, "", traceback.format_exc()

    def _call_event(self, request: dict[str, Any], context: NodeContext) -> Steps:
        """A Voice API v2 webhook: the slot's handler as the notebook runtime calls it, its answer as it answers."""
        body = str(request.get("body") or "")
        try:  # the notebook's 400s: not JSON, then what the call view cannot read
            call = parse_call(payloads.read_json(body))
        except (ValueError, SinchNbError) as error:
            return 400, "application/json", json.dumps({"error": str(error)}), None
        headers = {str(k).lower(): str(v) for k, v in dict(request.get("headers") or {}).items()}
        refused = self._refused(request, headers, body, context)
        if refused is not None:
            return refused
        repeat_key = f"sinch_nb:ce:{headers['ce-id']}" if headers.get("ce-id") else None
        first = context.cache.get(repeat_key) if repeat_key is not None else None
        if isinstance(first, list) and len(first) == 3:  # a second delivery of one ce-id: the first answer again
            return int(first[0]), first[1], str(first[2]), None
        answer = yield from self._call_slot(request, headers, body, call, context)
        if repeat_key is not None and answer[3] is None:  # answered (not failed): repeats get it, for the window
            context.cache.set(repeat_key, [answer[0], answer[1], answer[2]], self.window or 300.0)
        return answer

    def _refused(
        self, request: dict[str, Any], headers: dict[str, str], body: str, context: NodeContext
    ) -> Answer | None:
        """401 for a v2 event unsigned, wrongly signed or stale while the Function has ``VOICE_SERVICE_SECRET``."""
        secret = context.env.get("VOICE_SERVICE_SECRET")
        if not secret:
            return None  # as the notebook without the secret: unchecked
        service = context.env.get("VOICE_SERVICE_ID") or ""
        method, path = str(request.get("method") or "POST"), str(request.get("path") or "/")
        stamp = signing.voice_timestamp(headers.get("x-timestamp", ""))
        if not headers.get("authorization", "").lower().startswith("service "):
            why = "unsigned callback refused: VOICE_SERVICE_SECRET is set, so call.* webhooks must be signed"
        elif not signing.verify_voice_v2_callback(method, path, headers, body, service, secret):
            why = "invalid signature refused: it does not match the Function's VOICE_SERVICE_ID / VOICE_SERVICE_SECRET"
        elif self.window is not None and (stamp is None or abs(time.time() - stamp) > self.window):
            why = f"stale signed callback refused: its x-timestamp is outside ±{self.window:g} s (a replayed request?)"
        else:
            return None
        return 401, "application/json", json.dumps({"error": why}), None

    def _call_slot(
        self, request: dict[str, Any], headers: dict[str, str], body: str, call: Any, context: NodeContext
    ) -> Steps:
        """The event's ``onCall`` slot: its handler's answer by ``call_answers``' rules, or the runtime's default."""
        key = request.get("key")
        if key is None:  # Node did not pick a slot: pick it here, as onCall would
            picked = call_answers.pick_handler(self.handlers, call.event)
            key = picked[0] if picked is not None else None
        handler = self.handlers.get(str(key)) if key is not None else None
        if handler is None:
            default = call_answers.no_handler_answer(call.event)
            if default is None:
                return 204, None, "", None
            return 200, "application/json", json.dumps(default), f"no handler for {call.event}"
        http = HttpRequest(
            method=str(request.get("method") or "POST"),
            path=str(request.get("path") or "/"),
            query=dict(request.get("query") or {}),
            headers=headers,
            body=body.encode(),
        )
        try:
            result = yield handler, call_answers.handler_arguments(handler, context, call, http)
            answer = call_answers.call_answer(result, call.event, call_answers.webhook_url(headers))
        except Exception:
            if call_answers.is_live(call.event):
                return 200, "application/json", json.dumps(call_answers.FALLBACK_V2), traceback.format_exc()
            return 204, None, "", traceback.format_exc()
        if answer is None:
            return 204, None, "", None
        return 200, "application/json", json.dumps(answer), None


def _finish(steps: Steps, result: Any = None, *, error: BaseException | None = None) -> Answer:
    """Hand the handler's result (or its error) back to ``steps``; the answer it gives."""
    try:
        steps.throw(error) if error is not None else steps.send(result)
    except StopIteration as done:
        answer: Answer = done.value
        return answer
    raise RuntimeError("a request called its handler twice")  # _steps yields once


def _reply(answer: Answer, context: NodeContext) -> str:
    """The answer and the handler's log, as JSON for Node."""
    status, content_type, body, error = answer
    return json.dumps(
        {"status": status, "content_type": content_type, "body": body, "error": error, "logs": context.log.records}
    )
