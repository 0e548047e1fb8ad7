"""A fake of the Sinch APIs sinch_nb calls, built from the documented contracts, checking what it receives.

- Voice application management: ``GET``/``POST /v1/configuration/callbacks/applications/{key}``;
  every request must be application-signed (reference/sinch-wire.md §3.1, §5), else 401.
- OAuth: ``POST /oauth2/token`` with Basic key_id:key_secret and ``grant_type=client_credentials``.
- Conversation webhooks: ``POST /v1/projects/{p}/webhooks``, ``GET /v1/projects/{p}/apps/{a}/webhooks``,
  ``DELETE /v1/projects/{p}/webhooks/{id}``, bearer token required.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sinch_nb import signing

#: Webhook secrets sinch_nb generated during the run (they must never be written anywhere).
GENERATED_SECRETS: set[str] = set()


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
            ]
        )

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
        if not self._authorised(request):
            return self._refuse("no bearer token")
        lines = "".join(f"event: log\ndata: {json.dumps(event)}\n\n" for event in self.log_events)
        return Response(lines, media_type="text/event-stream")

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
