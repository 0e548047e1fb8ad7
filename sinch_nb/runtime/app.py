"""The ASGI app that answers Sinch: route, parse, call the handler, validate, reply, journal.

Every request ends as one journal record, whatever happens to it. A handler that
raises, hangs or answers invalid SVAML still leaves the caller with valid SVAML
(the fallback); bad input gets a 4xx whose message names the fix.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response

from ..contract import ContractError, signing, validate_answer, validate_callback
from ..functions import routing
from ..functions.answers import AnswerError, http_answer, svaml_answer
from ..functions.context import FunctionConfig
from ..functions.events import ConversationEvent, VoiceEvent, parse_event, voice_kind
from ..functions.http import HttpRequest
from ..functions.origin import REPLAY_HEADER, SIMULATED_HEADER
from ..journal import Journal
from .context import DevCache, DevContext, DevStorage
from .registry import Handler, Registry
from .settings import DEFAULT_FALLBACK, Settings

__all__ = ["DEFAULT_FALLBACK", "CallbackApp", "ErrorReport", "Settings"]


#: What Sinch's own default for an unhandled ACE is: carry on.
DEFAULT_ACE: dict[str, Any] = {"action": {"name": "continue"}}


@dataclass(frozen=True)
class InProcessResponse:
    """What ``CallbackApp.handle`` answered, and the journal record it made."""

    status: int
    body: bytes
    record_id: int


@dataclass(frozen=True)
class ErrorReport:
    """What went wrong in one request: shown by ``sn.last_error()``."""

    record_id: int
    handler: str
    error: str
    traceback: str
    outcome: str

    def __repr__(self) -> str:
        return f"Callback #{self.record_id} ({self.handler}, {self.outcome}): {self.error}\n\n{self.traceback}".rstrip()

    def _repr_html_(self) -> str:
        import html

        return (
            f"<b>Callback #{self.record_id}</b> ({html.escape(self.handler)}, {self.outcome}): "
            f"{html.escape(self.error)}<pre>{html.escape(self.traceback)}</pre>"
        )


@dataclass(frozen=True, slots=True)
class _Incoming:
    """What the pipeline reads of one request: straight from the ASGI scope, lower-case header names.

    One endpoint serves every path (routing is Sinch's, ``functions.routing``), so a
    Starlette ``Request`` and router would only add work per callback.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    receive: Callable[[], Awaitable[dict[str, Any]]]

    @classmethod
    def from_scope(cls, scope: Any, receive: Callable[[], Awaitable[dict[str, Any]]]) -> _Incoming:
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        return cls(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, receive)


def _body_once(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI ``receive`` that hands over ``body`` in one message, then a disconnect."""
    messages: list[dict[str, Any]] = [
        {"type": "http.disconnect"},
        {"type": "http.request", "body": body, "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop() if len(messages) > 1 else messages[0]

    return receive


class BadRequestError(Exception):
    """A request Sinch would never send; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SignatureError(Exception):
    """A callback refused for its signature; ``verdict`` is ``invalid`` or ``unsigned``."""

    def __init__(self, verdict: str, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict


class HandlerError(Exception):
    """The handler raised, timed out or answered something that is not valid."""

    def __init__(self, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.trace = trace


def _handler_traceback(error: BaseException, handler: Handler) -> str:
    """The traceback from the handler's own frame down (the runtime's and asyncio's left out)."""
    code = getattr(handler.function, "__code__", None)
    tb = error.__traceback__
    while tb is not None and code is not None and tb.tb_frame.f_code.co_filename != code.co_filename:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb or error.__traceback__))


def _hint(error: BaseException, handler: Handler) -> str:
    if isinstance(error, NameError) and handler.origin.startswith("cell"):
        return (
            f"{error}. A %%sinch cell sees only what %%sinch module cells define (that is what ships "
            "with the Function); move the definition into a %%sinch module cell"
        )
    return f"{type(error).__name__}: {error}"


class CallbackApp:
    """Starlette app over a handler registry and a journal."""

    def __init__(self, registry: Registry, journal: Journal, settings: Settings) -> None:
        self.registry = registry
        self.journal = journal
        self.settings = settings
        self.cache = DevCache()
        self.last_error: ErrorReport | None = None
        #: The pre-wired Sinch clients handlers get on their context (set by ``sn.start``).
        self.clients: Any = None
        self.on_record: Callable[[dict[str, Any]], None] | None = None
        self.executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sinch_nb-handler")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            response, _ = await self.endpoint(_Incoming.from_scope(scope, receive))
            await response(scope, receive, send)
        elif scope["type"] == "websocket":  # not served (yet): refuse cleanly
            await send({"type": "websocket.close", "code": 1008})

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> InProcessResponse:
        """One request through the whole pipeline without a socket (replay, the explorer)."""
        split = path.split("?", 1)
        incoming = _Incoming(
            method.upper(),
            split[0],
            split[1] if len(split) > 1 else "",
            {name.lower(): value for name, value in headers.items()},
            _body_once(body),
        )
        response, record_id = await self.endpoint(incoming)
        return InProcessResponse(response.status_code, bytes(response.body), record_id)

    # The pipeline ---------------------------------------------------------

    async def endpoint(self, request: _Incoming) -> tuple[Response, int]:
        """Answer one request and journal it; returns the response and the record's id."""
        started = time.perf_counter()
        headers = request.headers
        replay = headers.get(REPLAY_HEADER)
        record: dict[str, Any] = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "request_headers": headers,
            "simulated": int(headers.get(SIMULATED_HEADER) == "1"),
            "replay_of": int(replay) if replay and replay.isdigit() else None,
        }
        handler: Handler | None = None
        try:
            body = await self._read_body(request)
            record["request_body"] = body.decode("utf-8", errors="replace")
            resolution = routing.resolve(request.method, request.path, self.registry.custom_keys())
            record["kind"] = resolution.kind
            if resolution.kind == "health":
                response = self._health()
                record["outcome"] = "ok"
            elif resolution.kind == "http":
                handler = self.registry.get(resolution.key)
                response = await self._custom(request, body, resolution.key, record)
            else:
                record["signature"] = self._check_signature(request, resolution.kind, body)
                payload = self._parse_json(body)
                kind = self._callback_kind(resolution.kind, payload)
                record["kind"] = kind
                event = self._event(kind, payload, record)
                handler = self.registry.get(kind)
                response = await self._callback(kind, event, handler, record)
        except routing.RouteNotFoundError as error:
            response = self._reject(record, 404, str(error), known_routes=error.known)
        except routing.MethodNotAllowedError as error:
            response = self._reject(record, 405, str(error), headers={"Allow": ", ".join(error.allowed)})
        except BadRequestError as error:
            response = self._reject(record, error.status, str(error))
        except SignatureError as error:
            record["signature"] = error.verdict
            response = self._reject(record, 401, str(error))
        except Exception as error:  # the runtime itself must never drop a callback
            record.update(
                outcome="error", error=f"sinch_nb internal error: {error!r}", traceback=traceback.format_exc()
            )
            response = self._answer_anyway(record)
        record["status"] = response.status_code
        record["latency_ms"] = (time.perf_counter() - started) * 1000
        if handler is not None:
            record["handler"] = handler.label
            record["handler_version"] = handler.version
        record_id = self.journal.append(record)
        if record.get("traceback") or record.get("outcome") in ("fallback", "error"):
            self.last_error = ErrorReport(
                record_id,
                handler.label if handler else str(record.get("kind")),
                str(record.get("error")),
                str(record.get("traceback") or ""),
                str(record.get("outcome")),
            )
        if self.on_record is not None:
            self.on_record(record)
        return response, record_id

    async def _read_body(self, request: _Incoming) -> bytes:
        limit = self.settings.max_body
        declared = request.headers.get("content-length", "")
        too_large = BadRequestError(413, f"body over {limit} bytes; Sinch callbacks are far smaller")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        while True:
            message = await request.receive()
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

    def _check_signature(self, request: _Incoming, kind: str, body: bytes) -> str:
        """``valid``, ``unsigned`` (accepted: no secret, or insecure) or ``unchecked``; raises when refused."""
        settings = self.settings
        headers = request.headers
        if kind == "conversation":
            secret, signed, name = settings.conversation_secret, "x-sinch-webhook-signature" in headers, "webhook"
        else:
            secret, signed, name = settings.application_secret, "authorization" in headers, "Voice App"
        if secret is None:
            return "unchecked"
        if not signed:
            if settings.insecure:
                return "unsigned"
            raise SignatureError(
                "unsigned",
                f"unsigned callback refused: the {name} secret is set, so callbacks must be signed "
                "(start with --insecure to accept unsigned ones while testing)",
            )
        if kind == "conversation":
            valid = signing.verify_conversation_webhook(headers, body, secret.reveal())
        else:
            valid = signing.verify_voice_callback(
                request.method, request.path, headers, body, settings.application_key or "", secret.reveal()
            )
        if not valid:
            raise SignatureError(
                "invalid",
                f"invalid signature refused: it does not match the {name} key and secret this runtime has; "
                "check VOICE_APPLICATION_KEY / VOICE_APPLICATION_SECRET (or the webhook secret)",
            )
        return "valid"

    @staticmethod
    def _parse_json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequestError(400, f"body is not JSON ({error}); Sinch posts callbacks as JSON") from None

    @staticmethod
    def _callback_kind(kind: str, payload: Any) -> str:
        if not isinstance(payload, dict):
            raise BadRequestError(400, f"a callback body is a JSON object, got {type(payload).__name__}")
        if kind != "voice":
            return kind
        found = voice_kind(payload)
        if found is None:
            raise BadRequestError(400, "POST / needs a Voice callback whose 'event' is ice, ace, pie, dice or notify")
        return found

    @staticmethod
    def _event(kind: str, payload: dict[str, Any], record: dict[str, Any]) -> VoiceEvent | ConversationEvent:
        try:
            validate_callback(kind, payload)
        except ContractError as error:
            raise BadRequestError(400, str(error)) from None
        event = parse_event(payload, kind)
        if isinstance(event, ConversationEvent):
            record.update(trigger=event.trigger, cli=event.identity, destination=event.channel)
            return event
        to = payload.get("to")
        menu_result = payload.get("menuResult") or {}
        record.update(
            call_id=event.call_id,
            cli=payload.get("cli"),
            destination=to.get("endpoint") if isinstance(to, dict) else None,
            menu_id=menu_result.get("menuId"),
            menu_result_type=menu_result.get("type"),
            menu_result_value=menu_result.get("value"),
            reason=payload.get("reason"),
            result=payload.get("result"),
            duration=payload.get("duration"),
        )
        return event

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
        clients = self.clients
        return DevContext(
            self.cache,
            storage,
            database,
            config,
            assets,
            voice=getattr(clients, "voice", None),
            conversation=getattr(clients, "conversation", None),
            sms=getattr(clients, "sms", None),
            numbers=getattr(clients, "numbers", None),
        )

    async def _invoke(self, handler: Handler, *args: Any) -> Any:
        timeout = self.settings.handler_timeout
        try:
            if handler.is_async:
                async with asyncio.timeout(timeout):  # on this task: no task per call, as wait_for makes
                    return await handler.function(*args)
            return await self._in_thread(handler.function, args, timeout)
        except TimeoutError:
            raise HandlerError(
                f"{handler.label} took longer than {timeout:g} s; Sinch would have dropped the call. "
                "Answer faster, or raise the limit with sn.configure(handler_timeout=...)"
            ) from None
        except Exception as error:
            raise HandlerError(_hint(error, handler), _handler_traceback(error, handler)) from error

    async def _in_thread(self, function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        """Run a sync handler on the handler pool; the loop stays free and the timeout holds.

        Lighter than ``wait_for(run_in_executor(...))``: one future, one timer, no task.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(outcome: Any, failed: bool) -> None:
            if not done.done():
                done.set_exception(outcome) if failed else done.set_result(outcome)

        def run() -> None:
            try:
                result, failed = function(*args), False
            except BaseException as error:
                result, failed = error, True
            loop.call_soon_threadsafe(settle, result, failed)

        self.executor.submit(run)
        timer = loop.call_later(timeout, settle, TimeoutError(), True)
        try:
            return await done
        finally:
            timer.cancel()

    async def _callback(
        self, kind: str, event: VoiceEvent | ConversationEvent, handler: Handler | None, record: dict[str, Any]
    ) -> Response:
        answers_svaml = kind in ("ice", "ace", "pie")
        context = self._context()
        try:
            if handler is None:
                return self._no_handler(kind, record)
            result = await self._invoke(handler, context, event)
            if not answers_svaml:
                return self._informational(kind, result, record)
            answer = self._svaml(kind, result)
            record["warnings"] = validate_answer(kind, answer) or None
        except (HandlerError, ContractError) as error:
            record.update(outcome="fallback" if answers_svaml else "error", error=str(error))
            record["traceback"] = getattr(error, "trace", "") or None
            return self._answer_anyway(record)
        finally:
            record["logs"] = context.log.records or None
        record["outcome"] = "ok"
        return self._svaml_response(answer, record)

    @staticmethod
    def _svaml(kind: str, result: Any) -> dict[str, Any]:
        try:
            return svaml_answer(kind, result)
        except AnswerError as error:
            raise HandlerError(str(error)) from None

    def _svaml_response(self, answer: dict[str, Any], record: dict[str, Any]) -> Response:
        action = answer.get("action") or {}
        record["svaml_action"] = action.get("name")
        record["svaml_instructions"] = [item.get("name") for item in answer.get("instructions", [])] or None
        body = json.dumps(answer)
        record["response_body"] = body
        return Response(body, media_type="application/json")

    def _no_handler(self, kind: str, record: dict[str, Any]) -> Response:
        if kind in ("ice", "pie"):
            record.update(
                outcome="fallback",
                error=f"no {kind.upper()} handler: define one with %%sinch {kind} or @sn.{kind}",
            )
            return self._answer_anyway(record)
        record["outcome"] = "default"
        if kind == "ace":
            return self._svaml_response(DEFAULT_ACE, record)
        return Response(status_code=200)

    @staticmethod
    def _informational(kind: str, result: Any, record: dict[str, Any]) -> Response:
        record["outcome"] = "ok"
        if kind == "conversation" and isinstance(result, dict | list):
            body = json.dumps(result)
            record["response_body"] = body
            return Response(body, media_type="application/json")
        if result is not None:
            record["warnings"] = [f"{kind.upper()} answers are not read by Sinch; sent 200 with an empty body"]
        return Response(status_code=200)

    def _answer_anyway(self, record: dict[str, Any]) -> Response:
        """The caller still gets valid SVAML (ICE/ACE/PIE), or a plain status for the rest."""
        kind = record.get("kind")
        if kind in ("ice", "ace", "pie"):
            return self._svaml_response(self.settings.fallback, record)
        if kind in ("dice", "notify", "conversation"):
            return Response(status_code=200)
        return JSONResponse({"error": "the handler failed; see sn.last_error() in the notebook"}, status_code=500)

    def _reject(
        self, record: dict[str, Any], status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> Response:
        record.update(outcome="rejected", error=message)
        body = json.dumps({"error": message, **extra})
        record["response_body"] = body
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    def _health(self) -> Response:
        handlers = [h.label for h in self.registry.handlers()]
        return JSONResponse({"status": "ok", "handlers": handlers})

    async def _custom(self, request: _Incoming, body: bytes, key: str, record: dict[str, Any]) -> Response:
        handler = self.registry.get(key)
        if handler is None:  # unregistered between routing and here
            raise routing.RouteNotFoundError(request.path, routing.fixed_routes())
        http_request = HttpRequest(
            method=request.method,
            path=request.path,
            query=dict(parse_qsl(request.query, keep_blank_values=True)),
            headers=dict(request.headers),
            body=body,
        )
        context = self._context()
        try:
            result = await self._invoke(handler, context, http_request)
        except HandlerError as error:
            record.update(outcome="error", error=str(error), traceback=error.trace or None)
            return self._answer_anyway(record)
        finally:
            record["logs"] = context.log.records or None
        record["outcome"] = "ok"
        response = _http_response(result)
        record["response_body"] = bytes(response.body).decode("utf-8", errors="replace")
        return response


def _http_response(result: Any) -> Response:
    """A custom endpoint's return value as an HTTP response (Node's ``{statusCode, body}`` too)."""
    status, headers, media_type, body = http_answer(result)
    return Response(body, status_code=status, headers=headers or None, media_type=media_type)
