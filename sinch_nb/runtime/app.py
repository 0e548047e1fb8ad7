"""The ASGI app that answers Sinch: one callback's way through the runtime, step by step.

    read → route → check signature → parse → invoke → check answer → reply → journal

Every request ends as one journal record, whatever happens to it. A handler that
raises, hangs or answers invalid SVAML still leaves the caller with valid SVAML (the
fallback); bad input gets a 4xx whose message names the fix.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextvars import ContextVar
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from ..contract import ContractError, validate_answer
from ..contract.cloudevents import read_cloudevent
from ..functions import call_answers, origin, routing
from ..functions.answers import AnswerError, svaml_answer
from ..functions.calls import Call, is_call_event
from ..functions.clients import MissingClient
from ..functions.context import FunctionConfig
from ..functions.errors import MethodNotAllowedError, RouteNotFoundError, SinchNbError
from ..functions.events import ConversationEvent, VoiceEvent
from ..functions.http import HttpRequest
from ..functions.origin import PLATFORM_PREFIX, REPLAY_HEADER, SANDBOX_HEADER, SIMULATED_HEADER
from ..journal import Journal
from ..journal.record import Record
from . import call_events, replies
from .checks import callback_kind, check_signature, parse_callback, parse_json
from .context import DevCache, DevContext, DevStorage
from .incoming import Incoming, read_body
from .invoke import HandlerError, Invoker
from .refused import RefusedError
from .registry import Handler, Registry
from .repeats import ANSWERED, Repeats, check_fresh, repeat_key
from .report import ErrorReport, InProcessResponse
from .sandbox import Sandbox
from .settings import DEFAULT_FALLBACK, Settings

__all__ = ["DEFAULT_FALLBACK", "CallbackApp", "ErrorReport", "InProcessResponse", "Settings"]


#: What stands where a client has no credentials (made once: they hold only their name).
_MISSING = {name: MissingClient(name) for name in ("voice", "conversation", "sms", "numbers")}

#: The explorer's sandbox a request belongs to (set per request; each request runs in its own task).
_SANDBOX: ContextVar[str | None] = ContextVar("sinch_nb_sandbox", default=None)
#: Whether the request is simulated: its handler's clients then reach the simulated platform.
_SIMULATED: ContextVar[bool] = ContextVar("sinch_nb_simulated", default=False)


def _begin(incoming: Incoming, marker: str) -> Record:
    """The record of a request that has just arrived; simulated or a replay only if it carries ``marker``."""
    headers = incoming.headers
    simulated, source = origin.simulated_source(headers.get(SIMULATED_HEADER), marker)
    return Record(
        time=time.time(),
        method=incoming.method,
        path=incoming.path,
        request_headers=headers,
        simulated=int(simulated),
        source=source,
        replay_of=origin.replay_of(headers.get(REPLAY_HEADER), marker),
    )


def _http_request(incoming: Incoming, body: bytes) -> HttpRequest:
    """The request as a handler's ``request`` sees it: method, path, query, headers, body."""
    query = dict(parse_qsl(incoming.query, keep_blank_values=True))
    return HttpRequest(
        method=incoming.method, path=incoming.path, query=query, headers=dict(incoming.headers), body=body
    )


def _route(incoming: Incoming, custom: frozenset[str]) -> routing.Resolution:
    """Where the Functions routing sends this request; refused with 404 (the routes listed to local requests only)."""
    try:
        return routing.resolve(incoming.method, incoming.path, custom)
    except RouteNotFoundError as error:
        if not incoming.local:  # through a tunnel: nothing about the notebook's routes
            raise RefusedError(404, f"no route for {error.path}") from None
        raise RefusedError(404, str(error), known_routes=error.known) from None
    except MethodNotAllowedError as error:
        raise RefusedError(405, str(error), headers={"Allow": ", ".join(error.allowed)}) from None


class CallbackApp:
    """The runtime's ASGI app over a handler registry and a journal."""

    def __init__(self, registry: Registry, journal: Journal, settings: Settings) -> None:
        self.registry = registry
        self.journal = journal
        self.settings = settings
        self.cache = DevCache()
        self.invoker = Invoker()
        self.repeats = Repeats()
        #: What marks a request as simulated or a replay: never leaves the process, so the network cannot.
        self.marker = secrets.token_hex(16)
        self.last_error: ErrorReport | None = None
        #: The pre-wired Sinch clients handlers get on their context (set by ``sn.start``).
        self.clients: Any = None
        #: The clients a simulated request's handler gets: the simulated platform's (``simulate/local_platform.py``).
        #: (a ``Future`` while they are still being built: the SDK takes ~0.6 s, kept off ``sn.start``).
        self.simulated_clients: Any = None
        #: The simulated platform's APIs, served at ``PLATFORM_PREFIX`` to loopback requests (an ASGI app).
        self.platform: Any = None
        #: The explorer's paths in progress, by call id (``runtime/sandbox.py``).
        self.sandboxes: dict[str, Sandbox] = {}
        #: Nonces of the doctor's WebSocket probes in flight (``runtime/stream_probe.py``).
        self.probes: set[str] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            incoming = Incoming.from_scope(scope, receive)
            if self.platform is not None and incoming.local and incoming.path.startswith(PLATFORM_PREFIX + "/"):
                await self.platform(scope, receive, send)  # the simulated platform's own APIs
                return
            response, _ = await self._answer(incoming)
            await response(scope, receive, send)
        elif scope["type"] == "websocket":  # a media stream: runtime/streams.py, one journal row each
            from .streams import serve_stream

            await serve_stream(self, scope, receive, send)

    async def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> InProcessResponse:
        """One request through the whole pipeline without a socket (replay, the explorer)."""
        response, record_id = await self._answer(Incoming.in_process(method, path, headers, body))
        return InProcessResponse(response.status_code, bytes(response.body), record_id, dict(response.headers))

    # The pipeline ---------------------------------------------------------

    async def _answer(self, incoming: Incoming) -> tuple[Response, int]:
        """Answer one request and journal it; returns the response and the record's id."""
        started = time.perf_counter()
        record = _begin(incoming, self.marker)
        _SANDBOX.set(incoming.headers.get(SANDBOX_HEADER) if record.simulated else None)  # this request's task only
        _SIMULATED.set(bool(record.simulated))
        handler: Handler | None = None
        try:
            body = await read_body(incoming, self.settings.max_body)
            record.request_body = body.decode("utf-8", errors="replace")
            route = _route(incoming, self.registry.custom_keys())
            record.kind = route.kind
            if route.kind == "health":
                record.outcome = "ok"
                response = replies.health([h.label for h in self.registry.handlers()] if incoming.local else None)
            elif route.kind == "http":
                handler = self.registry.get(route.key)
                response = await self._endpoint(incoming, body, handler, record)
            else:
                handler, response = await self._callback(incoming, route.kind, body, record)
        except RefusedError as refused:
            response = replies.refuse(refused, record)
        except Exception as error:  # the runtime itself must never drop a callback
            record.update(
                outcome="error", error=f"sinch_nb internal error: {error!r}", traceback=traceback.format_exc()
            )
            response = replies.fallback(record, self.settings.fallback)
        if record.simulated or record.replay_of is not None:  # marked by this process: say how it went
            response.headers.update(origin.outcome_headers(record.outcome, record.error))
        return response, self._journal(record, response, handler, started)

    async def _callback(
        self, incoming: Incoming, route: str, body: bytes, record: Record
    ) -> tuple[Handler | None, Response]:
        """check signature → parse → invoke → check answer → reply, for a Sinch callback."""
        if route == "voice" and call_events.is_v2_request(incoming.headers):
            return await self._call_event(incoming, body, record)
        record.signature = check_signature(self.settings, incoming, route, body)
        key = self._fresh(route, incoming, record.signature)
        payload = parse_json(body)
        if route == "voice" and is_call_event(payload):  # a v2 body without its CloudEvent headers (curl, a test)
            return await self._call_event(incoming, body, record, payload)
        kind = record.kind = callback_kind(route, payload)
        event = parse_callback(kind, payload, record)
        handler = self.registry.get(kind)
        window = self.settings.signature_window or 0
        answering = partial(self._handle, kind, event, handler, record)
        return handler, await self._once(key, window, record, "the same signature", answering)

    async def _once(
        self, key: str | None, window: float, record: Record, why: str, answering: Callable[[], Awaitable[Response]]
    ) -> Response:
        """``answering()``'s response, unless ``key`` was answered within ``window``: then that first answer again.

        The handler never runs twice for one signed callback (or one ``ce-id``); a repeat of one
        that failed runs again (``repeats.py``).
        """
        first = self.repeats.first(key, window) if key else None
        if first is not None:
            await first.done.wait()
            if first.answer is not None:  # answered before: the same answer, the handler not run again
                first_id = first.record.id if first.record is not None else None
                return replies.repeat(first_id, first.answer, record, why=why)
        if key is None:
            return await answering()
        this = self.repeats.begin(key)
        try:
            response = await answering()
            if record.outcome in ANSWERED:
                this.answer = (response.status_code, bytes(response.body), response.headers.get("content-type"))
            this.record = record  # its id is known once journaled, before any repeat reads it
            return response
        finally:
            this.done.set()

    async def _call_event(
        self, incoming: Incoming, body: bytes, record: Record, payload: Any = None
    ) -> tuple[Handler | None, Response]:
        """A Voice API v2 webhook: service signature → CloudEvent → contract → slot → handler → commands."""
        record.signature = check_signature(self.settings, incoming, "call", body)
        window = self.settings.signature_window
        if record.signature == "valid":
            check_fresh("voice", incoming.headers, window)
        cloud = read_cloudevent(incoming.headers)
        call = call_events.read_call(parse_json(body) if payload is None else payload, record, cloud)
        picked = call_answers.pick_handler(self.registry, call.event)
        handler = picked[1] if picked is not None else None
        key = f"ce {cloud.dedupe_key}" if cloud.dedupe_key else None
        duplicate = "the same ce-id: a duplicate delivery"  # the platform may deliver an event twice
        answering = partial(self._answer_call, incoming, body, call, handler, record)
        return handler, await self._once(key, window or 300.0, record, duplicate, answering)

    async def _answer_call(
        self, incoming: Incoming, body: bytes, call: Call, handler: Handler | None, record: Record
    ) -> Response:
        """The slot's handler, its return value as commands; the v2 fallback (or 204) when it fails."""
        live = call_answers.is_live(call.event)
        if handler is None:
            default = call_answers.no_handler_answer(call.event)
            if default is not None:
                record.update(
                    outcome="fallback",
                    error="no incoming handler: define one with %%sinch incoming or sn.on_call(incoming=...)",
                )
                return replies.commands_reply(default, record)
            record.outcome = "default"
            return Response(status_code=204)
        request = _http_request(incoming, body)
        webhook_url = call_answers.webhook_url(incoming.headers)
        try:
            result = await self._run(
                handler,
                call,
                record,
                arguments=lambda context: call_answers.handler_arguments(handler.function, context, call, request),
            )
            answer, warnings = call_events.answer_fields(result, call.event, webhook_url)
        except (HandlerError, AnswerError, ContractError, SinchNbError) as error:
            record.update(outcome="fallback" if live else "error", error=str(error))
            record.traceback = getattr(error, "trace", "") or None
            return replies.commands_reply(call_answers.FALLBACK_V2, record) if live else Response(status_code=204)
        record.update(outcome="ok", warnings=warnings or None)
        return replies.commands_reply(answer, record) if answer is not None else Response(status_code=204)

    def _fresh(self, route: str, incoming: Incoming, signature: str) -> str | None:
        """For a validly signed callback: refuse it if stale; its repeat key while the window holds."""
        window = self.settings.signature_window
        if signature != "valid" or window is None:
            return None
        check_fresh(route, incoming.headers, window)
        return repeat_key(route, incoming.headers)

    async def _handle(
        self, kind: str, event: VoiceEvent | ConversationEvent, handler: Handler | None, record: Record
    ) -> Response:
        """The handler's answer, or what Sinch gets from a Function without one."""
        if handler is None:
            return self._no_handler(kind, record)
        return await self._invoke(kind, event, handler, record)

    async def _invoke(
        self, kind: str, event: VoiceEvent | ConversationEvent, handler: Handler, record: Record
    ) -> Response:
        """Run the handler and check its answer; the fallback when it fails."""
        answers_svaml = kind in replies.SVAML_KINDS
        try:
            result = await self._run(handler, event, record)
            if not answers_svaml:
                return replies.informational(kind, result, record)
            answer = svaml_answer(kind, result)
            record.warnings = validate_answer(kind, answer) or None
        except (HandlerError, AnswerError, ContractError) as error:
            record.update(outcome="fallback" if answers_svaml else "error", error=str(error))
            record.traceback = getattr(error, "trace", "") or None
            return replies.fallback(record, self.settings.fallback)
        record.outcome = "ok"
        return replies.svaml_reply(answer, record)

    def _no_handler(self, kind: str, record: Record) -> Response:
        """No handler for this kind: what Sinch would get from a Function without one."""
        if kind in ("ice", "pie"):
            record.update(
                outcome="fallback",
                error=f"no {kind.upper()} handler: define one with %%sinch {kind} or @sn.{kind}",
            )
            return replies.fallback(record, self.settings.fallback)
        record.outcome = "default"
        if kind == "ace":
            return replies.svaml_reply(replies.DEFAULT_ACE, record)
        return Response(status_code=200)

    async def _endpoint(self, incoming: Incoming, body: bytes, handler: Handler | None, record: Record) -> Response:
        """A custom endpoint: its handler gets the request and answers HTTP."""
        if handler is None:  # unregistered between routing and here
            known = routing.fixed_routes()
            raise RefusedError(404, str(RouteNotFoundError(incoming.path, known)), known_routes=known)
        request = _http_request(incoming, body)
        try:
            result = await self._run(handler, request, record)
        except HandlerError as error:
            record.update(outcome="error", error=str(error), traceback=error.trace or None)
            return replies.fallback(record, self.settings.fallback)
        record.outcome = "ok"
        return replies.http_reply(result, record)

    async def _run(
        self,
        handler: Handler,
        argument: Any,
        record: Record,
        *,
        arguments: Callable[[Any], tuple[Any, ...]] | None = None,
    ) -> Any:
        """The handler's result (or ``HandlerError``), its request recorded first, its log lines kept.

        It is called with ``(context, argument)``, or with what ``arguments(context)`` gives (v2's call, builder).
        """
        simulated = self.simulated_clients
        if _SIMULATED.get() and isinstance(simulated, Future) and not simulated.done():
            await asyncio.wrap_future(simulated)  # still being built in the background: wait, the loop stays free
        context = self._context()
        record.update(outcome="running", handler=handler.label, handler_version=handler.version)
        self.journal.append(record, durable=True)  # a handler that kills the kernel leaves its request behind
        try:
            args = arguments(context) if arguments is not None else (context, argument)
            return await self.invoker.invoke(handler, self.settings.handler_timeout, *args)
        finally:
            record.logs = context.log.records or None

    def _journal(self, record: Record, response: Response, handler: Handler | None, started: float) -> int:
        """Note the answer on the record and record it durably before it leaves; keep it if it failed."""
        record.status = response.status_code
        record.latency_ms = (time.perf_counter() - started) * 1000
        if handler is not None:
            record.handler = handler.label
            record.handler_version = handler.version
        record_id = self.journal.append(record, durable=True)
        if record.traceback or record.outcome in ("fallback", "error"):
            self.last_error = ErrorReport(
                record_id,
                handler.label if handler else str(record.kind),
                str(record.error),
                str(record.traceback or ""),
                str(record.outcome),
            )
        return record_id

    def record_stream(self, record: Record) -> int:
        """Journal a media stream's record durably (``streams.py``); keep it as the last error if it failed."""
        record_id = self.journal.append(record, durable=True)
        if record.traceback or record.outcome == "error":
            self.last_error = ErrorReport(
                record_id, str(record.handler or record.path), str(record.error), str(record.traceback or ""), "error"
            )
        return record_id

    # What every handler's context shares -----------------------------------

    @property
    def settings(self) -> Settings:
        """The runtime settings; setting them rebuilds what every request's context shares."""
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        base = settings.base_dir
        database = base / "data" / "function.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        config = FunctionConfig(function_name=settings.function_name, variables=dict(settings.variables))
        self._shared = (DevStorage(base / "storage"), str(database), config, base / "assets")
        self._settings = settings

    def _context(self) -> DevContext:
        storage, database, config, assets = self._shared
        sandbox_id = _SANDBOX.get()
        if sandbox_id is not None:  # an explored path: its own state, clients that record
            sandbox = self.sandboxes.get(sandbox_id)
            if sandbox is None:
                sandbox = self.sandboxes[sandbox_id] = Sandbox.of(self.cache, storage, database)
            return DevContext(
                sandbox.cache,
                sandbox.storage,
                sandbox.database,
                config,
                assets,
                voice=sandbox.client("voice"),
                conversation=sandbox.client("conversation"),
                sms=sandbox.client("sms"),
                numbers=sandbox.client("numbers"),
            )
        live = self.clients
        if _SIMULATED.get() and self.simulated_clients is not None:
            simulated = self.simulated_clients
            live = simulated.result() if isinstance(simulated, Future) else simulated  # _run waited for it
        return DevContext(
            self.cache,
            storage,
            database,
            config,
            assets,
            voice=getattr(live, "voice", None) or _MISSING["voice"],
            conversation=getattr(live, "conversation", None) or _MISSING["conversation"],
            sms=getattr(live, "sms", None) or _MISSING["sms"],
            numbers=getattr(live, "numbers", None) or _MISSING["numbers"],
        )

    def close_sandbox(self, sandbox_id: str) -> list[str]:
        """End an explored path's sandbox; what its handlers would have sent."""
        sandbox = self.sandboxes.pop(sandbox_id, None)
        return sandbox.close() if sandbox is not None else []
