"""The messaging channels the simulated Conversation API knows, and the rules each enforces.

Every rule is a row of ``docs/simulation.md`` (C1…C9) with its source; what Sinch does not
document is a named choice. ``judge`` decides one app message: delivered (and how it is
shown on the channel), or failed with the reason Sinch reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CHANNELS", "MESSAGE_TYPES", "Channel", "Verdict", "judge", "sms_segments"]

#: The app message types of the Conversation API (one key of ``message``).
MESSAGE_TYPES = (
    "text_message",
    "media_message",
    "choice_message",
    "card_message",
    "carousel_message",
    "location_message",
    "list_message",
    "template_message",
)
#: GSM 03.38 basic set and its extension table (extension characters count twice): C5.
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Channel:
    """What one channel does with app messages (sources in ``docs/simulation.md``, rows C2–C6)."""

    name: str
    #: Message types the channel renders natively; the others are transcoded to text (C2).
    native: frozenset[str]
    #: Types the channel cannot carry at all: a FAILED delivery, BAD_REQUEST (C2).
    refused: frozenset[str]
    #: Whether the channel reports READ (C3).
    reports_read: bool
    #: Hours after the contact's last message in which free-form messages may be sent (C4); None: no window.
    window_hours: int | None = None
    #: The longest text the channel takes (C6); None: no limit documented (SMS splits into parts, C5).
    max_text: int | None = None


_ALWAYS = {"text_message", "media_message", "template_message"}
CHANNELS: dict[str, Channel] = {
    "SMS": Channel(
        "SMS",
        frozenset(_ALWAYS | {"location_message"}),
        frozenset({"list_message"}),
        reports_read=False,
    ),
    "WHATSAPP": Channel(
        "WHATSAPP",
        frozenset(_ALWAYS | {"choice_message", "card_message", "location_message", "list_message"}),
        frozenset(),
        reports_read=True,
        window_hours=24,
        max_text=4096,
    ),
    "RCS": Channel(
        "RCS",
        frozenset(_ALWAYS | {"choice_message", "card_message", "carousel_message"}),
        frozenset({"list_message"}),
        reports_read=True,
        max_text=3072,
    ),
    "MESSENGER": Channel(
        "MESSENGER",
        frozenset(_ALWAYS | {"choice_message", "card_message", "carousel_message", "location_message"}),
        frozenset({"list_message"}),
        reports_read=False,
        window_hours=24,
    ),
}
#: The description Sinch gives a free-form WhatsApp message outside the window (C4).
OUTSIDE_WINDOW = (
    "The underlying channel reported: Message failed to send because more than 24 hours have passed "
    "since the customer last replied to this number"
)


@dataclass(frozen=True)
class Verdict:
    """What the channel makes of one app message: ``shown`` as the contact sees it, or ``failed``."""

    shown: str
    kind: str
    failed: tuple[str, str] | None = None
    note: str = ""


def sms_segments(text: str) -> tuple[int, str]:
    """How many SMS parts ``text`` takes, and its encoding: GSM-7 (160, or 153 a part) or UCS-2 (70, or 67)."""
    if all(c in _GSM or c in _GSM_EXTENSION for c in text):
        units = sum(2 if c in _GSM_EXTENSION else 1 for c in text)
        return (1 if units <= 160 else -(-units // 153)), "GSM-7"
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
    return (1 if units <= 70 else -(-units // 67)), "UCS-2"


def _choices(message: dict[str, Any]) -> list[str]:
    choices = []
    for choice in message.get("choices", []):
        for key in ("text_message", "call_message", "url_message", "location_message"):
            if key in choice:
                item = choice[key]
                choices.append(str(item.get("text") or item.get("title") or item.get("url") or ""))
                break
        else:
            choices.append(str(choice.get("postback_data") or "?"))
    return choices


def as_text(kind: str, message: dict[str, Any]) -> str:
    """An app message as words: what a person would read, whatever its type."""
    if kind == "text_message":
        return str(message.get("text", ""))
    if kind == "media_message":
        caption = f" {message['caption']}" if message.get("caption") else ""
        return f"[media {message.get('url', '')}]{caption}"
    if kind == "choice_message":
        question = (message.get("text_message") or {}).get("text", "")
        listed = " ".join(f"{n}: {c}" for n, c in enumerate(_choices(message), start=1))
        return f"{question} {listed}".strip()
    if kind == "card_message":
        parts = [message.get("title"), message.get("description"), message.get("media_message", {}).get("url")]
        return " — ".join(str(p) for p in parts if p)
    if kind == "carousel_message":
        return " | ".join(as_text("card_message", card) for card in message.get("cards", []))
    if kind == "location_message":
        where = message.get("coordinates", {})
        return f"[location {message.get('title', '')} {where.get('latitude')},{where.get('longitude')}]"
    if kind == "list_message":
        return str(message.get("title", "")) + " " + str(message.get("description", ""))
    if kind == "template_message":
        template: dict[str, Any] = message.get("omni_template") or next(
            iter((message.get("channel_template") or {}).values()), {}
        )
        return f"[template {template.get('template_id', '?')}]"
    return f"[{kind}]"


def judge(channel: str, message: dict[str, Any], hours_since_contact: float | None) -> Verdict:
    """How ``channel`` handles one app ``message`` (the Conversation API's ``message`` object)."""
    kinds = [key for key in MESSAGE_TYPES if key in message]
    if len(kinds) != 1:  # C1: malformed, refused when sent (HTTP 400)
        found = ", ".join(kinds) or "none"
        why = f"a message holds exactly one of {', '.join(MESSAGE_TYPES)}; got {found}"
        return Verdict("", "?", ("BAD_REQUEST", why))
    kind = kinds[0]
    rules = CHANNELS[channel]
    text = as_text(kind, message[kind])
    window = rules.window_hours
    outside = window is not None and (hours_since_contact is None or hours_since_contact > window)
    if outside and kind != "template_message":  # C4
        since = "never wrote" if hours_since_contact is None else f"last wrote {hours_since_contact:.0f} h ago"
        note = f"free-form {channel} messages need the contact to have written in the last {window} h ({since})"
        return Verdict(text, kind, ("OUTSIDE_ALLOWED_SENDING_WINDOW", OUTSIDE_WINDOW), note)
    if kind in rules.refused:  # C2
        return Verdict(text, kind, ("BAD_REQUEST", f"{kind} is only carried by WhatsApp; {channel} cannot show it"))
    if kind == "text_message" and rules.max_text is not None and len(text) > rules.max_text:  # C6
        why = f"{channel} text is at most {rules.max_text} characters; this one has {len(text)}"
        return Verdict(text, kind, ("BAD_REQUEST", why))
    note = "" if kind in rules.native else f"{kind} is sent as plain text on {channel}"  # C2
    if channel == "SMS":  # C5
        parts, encoding = sms_segments(text)
        note = "; ".join(n for n in (note, f"{parts} SMS part{'s' if parts > 1 else ''}, {encoding}") if n)
    return Verdict(text, kind, None, note)
