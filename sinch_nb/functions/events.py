"""Event views: a callback's JSON read with snake_case attributes.

``event.call_id``, ``event.cli``, ``event.to.endpoint``, ``event.menu_result.value``:
each view keeps the raw dict (``event.raw``), reads unknown keys too
(``event.some_new_field`` finds ``someNewField``), and answers None for a documented
field the payload left out. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from .errors import EventError

__all__ = [
    "AceEvent",
    "ConversationEvent",
    "DiceEvent",
    "EventError",
    "IceEvent",
    "NotifyEvent",
    "PieEvent",
    "View",
    "VoiceEvent",
    "conversation_trigger",
    "parse_event",
]


_WORD = re.compile(r"_([a-z0-9])")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_PYTHON_NAMES = {"from_": "from", "type_": "type", "call_id": "callid"}


def _wire_name(attribute: str) -> str:
    attribute = _PYTHON_NAMES.get(attribute, attribute)
    return _WORD.sub(lambda m: m.group(1).upper(), attribute)


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def _wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return View(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class View:
    """Read-only attribute access over a JSON object."""

    #: Wire keys documented for this payload: absent ones read as None.
    FIELDS: ClassVar[frozenset[str]] = frozenset()

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        object.__setattr__(self, "raw", raw)

    def _find(self, wire: str) -> tuple[bool, Any]:
        if wire in self.raw:
            return True, self.raw[wire]
        lowered = wire.lower()
        for key, value in self.raw.items():
            if key.lower() == lowered or key.lower().replace("_", "") == lowered.replace("_", ""):
                return True, value
        return False, None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        for wire in (_wire_name(attribute), attribute):
            found, value = self._find(wire)
            if found:
                return _wrap(value)
        if _wire_name(attribute) in self.FIELDS:
            return None
        known = ", ".join(sorted(self._attributes()))
        raise AttributeError(f"{type(self).__name__} has no field {attribute!r}; it has: {known}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; copy .raw to change a payload")

    def _attributes(self) -> set[str]:
        names = {_snake(key) for key in self.raw} | {_snake(key) for key in self.FIELDS}
        return {"call_id" if n == "callid" else n for n in names}

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | self._attributes())

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value of wire key ``key``."""
        return self.raw.get(key, default)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, View) and other.raw == self.raw

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.raw)!r})"


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    # Python parses at most six fractional digits; Sinch sends up to nine.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class VoiceEvent(View):
    """A Voice callback: ICE, ACE, PIE, DiCE or Notify."""

    kind: ClassVar[str] = ""
    FIELDS = frozenset({"event", "callid", "conferenceId", "timestamp", "version", "custom", "applicationKey"})

    @property
    def call_id(self) -> str | None:
        """The call's id (``callid``, read case-insensitively)."""
        found, value = self._find("callid")
        return value if found else None

    @property
    def timestamp(self) -> datetime | None:
        """When Sinch sent the callback, as an aware datetime."""
        return _timestamp(self.raw.get("timestamp"))

    def _repr_html_(self) -> str:
        raw = self.raw
        to = raw.get("to") if isinstance(raw.get("to"), Mapping) else {}
        menu = raw.get("menuResult") if isinstance(raw.get("menuResult"), Mapping) else {}
        fields = {
            "call": self.call_id,
            "from": raw.get("cli") or raw.get("from"),
            "to": to.get("endpoint"),
            "menu": f"{menu.get('menuId')}: {menu.get('type')} {menu.get('value') or ''}" if menu else None,
            "reason": raw.get("reason"),
            "result": raw.get("result"),
            "type": raw.get("type"),
            "time": raw.get("timestamp"),
        }
        return _event_html(f"{self.kind.upper()} callback", fields)


def _event_html(title: str, fields: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td style='text-align:left'>{k}</td><td style='text-align:left'>{str(v).replace('<', '&lt;')}</td></tr>"
        for k, v in fields.items()
        if v not in (None, "")
    )
    return f"<b>{title}</b><table>{rows}</table>"


class IceEvent(VoiceEvent):
    """Incoming Call Event: a call reached the Voice App."""

    kind = "ice"
    FIELDS = VoiceEvent.FIELDS | {
        "callResourceUrl",
        "userRate",
        "cli",
        "to",
        "domain",
        "originationType",
        "duration",
        "rdnis",
        "callHeaders",
    }


class AceEvent(VoiceEvent):
    """Answered Call Event: the called party answered."""

    kind = "ace"
    FIELDS = VoiceEvent.FIELDS | {"amd"}


class PieEvent(VoiceEvent):
    """Prompt Input Event: the caller's menu choice (``menu_result``)."""

    kind = "pie"
    FIELDS = VoiceEvent.FIELDS | {"menuResult"}


class DiceEvent(VoiceEvent):
    """Disconnected Call Event: the call ended (``reason``, ``result``)."""

    kind = "dice"
    FIELDS = VoiceEvent.FIELDS | {"reason", "result", "debit", "userRate", "to", "duration", "from", "callHeaders"}


class NotifyEvent(VoiceEvent):
    """Notification: recording, transcription, AMD or a calling error."""

    kind = "notify"
    FIELDS = VoiceEvent.FIELDS | {"type", "destination", "amd", "errorCode", "errorMsg", "user"}


VOICE_EVENTS: dict[str, type[VoiceEvent]] = {
    cls.kind: cls for cls in (IceEvent, AceEvent, PieEvent, DiceEvent, NotifyEvent)
}

#: Conversation API triggers, found by the payload key present (first match wins).
CONVERSATION_TRIGGERS: tuple[tuple[str, str], ...] = (
    ("message", "MESSAGE_INBOUND"),
    ("message_redaction", "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION"),
    ("message_submit_notification", "MESSAGE_SUBMIT"),
    ("message_delivery_report", "MESSAGE_DELIVERY"),
    ("event", "EVENT_INBOUND"),
    ("event_delivery_report", "EVENT_DELIVERY"),
    ("conversation_start_notification", "CONVERSATION_START"),
    ("conversation_stop_notification", "CONVERSATION_STOP"),
    ("conversation_delete_notification", "CONVERSATION_DELETE"),
    ("contact_create_notification", "CONTACT_CREATE"),
    ("contact_delete_notification", "CONTACT_DELETE"),
    ("contact_merge_notification", "CONTACT_MERGE"),
    ("contact_update_notification", "CONTACT_UPDATE"),
    ("duplicated_identities", "CONTACT_IDENTITIES_DUPLICATION"),
    ("capability_notification", "CAPABILITY"),
    ("opt_in_notification", "OPT_IN"),
    ("opt_out_notification", "OPT_OUT"),
    ("channel_event_notification", "CHANNEL_EVENT"),
    ("unsupported_callback", "UNSUPPORTED"),
    ("smart_conversation_notification", "SMART_CONVERSATIONS"),
    ("record_notification", "RECORD_NOTIFICATION"),
)


def conversation_trigger(payload: Mapping[str, Any]) -> str | None:
    """The Conversation trigger of ``payload``, or None when it is not one."""
    for key, trigger in CONVERSATION_TRIGGERS:
        if isinstance(payload.get(key), Mapping):
            return trigger
    return None


class ConversationEvent(View):
    """A Conversation API webhook (SMS, WhatsApp, RCS, …); ``trigger`` names the kind."""

    kind: ClassVar[str] = "conversation"
    FIELDS = frozenset(
        {"app_id", "project_id", "accepted_time", "event_time", "message_metadata", "correlation_id"}
        | {key for key, _ in CONVERSATION_TRIGGERS}
    )

    def __getattr__(self, attribute: str) -> Any:
        # Conversation payloads are snake_case on the wire already.
        if attribute in self.raw:
            return _wrap(self.raw[attribute])
        if attribute in self.FIELDS:
            return None
        return super().__getattr__(attribute)

    @property
    def trigger(self) -> str | None:
        """``MESSAGE_INBOUND``, ``MESSAGE_DELIVERY``, ``EVENT_INBOUND``, …"""
        return conversation_trigger(self.raw)

    def _item(self) -> Mapping[str, Any]:
        for key, _ in CONVERSATION_TRIGGERS:
            value = self.raw.get(key)
            if isinstance(value, Mapping):
                return value
        return {}

    @property
    def text(self) -> str | None:
        """The text of an inbound text message, else None."""
        contact_message = self._item().get("contact_message") or {}
        text_message = contact_message.get("text_message") or {}
        text = text_message.get("text")
        return text if isinstance(text, str) else None

    @property
    def channel(self) -> str | None:
        """``SMS``, ``WHATSAPP``, ``RCS``, … of the contact."""
        return (self._item().get("channel_identity") or {}).get("channel")

    @property
    def identity(self) -> str | None:
        """The contact's address on the channel (a phone number for SMS)."""
        return (self._item().get("channel_identity") or {}).get("identity")

    @property
    def contact_id(self) -> str | None:
        """The Conversation API contact id."""
        return self._item().get("contact_id")

    @property
    def conversation_id(self) -> str | None:
        """The Conversation API conversation id."""
        return self._item().get("conversation_id")

    @property
    def accepted_at(self) -> datetime | None:
        """``accepted_time`` as an aware datetime."""
        return _timestamp(self.raw.get("accepted_time"))


def voice_kind(payload: Mapping[str, Any]) -> str | None:
    """The Voice callback kind named by ``payload['event']`` (exactly, as the wire contract reads it), or None."""
    event = payload.get("event")
    return event if isinstance(event, str) and event in VOICE_EVENTS else None


def parse_event(payload: Mapping[str, Any], kind: str | None = None) -> VoiceEvent | ConversationEvent:
    """The event view for a callback payload; ``kind`` forces the type (``ice``, ``conversation``…)."""
    if not isinstance(payload, Mapping):
        raise EventError(f"a callback payload is a JSON object, got {type(payload).__name__}")
    kind = kind or voice_kind(payload) or ("conversation" if conversation_trigger(payload) else None)
    if kind == "conversation":
        return ConversationEvent(payload)
    if kind in VOICE_EVENTS:
        return VOICE_EVENTS[kind](payload)
    raise EventError(
        "not a Sinch callback: no 'event' of ice, ace, pie, dice or notify, and no Conversation trigger key "
        "such as 'message'"
    )
