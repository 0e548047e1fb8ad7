"""``context.conversation`` and ``context.sms`` in the deployed Function: the ``sinch`` SDK's calls, stdlib only.

In the notebook these are the official ``sinch`` SDK (2.3.0) clients; it needs pydantic and
sockets, neither of which the Function's Pyodide has. These classes take the same method names
and keyword arguments as the SDK calls a handler makes, send the same JSON (tested against the
SDK's own requests), and return light objects with the SDK models' attribute names:

- ``conversation.messages.send(app_id, message, ...)`` and ``send_text_message(app_id, text, ...)``,
  ``send_card_message``, ``send_carousel_message``, ``send_choice_message``,
  ``send_contact_info_message``, ``send_list_message``, ``send_location_message``,
  ``send_media_message``, ``send_template_message`` → ``SendMessageResponse`` (``message_id``,
  ``accepted_time`` as a ``datetime``);
- ``sms.batches.send(**fields)`` (or ``send(request={...})``), ``send_sms(to, from_, body, ...)``,
  ``get(batch_id)``, ``cancel(batch_id)`` → ``BatchResponse`` (``id``, ``to``, ``from_``, ``body``,
  ``type``, ``canceled``, ``created_at``, ``modified_at``, ``send_at``, ``expire_at`` … as the SDK's
  ``TextResponse`` names them).

Each object also has ``raw``: the answer's JSON as Sinch sent it. A refused request raises
``PlatformError`` naming the call, the status and the fix (the SDK raises its own exceptions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .rest import TokenSource, Transport, send_json

__all__ = ["BatchResponse", "Batches", "ConversationClient", "Messages", "SendMessageResponse", "SmsClient"]

#: The fields of a message body (SDK ``SendMessageRequestBody``): a keyword argument named so goes in ``message``.
MESSAGE_FIELDS = frozenset(
    {
        "text_message",
        "card_message",
        "carousel_message",
        "choice_message",
        "contact_info_message",
        "list_message",
        "location_message",
        "media_message",
        "template_message",
    }
)
#: Python keyword → wire name, where the SDK renames (its pydantic aliases).
_WIRE_NAMES = {"event_destination_target": "callback_url", "from_": "from"}


def _datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as Sinch writes it (``…Z``, any fraction) as a ``datetime``; None if absent or not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _wire(value: Any) -> Any:
    """A keyword argument's value as the SDK serialises it: no ``None`` fields, datetimes in ISO 8601 (UTC as ``Z``)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments as wire fields: renamed as the SDK renames them, ``None`` left out."""
    return {_WIRE_NAMES.get(name, name): _wire(value) for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class SendMessageResponse:
    """What ``messages:send`` answered: ``message_id`` and ``accepted_time``, as the SDK's model names them."""

    message_id: str
    accepted_time: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> SendMessageResponse:
        """From the answer's JSON."""
        return cls(str(answer.get("message_id", "")), _datetime(answer.get("accepted_time")), dict(answer))


@dataclass(frozen=True)
class BatchResponse:
    """An SMS batch as the SMS API answers it, with the SDK's ``TextResponse`` attribute names (``from_``, …)."""

    id: str
    to: list[str]
    from_: str | None
    body: Any
    type: str | None
    canceled: bool | None
    created_at: datetime | None
    modified_at: datetime | None
    send_at: datetime | None
    expire_at: datetime | None
    delivery_report: str | None
    event_destination_target: str | None
    client_reference: str | None
    parameters: dict[str, Any] | None
    feedback_enabled: bool | None
    flash_message: bool | None
    truncate_concat: bool | None
    max_number_of_message_parts: int | None
    from_ton: int | None
    from_npi: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> BatchResponse:
        """From the answer's JSON."""
        a = answer.get
        return cls(
            id=str(a("id", "")),
            to=list(a("to") or []),
            from_=a("from"),
            body=a("body"),
            type=a("type"),
            canceled=a("canceled"),
            created_at=_datetime(a("created_at")),
            modified_at=_datetime(a("modified_at")),
            send_at=_datetime(a("send_at")),
            expire_at=_datetime(a("expire_at")),
            delivery_report=a("delivery_report"),
            event_destination_target=a("callback_url"),
            client_reference=a("client_reference"),
            parameters=a("parameters"),
            feedback_enabled=a("feedback_enabled"),
            flash_message=a("flash_message"),
            truncate_concat=a("truncate_concat"),
            max_number_of_message_parts=a("max_number_of_message_parts"),
            from_ton=a("from_ton"),
            from_npi=a("from_npi"),
            raw=dict(answer),
        )


def _recipient(contact_id: str | None, recipient_identities: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """``contact_id`` or ``recipient_identities`` (exactly one, as the SDK insists) as the request's ``recipient``."""
    if contact_id is not None and recipient_identities is not None:
        raise ValueError("Cannot specify both 'contact_id' and 'recipient_identities'. Provide exactly one.")
    if contact_id is not None:
        return {"contact_id": contact_id}
    if recipient_identities is None:
        raise ValueError("Must provide either 'contact_id' or 'recipient_identities'.")
    return {"identified_by": {"channel_identities": [_wire(identity) for identity in recipient_identities]}}


class Messages:
    """``context.conversation.messages``: ``POST /v1/projects/{projectId}/messages:send``, as the SDK sends it."""

    def __init__(self, conversation: ConversationClient) -> None:
        self._conversation = conversation

    def send(
        self,
        app_id: str,
        message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send ``message`` (``{"text_message": {...}}``, ``{"choice_message": {...}}`` …) to a contact.

        ``options`` are the SDK's: ``ttl`` (seconds, or ``"10s"``), ``event_destination_target``,
        ``channel_priority_order``, ``channel_properties``, ``message_metadata``,
        ``conversation_metadata``, ``queue``, ``processing_strategy``, ``correlation_id``,
        ``conversation_metadata_update_strategy``, ``message_content_type``; a message field
        (``card_message=...``) joins ``message``, anything else is sent on the request as given.
        """
        body = {**_wire(message), **_fields({k: v for k, v in options.items() if k in MESSAGE_FIELDS})}
        request = {k: v for k, v in options.items() if k not in MESSAGE_FIELDS}
        return self._conversation.send_message(app_id, _recipient(contact_id, recipient_identities), body, request)

    def _variant(
        self,
        app_id: str,
        kind: str,
        content: Mapping[str, Any],
        contact_id: str | None,
        recipient_identities: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
    ) -> SendMessageResponse:
        return self.send(app_id, {kind: content}, contact_id, recipient_identities, **options)

    def send_text_message(
        self,
        app_id: str,
        text: str,
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send ``text`` to a contact (``contact_id``) or to channel identities; ``options`` as ``send``'s."""
        return self._variant(app_id, "text_message", {"text": text}, contact_id, recipient_identities, options)

    def send_card_message(
        self,
        app_id: str,
        card_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send a card (``{"title": ..., "description": ..., "choices": [...]}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "card_message", card_message, contact_id, recipient_identities, options)

    def send_carousel_message(
        self,
        app_id: str,
        carousel_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send a carousel (``{"cards": [...]}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "carousel_message", carousel_message, contact_id, recipient_identities, options)

    def send_choice_message(
        self,
        app_id: str,
        choice_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send choices (``{"text_message": {...}, "choices": [...]}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "choice_message", choice_message, contact_id, recipient_identities, options)

    def send_contact_info_message(
        self,
        app_id: str,
        contact_info_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send contact details (``{"name": {...}, "phone_numbers": [...]}``); ``options`` as ``send``'s."""
        content = contact_info_message
        return self._variant(app_id, "contact_info_message", content, contact_id, recipient_identities, options)

    def send_list_message(
        self,
        app_id: str,
        list_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send a list (``{"title": ..., "sections": [...]}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "list_message", list_message, contact_id, recipient_identities, options)

    def send_location_message(
        self,
        app_id: str,
        location_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send a location (``{"coordinates": {...}, "title": ...}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "location_message", location_message, contact_id, recipient_identities, options)

    def send_media_message(
        self,
        app_id: str,
        media_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send media (``{"url": ...}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "media_message", media_message, contact_id, recipient_identities, options)

    def send_template_message(
        self,
        app_id: str,
        template_message: Mapping[str, Any],
        contact_id: str | None = None,
        recipient_identities: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> SendMessageResponse:
        """Send a template (``{"omni_template": {...}}``); ``options`` as ``send``'s."""
        return self._variant(app_id, "template_message", template_message, contact_id, recipient_identities, options)


class ConversationClient:
    """``context.conversation`` in the Function: the Conversation API at ``base_url`` with the project's token."""

    def __init__(self, base_url: str, project_id: str, tokens: TokenSource, transport: Transport) -> None:
        self.base_url, self.project_id, self.tokens, self.transport = base_url, project_id, tokens, transport
        self.messages = Messages(self)

    def __repr__(self) -> str:
        return f"<context.conversation: Conversation API {self.base_url} project {self.project_id}>"

    def send_message(
        self, app_id: str, recipient: dict[str, Any], message: dict[str, Any], options: Mapping[str, Any]
    ) -> SendMessageResponse:
        """``POST messages:send`` with the request's fields in the SDK's order; the answer, read."""
        ttl = options.get("ttl")
        if isinstance(ttl, int | str) and not isinstance(ttl, bool) and not str(ttl).endswith("s"):
            options = {**options, "ttl": f"{ttl}s"}  # the SDK's serialiser: seconds with an "s"
        request = {"app_id": app_id, "recipient": recipient, "message": message, **_fields(options)}
        url = f"{self.base_url}/v1/projects/{quote(self.project_id, safe='')}/messages:send"
        what = "sending a Conversation message (POST /v1/projects/{projectId}/messages:send)"
        answer = send_json(self.transport, "POST", url, self.tokens.headers(), request, what)
        return SendMessageResponse.of(answer or {})


class Batches:
    """``context.sms.batches``: ``/xms/v1/{projectId}/batches``, as the SDK sends it (project OAuth, ``zt.`` hosts)."""

    def __init__(self, sms: SmsClient) -> None:
        self._sms = sms

    def send(self, request: Mapping[str, Any] | None = None, **fields: Any) -> BatchResponse:
        """Send a batch: ``to`` (a list of numbers), ``body`` and the SMS API's other fields (``from_`` or ``from``).

        The type is ``mt_text`` unless given (``mt_binary`` with ``udh``, ``mt_media`` for a body dict).
        """
        values = _fields({**(request or {}), **fields})
        to, body = values.get("to"), values.get("body")
        if not (isinstance(to, list) and to and all(isinstance(number, str) for number in to)) or body is None:
            raise ValueError(
                "context.sms.batches.send: to (a list of numbers, e.g. ['+15551234567']) and body are required"
            )
        if "type" not in values:
            values["type"] = "mt_binary" if "udh" in values else "mt_media" if isinstance(body, dict) else "mt_text"
        return self._sms.request("POST", "", values, "sending an SMS batch (POST /xms/v1/{projectId}/batches)")

    def send_sms(self, to: list[str], from_: str, body: str, **fields: Any) -> BatchResponse:
        """Send ``body`` to each of ``to`` from ``from_``; ``fields`` as the SDK's (``delivery_report`` …)."""
        return self.send(to=to, from_=from_, body=body, **fields)

    def get(self, batch_id: str) -> BatchResponse:
        """The batch ``batch_id``."""
        return self._sms.request("GET", f"/{quote(batch_id, safe='')}", None, f"reading SMS batch {batch_id}")

    def cancel(self, batch_id: str) -> BatchResponse:
        """Cancel the batch ``batch_id`` (messages already on their way may still arrive)."""
        return self._sms.request("DELETE", f"/{quote(batch_id, safe='')}", None, f"cancelling SMS batch {batch_id}")


class SmsClient:
    """``context.sms`` in the Function: the SMS API at ``base_url`` with the project's token."""

    def __init__(self, base_url: str, project_id: str, tokens: TokenSource, transport: Transport) -> None:
        self.base_url, self.project_id, self.tokens, self.transport = base_url, project_id, tokens, transport
        self.batches = Batches(self)

    def __repr__(self) -> str:
        return f"<context.sms: SMS API {self.base_url} project {self.project_id}>"

    def request(self, method: str, path: str, payload: dict[str, Any] | None, what: str) -> BatchResponse:
        """``method`` on ``/xms/v1/{projectId}/batches{path}``; the answer as a ``BatchResponse``."""
        url = f"{self.base_url}/xms/v1/{quote(self.project_id, safe='')}/batches{path}"
        answer = send_json(self.transport, method, url, self.tokens.headers(), payload, what)
        return BatchResponse.of(answer or {})
