"""Replay a journaled callback through the runtime (edited or not), and diff today's answer with then.

A replay takes the real path of a callback: routing, signature check (re-signed with the
runtime's own secret), contract, handler, SVAML validation, journal, marked as a replay of
the original record.
"""

from __future__ import annotations

import difflib
import html
import json
from dataclasses import dataclass
from typing import Any

from ..functions.errors import CallbackNotFoundError, StreamError
from ..functions.origin import REPLAY_HEADER, SIMULATED_HEADER, replay_header, simulated
from ..functions.signing import sign_conversation_webhook, voice_signing_headers
from .session import Session

__all__ = ["Diff", "Replay", "diff", "replay"]

_DROPPED = {"authorization", "cookie", "content-length", "host", "x-timestamp", REPLAY_HEADER, SIMULATED_HEADER}


def _parse(body: str | bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Replay:
    """The answer a replay got, and the journal record it made."""

    record_id: int
    replay_of: int
    status: int
    answer: Any

    def __repr__(self) -> str:
        return f"Replay #{self.record_id} of #{self.replay_of}: HTTP {self.status} {json.dumps(self.answer)}"


def replay(session: Session, record_id: int, body: Any = None) -> Replay:
    """Send record ``record_id``'s request again; ``body`` (dict or JSON text) replaces its body."""
    row = session.journal.get(record_id)
    if row is None:
        raise CallbackNotFoundError(f"no callback #{record_id} in {session.journal.path}; sn.callbacks() lists them")
    if row["kind"] == "stream":
        raise StreamError(
            f"#{record_id} is a media stream, not a request: it cannot be replayed; "
            f"sn.callback({record_id}).audio('in') plays what the caller sent"
        )
    if body is None:
        raw = (row["request_body"] or "").encode()
    else:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {
        k: v
        for k, v in json.loads(row["request_headers"] or "{}").items()
        if k.lower() not in _DROPPED and not k.lower().startswith("x-sinch-webhook-signature")
    }
    headers.update(replay_header(session.app.marker, record_id))
    if row.get("simulated"):  # a replay of a simulated callback is simulated too
        headers.update(simulated(session.app.marker))
    settings = session.settings
    path = str(row["path"])
    if row["kind"] == "conversation" and settings.conversation_secret is not None:
        headers.update(sign_conversation_webhook(raw, settings.conversation_secret.reveal()))
    elif row["kind"] != "conversation" and settings.application_secret is not None:
        key = settings.application_key or ""
        content_type = headers.pop("content-type", "application/json")
        headers.update(
            voice_signing_headers(
                str(row["method"]), path, raw, key, settings.application_secret.reveal(), content_type
            )
        )
    result = session.answer(str(row["method"]), path, headers, raw)
    return Replay(result.record_id, record_id, result.status, _parse(result.body))


@dataclass(frozen=True)
class Diff:
    """The answer of record ``record_id`` then, and now (replay ``replay_id``)."""

    record_id: int
    replay_id: int
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        """Whether today's handlers answer differently."""
        return bool(self.before != self.after)

    def lines(self) -> list[str]:
        """A unified diff of the two answers, pretty-printed."""

        def pretty(value: Any) -> list[str]:
            return json.dumps(value, indent=2, sort_keys=True).splitlines()

        return list(
            difflib.unified_diff(
                pretty(self.before),
                pretty(self.after),
                f"#{self.record_id} then",
                f"#{self.replay_id} now",
                lineterm="",
            )
        )

    def __repr__(self) -> str:
        if not self.changed:
            return f"#{self.record_id}: the same answer now (replay #{self.replay_id})"
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        if not self.changed:
            return f"<p>#{self.record_id}: the same answer now (replay #{self.replay_id})</p>"
        colour = {"+": "#dafbe1", "-": "#ffebe9"}
        rows = "".join(
            f"<div style='background:{colour.get(line[:1], 'transparent')}'>{html.escape(line)}</div>"
            for line in self.lines()
        )
        return f"<pre style='margin:0'>{rows}</pre>"


def diff(session: Session, record_id: int) -> Diff:
    """Replay record ``record_id`` and compare its answer then with now."""
    row = session.journal.get(record_id)
    if row is None:
        raise CallbackNotFoundError(f"no callback #{record_id} in {session.journal.path}; sn.callbacks() lists them")
    again = replay(session, record_id)
    return Diff(record_id, again.record_id, _parse(row["response_body"]), again.answer)
