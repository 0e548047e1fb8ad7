"""The pipeline's checks before a handler runs: signature, JSON, callback kind, wire contract.

Each returns what it found or raises a ``RefusedError`` naming the fix.
"""

from __future__ import annotations

from typing import Any

from ..contract import ContractError, validate_callback
from ..functions import payloads, signing
from ..functions.events import ConversationEvent, VoiceEvent, parse_event
from ..journal.record import Record
from .incoming import Incoming
from .refused import RefusedError
from .settings import Settings

__all__ = ["callback_kind", "check_signature", "parse_callback", "parse_json"]


#: Per kind of signed request: what must be signed, the secret's name, and where to look when it does not match.
_V1_CHECK = "VOICE_APPLICATION_KEY / VOICE_APPLICATION_SECRET (or the webhook secret)"
_SIGNED = {
    "conversation": ("callbacks", "webhook", _V1_CHECK),
    "voice": ("callbacks", "Voice App", _V1_CHECK),
    "call": (
        "call.* webhooks ('Authorization: service <id>:<signature>', checked with VOICE_SERVICE_SECRET)",
        "Voice service",
        "VOICE_SERVICE_ID / VOICE_SERVICE_SECRET",
    ),
}


def check_signature(settings: Settings, incoming: Incoming, kind: str, body: bytes) -> str:
    """``valid``, ``unsigned`` (accepted: no secret, or insecure) or ``unchecked``; refuses the rest.

    ``kind`` is ``conversation``, ``call`` (a Voice API v2 webhook) or any voice route (v1).
    """
    headers = incoming.headers
    if kind == "conversation":
        secret, signed = settings.conversation_secret, "x-sinch-webhook-signature" in headers
    elif kind == "call":
        secret, signed = settings.voice_service_secret, headers.get("authorization", "").startswith("service ")
    else:
        secret, signed, kind = settings.application_secret, "authorization" in headers, "voice"
    what, name, check = _SIGNED[kind]
    if secret is None:
        return "unchecked"
    if not signed:
        if settings.insecure:
            return "unsigned"
        raise RefusedError(
            401,
            f"unsigned callback refused: the {name} secret is set, so {what} must be signed "
            "(start with --insecure to accept unsigned ones while testing)",
            signature="unsigned",
        )
    if kind == "conversation":
        valid = signing.verify_conversation_webhook(headers, body, secret.reveal())
    elif kind == "call":
        service = settings.voice_service_id or ""
        valid = signing.verify_voice_v2_callback(
            incoming.method, incoming.path, headers, body, service, secret.reveal()
        )
    else:
        valid = signing.verify_voice_callback(
            incoming.method, incoming.path, headers, body, settings.application_key or "", secret.reveal()
        )
    if not valid:
        raise RefusedError(
            401,
            f"invalid signature refused: it does not match the {name} key and secret this runtime has; check {check}",
            signature="invalid",
        )
    return "valid"


def parse_json(body: bytes) -> Any:
    """The body as JSON (``payloads.read_json``), refused with its 400 when it is not."""
    try:
        return payloads.read_json(body)
    except payloads.MalformedCallbackError as error:
        raise RefusedError(error.status, str(error)) from None


def callback_kind(route: str, payload: Any) -> str:
    """The handler kind (``payloads.callback_kind``), refused with its 400 when the body names none."""
    try:
        return payloads.callback_kind(route, payload)
    except payloads.MalformedCallbackError as error:
        raise RefusedError(error.status, str(error)) from None


def parse_callback(kind: str, payload: dict[str, Any], record: Record) -> VoiceEvent | ConversationEvent:
    """The handler's ``event``, after the wire contract; what it says of the call goes on ``record``."""
    try:
        validate_callback(kind, payload)
    except ContractError as error:
        raise RefusedError(400, str(error)) from None
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
