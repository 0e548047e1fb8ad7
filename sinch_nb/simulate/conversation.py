"""A messaging conversation read back from the journal: what the contact wrote, what the app sent, what Sinch reported.

``sn.text`` returns one exchange (``exchange_frame``); ``sn.conversations`` folds the journal
per contact and channel (``conversations_frame``). Rows come from three journal kinds: the
``conversation`` webhook (MESSAGE_INBOUND from the contact, MESSAGE_DELIVERY from Sinch) and
``outbound`` (the app's messages to the simulated platform).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .channels import MESSAGE_TYPES, as_text

if TYPE_CHECKING:
    import pandas as pd

    from ..journal import Journal

__all__ = ["conversations_frame", "exchange_rows", "message_line"]

COLUMNS = ["time", "who", "contact", "channel", "kind", "text", "status", "note"]


def _body(row: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(row.get("request_body") or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _contact_said(message: dict[str, Any]) -> tuple[str, str]:
    """A contact message as (kind, words)."""
    said = message.get("contact_message") or {}
    if "text_message" in said:
        return "text", str(said["text_message"].get("text", ""))
    if "media_message" in said:
        return "media", f"[media {said['media_message'].get('url', '')}]"
    if "choice_response_message" in said:
        return "choice", f"[chose {said['choice_response_message'].get('postback_data', '')}]"
    return next(iter(said), "?"), json.dumps(said)[:80]


def message_line(row: dict[str, Any]) -> dict[str, Any] | None:
    """One journal row as a line of the conversation, or None if it is not part of one."""
    body = _body(row)
    base = {
        "time": row.get("time"),
        "contact": row.get("cli"),
        "channel": row.get("destination"),
        "status": "",
        "note": "",
    }
    if row.get("kind") == "outbound" and "/xms/" in str(row.get("path")):  # the SMS API: one body, plain text
        status = "accepted" if (row.get("status") or 500) < 300 else f"refused ({row.get('status')})"
        return {**base, "who": "app", "kind": "sms", "text": str(body.get("body", "")), "status": status, "note": ""}
    if row.get("kind") == "outbound":
        message = body.get("message") or {}
        kind = next((k for k in MESSAGE_TYPES if k in message), "?")
        text = as_text(kind, message[kind]) if kind in message else ""
        warnings = row.get("warnings")
        notes = json.loads(warnings) if isinstance(warnings, str) and warnings.startswith("[") else warnings or []
        note = "; ".join([str(n) for n in notes] + ([str(row["error"])] if row.get("error") else []))
        status = "accepted" if row.get("status") == 200 else f"refused ({row.get('status')})"
        return {
            **base,
            "who": "app",
            "kind": kind.removesuffix("_message"),
            "text": text,
            "status": status,
            "note": note,
        }
    if row.get("kind") != "conversation":
        return None
    if row.get("trigger") == "MESSAGE_INBOUND":
        kind, text = _contact_said(body.get("message") or {})
        failed = row.get("outcome") in ("error", "fallback")
        note = f"the app failed: {row.get('error')} — sn.last_error()" if failed else ""
        return {**base, "who": "contact", "kind": kind, "text": text, "note": note}
    if row.get("trigger") == "MESSAGE_DELIVERY":
        report = body.get("message_delivery_report") or {}
        reason = report.get("reason") or {}
        note = f"{reason.get('code')}: {reason.get('description')}" if reason else ""
        return {
            **base,
            "who": "sinch",
            "kind": "delivery",
            "text": "",
            "status": report.get("status", ""),
            "note": note,
        }
    return None


def exchange_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation lines among journal ``rows``, in order."""
    return [line for row in rows if (line := message_line(row)) is not None]


def conversations_frame(journal: Journal, session: str | None = None) -> pd.DataFrame:
    """One row per contact and channel: first and last message, counts each way, deliveries, the last words."""
    import pandas as pd

    from ..journal.frames import JournalFrame

    where = "WHERE kind IN ('conversation', 'outbound')" + (" AND session = ?" if session else "")
    rows = journal.rows(where, (session,) if session else ())
    threads: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        line = message_line(row)
        if line is None or not row.get("cli"):
            continue
        key = (str(row["cli"]), str(row.get("destination") or ""))
        thread = threads.setdefault(
            key,
            {"contact": key[0], "channel": key[1], "first": row["time"], "last": row["time"], "from_contact": 0}
            | {"from_app": 0, "delivered": 0, "read": 0, "failed": 0, "last_words": ""},
        )
        thread["last"] = row["time"]
        if line["who"] == "contact":
            thread["from_contact"] += 1
        elif line["who"] == "app":
            thread["from_app"] += 1
        status = str(line["status"]).lower()
        if status in ("delivered", "read", "failed"):
            thread[status] += 1
        if line["text"]:
            thread["last_words"] = f"{line['who']}: {line['text']}"
    columns = ["contact", "channel", "first", "last", "from_contact", "from_app", "delivered", "read", "failed"]
    frame = pd.DataFrame(list(threads.values()), columns=[*columns, "last_words"])
    for name in ("first", "last"):
        frame[name] = pd.to_datetime(frame[name], unit="s", utc=True)
    return JournalFrame(frame)
