"""A simulated contact: an inbound Conversation message (MESSAGE_INBOUND), as Sinch posts it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ..functions.origin import simulated
from ..functions.signing import sign_conversation_webhook
from .caller import Transport

__all__ = ["inbound_message"]


def inbound_message(
    text: str | None,
    identity: str,
    channel: str = "SMS",
    app_id: str = "sinch-nb-app",
    *,
    media: str | None = None,
    choice: str | None = None,
    contact_id: str | None = None,
    conversation_id: str | None = None,
) -> dict[str, Any]:
    """The MESSAGE_INBOUND payload a contact's message produces: text, a media URL, or a tapped choice."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if media is not None:
        contact_message: dict[str, Any] = {"media_message": {"url": media}}
    elif choice is not None:
        contact_message = {"choice_response_message": {"message_id": _ulid(), "postback_data": choice}}
    else:
        contact_message = {"text_message": {"text": text or ""}}
    return {
        "app_id": app_id,
        "accepted_time": now,
        "event_time": now,
        "project_id": "sinch-nb-simulator",
        "message": {
            "id": _ulid(),
            "direction": "TO_APP",
            "contact_message": contact_message,
            "channel_identity": {"channel": channel.upper(), "identity": identity, "app_id": app_id},
            "conversation_id": conversation_id or _ulid(),
            "contact_id": contact_id or _ulid(),
            "metadata": "",
            "accept_time": now,
            "processing_mode": "CONVERSATION",
        },
        "message_metadata": "",
        "correlation_id": "",
    }


def _ulid() -> str:
    return uuid.uuid4().hex.upper()[:26]


def send(
    transport: Transport,
    payload: dict[str, Any],
    secret: str | None = None,
    *,
    marker: str = "",
    source: str | None = None,
) -> int:
    """Post ``payload`` to the Conversation webhook (signed when the webhook secret is known)."""
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", **simulated(marker, source)}
    if secret is not None:
        headers.update(sign_conversation_webhook(body, secret))
    return transport("/webhook/conversation", body, headers).status
