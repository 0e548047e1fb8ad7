"""Replay protection: a signed callback must be fresh, and an exact repeat never runs its handler twice.

Sinch's SDKs check signatures but not their age; the docs give ``x-timestamp`` so that a
request "is not too old" without saying how old (reference/sinch-wire.md §3.1; the
Conversation webhook's timestamp is Unix seconds, §3.2). The ±5 min default is sinch_nb's
choice, the window most HMAC webhook schemes use. The runtime refuses a signed callback
whose timestamp is outside ``settings.signature_window`` (±5 min unless set; ``None`` turns
it off), and remembers each signed callback it answered for that long, keyed by what makes
it unique: the signature and timestamp (Voice), the nonce (Conversation). A repeat of one
that was answered gets the same answer without its handler running (an idempotency key: a
platform retry is not broken, a replayed callout is not placed twice); a repeat of one that
failed runs again. The simulator, replay and the dial pad sign afresh, so they are never repeats.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..functions.signing import voice_timestamp
from ..journal.record import Record
from .refused import RefusedError

__all__ = ["First", "Repeats", "check_fresh", "repeat_key"]

#: Outcomes that count as answered: a repeat gets the same answer.
ANSWERED = ("ok", "default")
#: Signed callbacks remembered at most (the oldest forgotten first).
MAX_REMEMBERED = 100_000


def check_fresh(kind: str, headers: Mapping[str, str], window: float | None, now: float | None = None) -> None:
    """Refuse (401) a signed callback whose timestamp is missing, unreadable or outside ``±window`` seconds."""
    if window is None:
        return
    if kind == "conversation":
        name, raw = "x-sinch-webhook-signature-timestamp", headers.get("x-sinch-webhook-signature-timestamp", "")
        stamp = float(raw) if raw.isascii() and raw.isdigit() else None
    else:
        name, raw = "x-timestamp", headers.get("x-timestamp", "")
        stamp = voice_timestamp(raw)
    if stamp is None:
        raise RefusedError(401, f"signed callback refused: its {name} ({raw[:40]!r}) is missing or unreadable")
    age = (now if now is not None else time.time()) - stamp
    if abs(age) > window:
        when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
        raise RefusedError(
            401,
            f"stale signed callback refused: its {name} is {when}, outside ±{window:g} s. A replayed request, "
            "or this machine's clock is off; sn.configure(signature_window=...) widens the window, None turns it off",
        )


def repeat_key(kind: str, headers: Mapping[str, str]) -> str | None:
    """What makes a signed callback unique: signature and timestamp (Voice), nonce (Conversation)."""
    if kind == "conversation":
        nonce = headers.get("x-sinch-webhook-signature-nonce")
        return f"conversation {nonce} {headers.get('x-sinch-webhook-signature')}" if nonce else None
    authorization = headers.get("authorization")
    return f"voice {authorization} {headers.get('x-timestamp')}" if authorization else None


@dataclass
class First:
    """The first time a signed callback came: its record and, once answered, its answer."""

    seen: float
    done: asyncio.Event = field(default_factory=asyncio.Event)
    record: Record | None = None
    #: (status, body, content type) when it was answered; None when it failed (a repeat runs again).
    answer: tuple[int, bytes, str | None] | None = None


class Repeats:
    """The signed callbacks of the last ``window`` seconds, on the server's loop (one thread: no locks)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, First] = OrderedDict()

    def first(self, key: str, window: float) -> First | None:
        """The first time ``key`` came within the window, if it did."""
        limit = time.monotonic() - 2 * window  # a timestamp may be ``window`` ahead, then ``window`` old
        while self._seen and (len(self._seen) > MAX_REMEMBERED or next(iter(self._seen.values())).seen < limit):
            self._seen.popitem(last=False)
        return self._seen.get(key)

    def begin(self, key: str) -> First:
        """Remember that ``key`` has come (again, after a failure) and is being answered now."""
        first = self._seen[key] = First(time.monotonic())
        self._seen.move_to_end(key)
        return first
