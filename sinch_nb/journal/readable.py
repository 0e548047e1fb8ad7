"""Journal values as a person reads them in a table: blanks, not ``None``/``NaN``; ms; short ids; local times.

Issue 14 ("readable by default"): a missing value is an empty cell, latency is milliseconds with
one decimal, a call id is its first 8 characters (the full id goes to the hover title and the
detail), and times are local, to the millisecond.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

__all__ = ["SHORT_ID", "blank", "latency", "local_time", "local_timestamp", "short_id"]

#: Characters of a call id a table shows; the rest is on hover.
SHORT_ID = 8


def blank(value: Any) -> str:
    """``value`` as text, and the empty string for ``None`` or NaN (never the words)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def latency(ms: float | None) -> str:
    """Milliseconds with one decimal (``12.3 ms``); blank when unknown."""
    return "" if ms is None or math.isnan(ms) else f"{ms:.1f} ms"


def short_id(call_id: str | None) -> str:
    """The first ``SHORT_ID`` characters and an ellipsis; a short id whole; blank when missing."""
    text = blank(call_id)
    return text if len(text) <= SHORT_ID + 1 else text[:SHORT_ID] + "…"


def local_time(seconds: float | None) -> str:
    """A Unix time as the local clock reads it, to the millisecond (``14:03:07.125``)."""
    if seconds is None or math.isnan(seconds):
        return ""
    return datetime.fromtimestamp(seconds).strftime("%H:%M:%S.%f")[:-3]


def local_timestamp(seconds: float | None) -> str:
    """A Unix time as a full local date and time with its UTC offset, for a hover title or a detail."""
    if seconds is None or math.isnan(seconds):
        return ""
    moment = datetime.fromtimestamp(seconds).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + moment.strftime(" %z")
