"""Sinch's APIs as the simulated platform serves them: where a handler's clients go on simulated traffic.

For a simulated request the runtime hands the handler ``context.conversation`` and
``context.sms`` as the official ``sinch`` SDK clients, and ``context.voice`` as sinch_nb's
Calling API client, all pointed here (``PREFIX`` on the runtime's own port): the same code
path as production. What the app sends is checked as Sinch checks it (``channels.py``),
journaled (kind ``outbound``), and answered back as Sinch would: ``MESSAGE_DELIVERY`` events
to the webhook, signed when the webhook secret is known. A callout (``context.voice``'s
``tts_callout``, ``custom_callout``, ``conference_callout``) places a simulated outbound call
(``outbound.py``) whose callbacks reach the runtime as any simulated call's. Only loopback
requests with a token (or, for the Calling API, a signature) from this process's own
credentials get in.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..functions.commands import check_answer
from ..functions.errors import SinchNbError
from ..functions.origin import PLATFORM_PREFIX, simulated
from ..functions.signing import sign_conversation_webhook, verify_voice_callback
from ..journal import Journal
from ..journal.record import Record
from .channels import CHANNELS, judge
from .model import PlatformModel
from .outbound import Callout, place, problem
from .transport import http_transport

__all__ = ["PREFIX", "Contact", "LocalPlatform"]

PREFIX = PLATFORM_PREFIX
PROJECT_ID = "sinch-nb-simulator"
APP_ID = "sinch-nb-app"
WEBHOOK_PATH = "/webhook/conversation"
#: C8 *choice*: app messages one contact message may draw before the simulator refuses (a reply loop).
MAX_REPLIES = 10
#: The Voice App simulated requests' ``context.voice`` signs with (its secret is ``LocalPlatform.voice_secret``).
VOICE_KEY = "sinch-nb-simulator"
#: How many callouts' transcripts the platform keeps (the oldest go first).
KEEP_CALLOUTS = 50


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ulid() -> str:
    return uuid.uuid4().hex.upper()[:26]


@dataclass
class Contact:
    """One contact on one channel, as the simulated platform keeps them."""

    channel: str
    identity: str
    contact_id: str = field(default_factory=_ulid)
    conversation_id: str = field(default_factory=_ulid)
    #: When the contact last wrote (the WhatsApp / Messenger window, C4).
    last_inbound: float | None = None
    #: App messages since the contact last wrote (the reply-loop guard, C8).
    replies: int = 0


class LocalPlatform:
    """The simulated Conversation, SMS and Calling APIs, mounted on the runtime at ``PREFIX``."""

    def __init__(self, journal: Journal, runtime_url: Callable[[], str], marker: str) -> None:
        self.journal = journal
        self.runtime_url = runtime_url
        self.marker = marker
        self.key_id, self.key_secret = "sinch-nb-simulator", secrets.token_urlsafe(24)
        #: The simulated Voice App's secret (base64, as Sinch's are): what callouts are signed with.
        self.voice_secret = base64.b64encode(secrets.token_bytes(16)).decode()
        #: The webhook secret deliveries are signed with (the runtime's, when it has one).
        self.webhook_secret: Callable[[], str | None] = lambda: None
        #: How a callout's callbacks reach the runtime: the key and secret they are signed with (the runtime's
        #: own, so a runtime that checks signatures accepts them), the marker, the source (``simulator_options``).
        self.callback_options: Callable[[], dict[str, Any]] = lambda: {
            "application_key": VOICE_KEY,
            "application_secret": None,
            "marker": self.marker,
        }
        #: The simulated platform's rules (the session's ``sn.simulation()``).
        self.model: Callable[[], PlatformModel] = PlatformModel
        #: The last callouts placed, oldest first: each with the transcript of its call (R17–R20).
        self.callouts: deque[Callout] = deque(maxlen=KEEP_CALLOUTS)
        #: The transcripts of the Voice API v2 calls the app placed (``context.voice.call``), newest last.
        self.calls_v2: deque[Any] = deque(maxlen=KEEP_CALLOUTS)
        self._callout_times: deque[float] = deque()
        self.contacts: dict[tuple[str, str], Contact] = {}
        self._tokens: set[str] = set()
        self._busy = 0
        self._quiet = threading.Condition()
        self.app = Starlette(
            routes=[
                Route("/oauth2/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.send_message, methods=["POST"]),
                Route("/xms/v1/{project}/batches", self.send_batch, methods=["POST"]),
                Route("/calling/v1/callouts", self.callout, methods=["POST"]),
                Route("/v2/projects/{project}/calls", self.start_call, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope = {**scope, "path": scope["path"][len(PREFIX) :] or "/", "root_path": PREFIX}
        await self.app(scope, receive, send)

    # State ----------------------------------------------------------------

    def contact(self, channel: str, identity: str) -> Contact:
        """The contact ``identity`` on ``channel`` (made on first sight)."""
        key = (channel.upper(), identity)
        if key not in self.contacts:
            self.contacts[key] = Contact(channel.upper(), identity)
        return self.contacts[key]

    def wrote(self, channel: str, identity: str, when: float | None = None) -> Contact:
        """The contact just wrote: the sending window opens again (C4) and the reply count restarts (C8)."""
        contact = self.contact(channel, identity)
        contact.last_inbound, contact.replies = (when if when is not None else time.time()), 0
        return contact

    def wait_quiet(self, timeout: float = 30.0) -> bool:
        """Block until every delivery in flight has been posted and answered; False on timeout."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._busy == 0, timeout)

    def _started(self) -> None:
        with self._quiet:
            self._busy += 1

    def _done(self) -> None:
        with self._quiet:
            self._busy -= 1
            self._quiet.notify_all()

    # Auth -----------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """OAuth 2.0 client credentials, as auth.sinch.com: Basic key_id:key_secret."""
        expected = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        form = parse_qs((await request.body()).decode())
        if request.headers.get("authorization") != f"Basic {expected}" or form.get("grant_type") != [
            "client_credentials"
        ]:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_hex(16)
        self._tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3599, "scope": "", "token_type": "bearer"})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in self._tokens

    # Conversation API -----------------------------------------------------

    async def send_message(self, request: Request) -> Response:
        """``POST /v1/projects/{project}/messages:send``: check, journal, accept, then deliver (C1–C8)."""
        raw, body, refused = await self._json(request)
        if refused is not None:
            return refused
        recipient = (body.get("recipient") or {}).get("identified_by", {}).get("channel_identities") or []
        if not body.get("app_id") or not isinstance(body.get("message"), dict) or not recipient:
            why = "app_id, message and recipient.identified_by.channel_identities are required"
            return self._refused(raw, why)
        target = recipient[0]
        channel, identity = str(target.get("channel", "")).upper(), str(target.get("identity", ""))
        if channel not in CHANNELS:
            return self._refused(raw, f"channel {channel or '(none)'} is not simulated; use {', '.join(CHANNELS)}")
        contact = self.contact(channel, identity)
        contact.replies += 1
        if contact.replies > MAX_REPLIES:
            why = (
                f"sinch_nb: {MAX_REPLIES} app messages already answered this contact's last message; a handler "
                "that replies to its own delivery reports loops: check event.trigger == 'MESSAGE_INBOUND'"
            )
            return self._refused(raw, why, code="FAILED_PRECONDITION", contact=contact)  # not 429: SDKs retry those
        hours = None if contact.last_inbound is None else (time.time() - contact.last_inbound) / 3600
        verdict = judge(channel, body["message"], hours)
        if verdict.kind == "?":  # C1: malformed, refused before it is queued
            return self._refused(raw, verdict.failed[1] if verdict.failed else "bad message", contact=contact)
        message_id, accepted = _ulid(), _now()
        self._journal(raw, 200, json.dumps({"message_id": message_id, "accepted_time": accepted}), contact, verdict)
        self._started()
        asyncio.get_running_loop().create_task(self._deliver(body, contact, message_id, verdict))
        return JSONResponse({"message_id": message_id, "accepted_time": accepted})

    # Calling API ------------------------------------------------------------

    async def callout(self, request: Request) -> Response:
        """``POST /calling/v1/callouts``: application-signed; ``{"callId"}`` at once, then the call (R17–R20)."""
        raw = await request.body()
        path = request.scope["path"]  # as Sinch sees it: the Calling API's own path, signed by the client
        if not verify_voice_callback("POST", path, request.headers, raw, VOICE_KEY, self.voice_secret):
            why = "the request is not signed by the simulated Voice App (Authorization: Application key:signature)"
            return JSONResponse({"errorCode": 40100, "message": why}, status_code=401)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        refused = problem(body)
        if refused is not None:
            return JSONResponse({"errorCode": 40001, "message": refused}, status_code=400)
        model, now = self.model(), time.monotonic()
        while self._callout_times and now - self._callout_times[0] > model.callout_window_s:
            self._callout_times.popleft()
        if len(self._callout_times) >= model.callout_limit:  # R20
            why = (
                f"sinch_nb: {model.callout_limit} callouts in {model.callout_window_s:g} s already; a handler that "
                "places a callout from its own callbacks loops (sn.simulation(callout_limit=...) moves the limit)"
            )
            return JSONResponse({"errorCode": 42900, "message": why}, status_code=429)
        self._callout_times.append(now)
        callout = Callout.of(uuid.uuid4().hex, body)
        self.callouts.append(callout)
        self._started()
        threading.Thread(target=self._place, args=(callout,), name=f"callout {callout.call_id}", daemon=True).start()
        return JSONResponse({"callId": callout.call_id})

    def _place(self, callout: Callout) -> None:
        """The callout's call, through the runtime (its callbacks are journaled as any simulated call's)."""
        try:
            with httpx.Client(base_url=self.runtime_url(), timeout=60) as client:
                place(callout, http_transport(client), model=self.model(), **self.callback_options())
        except httpx.HTTPError as error:  # the runtime stopped: the call goes nowhere, as it would on the platform
            self._stopped(callout, f"the runtime stopped answering: {error}")
        except Exception as error:  # a simulator fault must not pass unseen: it is the transcript's last row
            self._stopped(callout, f"sinch_nb internal error: {error!r}")
        finally:
            callout.done = True
            self._done()

    @staticmethod
    def _stopped(callout: Callout, why: str) -> None:
        steps = callout.transcript.steps
        callout.transcript.add(steps[-1].at if steps else 0.0, "callout", "sinch_nb", "error", why)
        callout.transcript.outcome += " → stopped"

    # Voice API v2 -----------------------------------------------------------

    async def start_call(self, request: Request) -> Response:
        """``POST /v2/projects/{project}/calls``: OAuth; 201 with the session at once, then the call (V10)."""
        if not self._authorised(request):
            return _problem(401, "Unauthorized", "a bearer token from /oauth2/token is required")
        try:
            body = json.loads(await request.body())
            commands = list(body["commands"])
            check_answer({"commands": commands})
        except (ValueError, KeyError, TypeError, SinchNbError) as error:
            return _problem(400, "Bad Request", f"{{commands: [...]}} with a dial first: {error}")
        if not commands or commands[0].get("command") != "dial":
            return _problem(400, "Bad Request", "the first command of a call is the dial that places it")
        service = request.query_params.get("serviceId") or "sinch-nb-simulator"
        session_id = _ulid()
        self._started()
        threading.Thread(target=self._call_v2, args=(commands,), name=f"v2 call {session_id}", daemon=True).start()
        return JSONResponse({"projectId": PROJECT_ID, "serviceId": service, "sessionId": session_id}, status_code=201)

    def _call_v2(self, commands: list[dict[str, Any]]) -> None:
        """An outbound v2 call through the runtime: the dial's callee answers (or not) and its events run (V10)."""
        from .v2_call import CallV2

        options = self.callback_options()
        try:
            to = commands[0].get("to") or {}
            number = (to.get("phone") or {}).get("number") or (to.get("sip") or {}).get("endpoint") or "?"
            with httpx.Client(base_url=self.runtime_url(), timeout=60) as client:
                call = CallV2(
                    http_transport(client),
                    "+15550000000",
                    str(number),
                    marker=str(options.get("marker", "")),
                    source=options.get("source"),
                    service_id=str(options.get("service_id") or "sinch-nb-simulator"),
                    service_secret=options.get("service_secret"),
                    callee=self.model().callout_callee,
                    model=self.model(),
                    person="callee",
                )
                call.place(commands)
                while call.state == "menu":
                    call.wait()
                call.hang_up()
                self.calls_v2.append(call.transcript)
        except httpx.HTTPError:  # the runtime stopped: the call goes nowhere, as it would on the platform
            return
        finally:
            self._done()

    # SMS API ----------------------------------------------------------------

    async def send_batch(self, request: Request) -> Response:
        """``POST /xms/v1/{project}/batches``: an SMS to each of ``to`` (C5 segments noted), journaled, answered."""
        raw, body, refused = await self._json(request)
        if refused is not None:
            return refused
        to, text = body.get("to"), body.get("body")
        if not isinstance(to, list) or not to or not isinstance(text, str):
            return self._refused(raw, "to (a list of numbers) and body are required")
        batch_id, now = _ulid(), _now()
        answer = {"id": batch_id, "to": to, "from": body.get("from", ""), "canceled": False, "body": text}
        answer |= {"type": "mt_text", "created_at": now, "modified_at": now}
        for number in to:
            contact = self.contact("SMS", str(number))
            verdict = judge("SMS", {"text_message": {"text": text}}, None)
            self._journal(raw, 201, json.dumps(answer), contact, verdict, path=f"/xms/v1/{PROJECT_ID}/batches")
        return JSONResponse(answer, status_code=201)

    async def _json(self, request: Request) -> tuple[bytes, Any, Response | None]:
        """The body of an authorised request as JSON, or the refusal to send (401 without a token, 400 not JSON)."""
        if not self._authorised(request):
            return b"", None, _error(401, "UNAUTHENTICATED", "a bearer token from /oauth2/token is required")
        raw = await request.body()
        try:
            return raw, json.loads(raw), None
        except ValueError:
            return raw, None, self._refused(raw, "the body is not JSON")

    def _refused(
        self, raw: bytes, why: str, *, status: int = 400, code: str = "INVALID_ARGUMENT", contact: Contact | None = None
    ) -> Response:
        self._journal(raw, status, json.dumps({"error": {"code": status, "message": why, "status": code}}), contact)
        return _error(status, code, why)

    def _journal(
        self,
        raw: bytes,
        status: int,
        answer: str,
        contact: Contact | None,
        verdict: Any = None,
        path: str = f"/v1/projects/{PROJECT_ID}/messages:send",
    ) -> None:
        """The app's message as a journal row: kind ``outbound``, the contact as ``cli``, the channel as destination."""
        failed = verdict.failed if verdict is not None and status < 300 else None
        ok = status < 300
        self.journal.append(
            Record(
                time=time.time(),
                method="POST",
                path=PREFIX + path,
                kind="outbound",
                trigger="APP_MESSAGE",
                request_body=raw.decode("utf-8", errors="replace"),
                response_body=answer,
                status=status,
                simulated=1,
                cli=contact.identity if contact else None,
                destination=contact.channel if contact else None,
                call_id=contact.conversation_id if contact else None,
                svaml_action=verdict.kind if verdict is not None else None,
                outcome="accepted" if ok else "rejected",
                error=None if ok else json.loads(answer)["error"]["message"],
                warnings=[w for w in (verdict.note if verdict else "", failed[1] if failed else "") if w] or None,
            ),
            durable=True,
        )

    async def _deliver(self, body: dict[str, Any], contact: Contact, message_id: str, verdict: Any) -> None:
        """C3: QUEUED_ON_CHANNEL, then DELIVERED and READ (where the channel reports it), or FAILED with its reason."""
        try:
            statuses: list[tuple[str, tuple[str, str] | None]] = [("QUEUED_ON_CHANNEL", None)]
            if verdict.failed is not None:
                statuses.append(("FAILED", verdict.failed))
            else:
                statuses.append(("DELIVERED", None))
                if CHANNELS[contact.channel].reports_read:
                    statuses.append(("READ", None))
            async with httpx.AsyncClient(base_url=self.runtime_url(), timeout=30) as client:
                for status, reason in statuses:
                    await self._post(client, _delivery(body, contact, message_id, status, reason))
        finally:
            self._done()

    async def _post(self, client: httpx.AsyncClient, event: dict[str, Any]) -> None:
        payload = json.dumps(event).encode()
        headers = {"content-type": "application/json", **simulated(self.marker)}
        secret = self.webhook_secret()
        if secret is not None:
            headers.update(sign_conversation_webhook(payload, secret))
        try:
            await client.post(WEBHOOK_PATH, content=payload, headers=headers)
        except httpx.HTTPError:  # the runtime stopped: the delivery goes nowhere, as it would on the platform
            return


def _delivery(
    body: dict[str, Any], contact: Contact, message_id: str, status: str, reason: tuple[str, str] | None
) -> dict[str, Any]:
    """A MESSAGE_DELIVERY webhook as Sinch posts it (sinch-wire.md §4)."""
    report: dict[str, Any] = {
        "message_id": message_id,
        "conversation_id": contact.conversation_id,
        "status": status,
        "channel_identity": {"channel": contact.channel, "identity": contact.identity, "app_id": body["app_id"]},
        "contact_id": contact.contact_id,
        "metadata": body.get("message_metadata", ""),
        "processing_mode": "CONVERSATION",
    }
    if reason is not None:
        report["reason"] = {"code": reason[0], "description": reason[1], "sub_code": "UNSPECIFIED_SUB_CODE"}
    now = _now()
    return {
        "app_id": body["app_id"],
        "accepted_time": now,
        "event_time": now,
        "project_id": PROJECT_ID,
        "message_delivery_report": report,
        "message_metadata": body.get("message_metadata", ""),
        "correlation_id": body.get("correlation_id", ""),
    }


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    """An error as the Voice API v2 writes it (RFC 9457 problem details)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _error(status: int, code: str, message: str) -> JSONResponse:
    """An error body as the Conversation API writes it."""
    return JSONResponse({"error": {"code": status, "message": message, "status": code}}, status_code=status)
