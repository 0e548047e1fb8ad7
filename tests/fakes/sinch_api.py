"""A fake of the Sinch APIs sinch_nb calls, built from the documented contracts, checking what it receives.

- Voice application management: ``GET``/``POST /v1/configuration/callbacks/applications/{key}``;
  every request must be application-signed (reference/sinch-wire.md §3.1, §5), else 401.
- OAuth: ``POST /oauth2/token`` with Basic key_id:key_secret and ``grant_type=client_credentials``.
- Conversation webhooks: ``POST /v1/projects/{p}/webhooks``, ``GET /v1/projects/{p}/apps/{a}/webhooks``,
  ``DELETE /v1/projects/{p}/webhooks/{id}``, bearer token required.
- Voice API v2 (reference/sinch-voice-v2.md §7, bearer token required, errors as RFC 9457 problems):
  ``GET``/``PATCH /v2/projects/{p}/services/{id}`` (only the fields sent change; ``isDefault: false``
  and a ``callBehavior`` off its three shapes are refused), ``POST /v2/projects/{p}/calls``
  (``{commands}`` with known commands, ``dial`` destinations and limits checked; 201).
- Functions Operations API (reference/sinch-functions.md §5.2): ``GET …/functions/{id}/status`` and
  ``…/logs/stream``, Server-Sent Events that stay open like the platform's, resume on reconnect, can
  be dropped mid-stream or refused, and carry events added later.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sinch_nb import signing

#: Webhook secrets sinch_nb generated during the run (they must never be written anywhere).
GENERATED_SECRETS: set[str] = set()


class DroppedStreamError(Exception):
    """Raised inside a streaming answer: the server cuts the connection, as a network failure does."""


@dataclass
class FakeSinch:
    application_key: str
    application_secret: str
    project_id: str = "project-1"
    key_id: str = "key-id"
    key_secret: str = "key-secret"
    callbacks: dict[str, str | None] = field(default_factory=lambda: {"primary": None, "fallback": None})
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    callouts: list[dict[str, Any]] = field(default_factory=list)
    call_updates: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: Functions Operations API: status reads per function, and the log events it streams.
    status_reads: dict[str, int] = field(default_factory=dict)
    log_events: list[dict[str, Any]] = field(default_factory=list)
    #: Each log stream connection: the ``Last-Event-ID`` header and ``since`` it asked to resume from.
    log_connections: list[dict[str, str | None]] = field(default_factory=list)
    #: Statuses the next log stream connections get instead of the stream, first first.
    log_failures: list[int] = field(default_factory=list)
    #: How a reconnection resumes: after ``Last-Event-ID`` (else from ``since``), from ``since`` only
    #: (inclusive, so the last event comes again), or ``none`` (from the start, as if it ignored both).
    log_resume: str = "last-event-id"
    #: The next log stream drops abruptly after this many events.
    drop_next_log_stream_after: int | None = None
    _log_generation: int = 0
    _logs_closed: bool = False
    #: Voice API v2: services by id (as GET returns them), every PATCH body, every call created.
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_patches: list[dict[str, Any]] = field(default_factory=list)
    v2_calls: list[dict[str, Any]] = field(default_factory=list)
    #: The next service PATCH is applied but its answer is lost (a 504), as when the kernel dies mid-request.
    lose_next_patch_answer: bool = False

    def add_service(self, service_id: str, call_behavior: dict[str, Any] | None, *, is_default: bool = False) -> None:
        """A service of the project, as ``GET …/services/{id}`` answers it (OAS ``serviceResponse``)."""
        self.services[service_id] = {
            "serviceId": service_id,
            "projectId": self.project_id,
            "createTime": "2026-11-01T10:00:00Z",
            "updateTime": "2026-11-01T10:00:00Z",
            "name": f"service-{service_id[:8]}",
            "description": "",
            "isDefault": is_default,
            **({"callBehavior": call_behavior} if call_behavior is not None else {}),
        }

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/configuration/callbacks/applications/{key}", self.voice_callbacks, methods=["GET", "POST"]),
                Route("/oauth2/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/webhooks", self.create_webhook, methods=["POST"]),
                Route("/v1/projects/{project}/apps/{app}/webhooks", self.list_webhooks, methods=["GET"]),
                Route("/v1/projects/{project}/webhooks/{webhook}", self.delete_webhook, methods=["DELETE"]),
                Route("/calling/v1/callouts", self.callout, methods=["POST"]),
                Route("/v1/projects/{project}/functions/{function}/status", self.function_status, methods=["GET"]),
                Route("/v1/projects/{project}/functions/{function}/logs/stream", self.function_logs, methods=["GET"]),
                Route("/calling/v1/calls/id/{call}", self.update_call, methods=["PATCH"]),
                Route("/v1/projects/{project}/messages:send", self.send_message, methods=["POST"]),
                Route("/v2/projects/{project}/services/{service}", self.voice_service, methods=["GET", "PATCH"]),
                Route("/v2/projects/{project}/calls", self.start_v2_call, methods=["POST"]),
            ]
        )

    # Voice API v2 ---------------------------------------------------------------

    async def voice_service(self, request: Request) -> Response:
        if not self._authorised(request):
            return problem(401, "Unauthorized", "a bearer token from /oauth2/token is required")
        service = self.services.get(request.path_params["service"])
        if request.path_params["project"] != self.project_id or service is None:
            return problem(404, "Not Found", "no such service in this project")
        if request.method == "GET":
            return JSONResponse(service)
        body, refused = await _v2_body(request)
        if refused is not None or body is None:
            return refused or problem(400, "Bad Request", "no body")
        unknown = set(body) - {"name", "description", "isDefault", "callBehavior"}
        if unknown:
            return problem(400, "Bad Request", f"fields that cannot be updated: {sorted(unknown)}")
        if body.get("isDefault") is False:
            return problem(400, "Bad Request", "isDefault can only be set to true")
        if "callBehavior" in body:
            why = behavior_error(body["callBehavior"])
            if why:
                return problem(400, "Bad Request", why)
        self.service_patches.append({"service_id": service["serviceId"], **body})
        service.update(body)
        service["updateTime"] = "2026-12-01T10:00:00Z"
        if self.lose_next_patch_answer:
            self.lose_next_patch_answer = False
            return problem(504, "Gateway Timeout", "the update was applied; its answer was lost")
        return JSONResponse(service)

    async def start_v2_call(self, request: Request) -> Response:
        if not self._authorised(request):
            return problem(401, "Unauthorized", "a bearer token from /oauth2/token is required")
        if request.path_params["project"] != self.project_id:
            return problem(404, "Not Found", "no such project")
        body, refused = await _v2_body(request)
        if refused is not None or body is None:
            return refused or problem(400, "Bad Request", "no body")
        if set(body) - {"commands", "parameters", "batchOptions"}:
            return problem(
                400, "Bad Request", f"unknown fields {sorted(set(body) - {'commands', 'parameters', 'batchOptions'})}"
            )
        commands = body.get("commands")
        why = "commands is required (at least one)" if not commands else commands_error(commands, "commands")
        if why:
            return problem(400, "Bad Request", why)
        service_id = request.query_params.get("serviceId")
        if service_id is not None and service_id not in self.services:
            return problem(404, "Not Found", f"no service {service_id} in this project")
        if service_id is None:
            service_id = next((s for s, v in self.services.items() if v.get("isDefault")), "default-service")
        session_id = uuid.uuid4().hex.upper()[:26]
        self.v2_calls.append(
            {
                "body": body,
                "service_id": service_id,
                "query": dict(request.query_params),
                "idempotency_key": request.headers.get("idempotency-key"),
                "authorization": request.headers.get("authorization"),
                "session_id": session_id,
            }
        )
        answer = {"projectId": self.project_id, "serviceId": service_id, "sessionId": session_id}
        return JSONResponse(answer, status_code=201)

    def _refuse(self, why: str) -> JSONResponse:
        self.refused.append(why)
        return JSONResponse({"error": {"code": 401, "message": why, "status": "UNAUTHENTICATED"}}, status_code=401)

    async def voice_callbacks(self, request: Request) -> Response:
        if request.path_params["key"] != self.application_key:
            return JSONResponse({"errorCode": 40400, "message": "application not found"}, status_code=404)
        if not await self._signed(request):
            return self._refuse("bad application signature")
        if request.method == "GET":
            return JSONResponse({"url": {k: v for k, v in self.callbacks.items() if v is not None}})
        url = (await request.json())["url"]
        self.callbacks = {"primary": url.get("primary"), "fallback": url.get("fallback")}
        return Response(status_code=204)

    async def _signed(self, request: Request) -> bool:
        body = await request.body()
        return signing.verify_voice_callback(
            request.method, request.url.path, request.headers, body, self.application_key, self.application_secret
        )

    async def callout(self, request: Request) -> Response:
        if not await self._signed(request):
            return self._refuse("bad application signature")
        body = await request.json()
        if body.get("method") not in ("ttsCallout", "customCallout", "conferenceCallout") or body["method"] not in body:
            return JSONResponse({"errorCode": 40001, "message": "unknown callout method"}, status_code=400)
        self.callouts.append(body)
        return JSONResponse({"callId": uuid.uuid4().hex})

    async def update_call(self, request: Request) -> Response:
        if not await self._signed(request):
            return self._refuse("bad application signature")
        self.call_updates.append({"call_id": request.path_params["call"], **(await request.json())})
        return Response(status_code=204)

    async def send_message(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse("no bearer token")
        body = await request.json()
        if not body.get("app_id") or not body.get("message") or not body.get("recipient"):
            return JSONResponse(
                {"error": {"code": 400, "message": "app_id, message, recipient required"}}, status_code=400
            )
        self.messages.append(body)
        return JSONResponse({"accepted_time": "2026-12-01T10:00:00Z", "message_id": uuid.uuid4().hex.upper()[:26]})

    async def function_status(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse("no bearer token")
        function = request.path_params["function"]
        reads = self.status_reads[function] = self.status_reads.get(function, 0) + 1
        status = "Building" if reads == 1 else ("Deploying" if reads == 2 else "Running")
        url = f"https://fn-{function.lower()}.functions.sinch.com"
        return JSONResponse({"functionId": function, "status": status, "error": None, "url": url})

    async def function_logs(self, request: Request) -> Response:
        """The live log stream: never ends by itself, as the platform's does; event ``i`` has SSE id ``i + 1``."""
        if not self._authorised(request):
            return self._refuse("no bearer token")
        last_event_id, since = request.headers.get("last-event-id"), request.query_params.get("since")
        self.log_connections.append({"last_event_id": last_event_id, "since": since})
        if self.log_failures:
            status = self.log_failures.pop(0)
            return JSONResponse({"error": {"code": status, "message": f"injected {status}"}}, status_code=status)
        start = self._log_resume_index(last_event_id, since)
        drop_after, self.drop_next_log_stream_after = self.drop_next_log_stream_after, None
        generation = self._log_generation

        async def events() -> AsyncIterator[str]:
            index, sent = start, 0
            while True:
                while index < len(self.log_events):
                    if sent == drop_after:
                        raise DroppedStreamError("dropped mid-stream, as the test asked")
                    index += 1
                    yield f"id: {index}\nevent: log\ndata: {json.dumps(self.log_events[index - 1])}\n\n"
                    sent += 1
                if self._log_generation != generation:
                    raise DroppedStreamError("dropped, as the test asked")
                if self._logs_closed:
                    return
                await asyncio.sleep(0.01)

        return StreamingResponse(events(), media_type="text/event-stream")

    def _log_resume_index(self, last_event_id: str | None, since: str | None) -> int:
        """Where a (re)connection starts in ``log_events``, as ``log_resume`` says the platform resumes."""
        if self.log_resume == "last-event-id" and last_event_id and last_event_id.isdigit():
            return min(int(last_event_id), len(self.log_events))
        if self.log_resume in ("last-event-id", "since") and since:
            stamps = [str(event.get("timestamp", "")) for event in self.log_events]
            return next((i for i, stamp in enumerate(stamps) if stamp >= since), len(stamps))  # since is inclusive
        return 0

    def drop_log_streams(self) -> None:
        """Drop every open log stream abruptly (no end of the chunked body), as a network failure does."""
        self._log_generation += 1

    def close_log_streams(self) -> None:
        """End every log stream for good (teardown: the server then stops without waiting for them)."""
        self._logs_closed = True

    async def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        form = parse_qs((await request.body()).decode())
        if request.headers.get("authorization") != f"Basic {expected}" or form.get("grant_type") != [
            "client_credentials"
        ]:
            return self._refuse("bad client credentials")
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3599, "scope": "", "token_type": "bearer"})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    async def create_webhook(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse("no bearer token")
        body = await request.json()
        missing = [k for k in ("app_id", "target", "triggers") if not body.get(k)]
        if missing or request.path_params["project"] != self.project_id:
            return JSONResponse({"error": {"code": 400, "message": f"missing {missing}"}}, status_code=400)
        webhook = {"id": uuid.uuid4().hex.upper()[:26], "project_id": self.project_id, **body}
        GENERATED_SECRETS.add(str(body.get("secret")))
        self.webhooks[webhook["id"]] = webhook
        return JSONResponse(webhook)

    async def list_webhooks(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse("no bearer token")
        app = request.path_params["app"]
        found = [{k: v for k, v in w.items() if k != "secret"} for w in self.webhooks.values() if w["app_id"] == app]
        return JSONResponse({"webhooks": found})

    async def delete_webhook(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse("no bearer token")
        if self.webhooks.pop(request.path_params["webhook"], None) is None:
            return JSONResponse({"error": {"code": 404}}, status_code=404)
        return JSONResponse({})


# Voice API v2 -----------------------------------------------------------------

V2_COMMANDS = {
    "answer",
    "hangup",
    "dial",
    "messages",
    "stopMessages",
    "pause",
    "webhook",
    "amd",
    "startRecording",
    "stopRecording",
    "bridgeCall",
    "menu",
    "gotoMenu",
}
DIAL_EVENTS = {"onAnswer", "onBusy", "onReject", "onTimeout", "onHangup", "onFailure"}
E164 = re.compile(r"\+?[1-9][0-9]{1,14}")


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """An RFC 9457 problem, as the Voice API v2 answers errors."""
    body = {"type": f"https://developers.sinch.com/errors/{status}", "title": title, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def behavior_error(behavior: Any) -> str | None:
    """Why ``callBehavior`` is not one of its three shapes (WEBHOOK, STATIC, NONE), or None."""
    if not isinstance(behavior, dict):
        return "callBehavior must be an object"
    kind = behavior.get("type")
    allowed = {"WEBHOOK": {"type", "webhook"}, "STATIC": {"type", "static"}, "NONE": {"type"}}
    if kind not in allowed:
        return f"callBehavior.type must be WEBHOOK, STATIC or NONE, not {kind!r}"
    if set(behavior) - allowed[kind]:
        return f"callBehavior of type {kind} takes no {sorted(set(behavior) - allowed[kind])}"
    if kind == "WEBHOOK":
        webhook = behavior.get("webhook")
        if not isinstance(webhook, dict) or not str(webhook.get("url") or "").startswith(("https://", "http://")):
            return "callBehavior.webhook.url is required and must be an absolute URL"
        extra = set(webhook) - {"url", "fallbackUrl"}
        if extra:
            return f"callBehavior.webhook takes url and fallbackUrl only, not {sorted(extra)}"
    if kind == "STATIC":
        static = behavior.get("static")
        if not isinstance(static, dict) or not isinstance(static.get("commands"), list) or not static["commands"]:
            return "callBehavior.static must be SVAML input with commands"
        return commands_error(static["commands"], "callBehavior.static.commands")
    return None


def commands_error(commands: Any, where: str) -> str | None:
    """Why a command list is not SVAML v2 (unknown commands anywhere, dial's fields), or None."""
    if not isinstance(commands, list):
        return f"{where} must be a list of commands"
    for index, command in enumerate(commands):
        at = f"{where}[{index}]"
        if not isinstance(command, dict) or command.get("command") not in V2_COMMANDS:
            return f"{at}: unknown command {command!r}"
        if command["command"] == "dial":
            why = dial_error(command, at)
            if why:
                return why
        for key, value in command.items():  # nested flows: events, menus' matches and onFail
            for nested, path in nested_lists(value, f"{at}.{key}"):
                why = commands_error(nested, path)
                if why:
                    return why
    return None


def nested_lists(value: Any, where: str) -> list[tuple[list[Any], str]]:
    """Lists of command dicts inside ``value``."""
    found: list[tuple[list[Any], str]] = []
    if isinstance(value, list) and value and all(isinstance(v, dict) and "command" in v for v in value):
        found.append((value, where))
    elif isinstance(value, dict):
        for key, inner in value.items():
            found += nested_lists(inner, f"{where}.{key}")
    return found


def party_error(party: Any, where: str, kinds: set[str]) -> str | None:
    if not isinstance(party, dict) or party.get("type") not in kinds:
        return f"{where}.type must be one of {sorted(kinds)}"
    if party["type"] == "PHONE":
        number = str((party.get("phone") or {}).get("number") or "")
        if not (3 <= len(number) <= 16 and E164.fullmatch(number)):
            return f"{where}.phone.number must be E.164, not {number!r}"
    if party["type"] == "SIP" and not str((party.get("sip") or {}).get("endpoint") or "").startswith(("sip:", "sips:")):
        return f"{where}.sip.endpoint must be a sip: or sips: URI"
    return None


def dial_error(dial: dict[str, Any], where: str) -> str | None:
    if "to" not in dial:
        return f"{where}.to is required"
    why = party_error(dial["to"], f"{where}.to", {"PHONE", "SIP", "STREAM", "VOICE_RELAY"})
    if why is None and "from" in dial:
        why = party_error(dial["from"], f"{where}.from", {"PHONE", "SIP"})
    if why:
        return why
    name = dial.get("callName")
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"\S{1,32}", name)):
        return f"{where}.callName must be 1-32 characters without whitespace"
    for key, high in (("dialTimeoutDurationSeconds", 60), ("maxCallDurationSeconds", 14400)):
        value = dial.get(key)
        if value is not None and not (isinstance(value, int) and 1 <= value <= high):
            return f"{where}.{key} must be 1-{high}"
    events = dial.get("events", {})
    if not isinstance(events, dict) or set(events) - DIAL_EVENTS:
        return f"{where}.events takes {sorted(DIAL_EVENTS)} only"
    unknown = set(dial) - {
        "command",
        "to",
        "from",
        "callName",
        "dialTimeoutDurationSeconds",
        "maxCallDurationSeconds",
        "events",
    }
    return f"{where}: unknown fields {sorted(unknown)}" if unknown else None


async def _v2_body(request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
    key = request.headers.get("idempotency-key")
    if key is not None and not 16 <= len(key) <= 128:
        return None, problem(400, "Bad Request", "Idempotency-Key must be 16-128 characters")
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None, problem(415, "Unsupported Media Type", "send application/json")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None, problem(400, "Bad Request", "the body is not JSON")
    if not isinstance(body, dict):
        return None, problem(400, "Bad Request", "the body must be a JSON object")
    return body, None
