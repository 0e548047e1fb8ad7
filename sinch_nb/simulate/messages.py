"""A simulated contact: an inbound Conversation message (MESSAGE_INBOUND), as Sinch posts it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ..contract.signing import sign_conversation_webhook
from ..functions.origin import simulated
from .caller import Transport

__all__ = ["inbound_message"]


def inbound_message(text: str, identity: str, channel: str = "SMS", app_id: str = "sinch-nb-app") -> dict[str, Any]:
    """The MESSAGE_INBOUND payload a contact's text produces."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "app_id": app_id,
        "accepted_time": now,
        "event_time": now,
        "project_id": "sinch-nb-simulator",
        "message": {
            "id": uuid.uuid4().hex.upper()[:26],
            "direction": "TO_APP",
            "contact_message": {"text_message": {"text": text}},
            "channel_identity": {"channel": channel, "identity": identity, "app_id": app_id},
            "conversation_id": uuid.uuid4().hex.upper()[:26],
            "contact_id": uuid.uuid4().hex.upper()[:26],
            "metadata": "",
            "accept_time": now,
            "processing_mode": "CONVERSATION",
        },
        "message_metadata": "",
        "correlation_id": "",
    }


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
