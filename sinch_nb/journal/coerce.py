"""Any value a request can carry, made storable in its SQLite column, with a note of what changed.

The writer tries the fast path first (a whole batch as it is); only a batch SQLite refuses
comes here, row by row, so hostile input costs nothing until it arrives.
"""

from __future__ import annotations

import json
from typing import Any

from .record import COLUMNS

__all__ = ["storable_row"]

_INT64 = 2**63

#: The most text one column keeps; longer values are cut and marked.
MAX_TEXT = 1024 * 1024


def _text(value: str) -> str:
    """``value`` as text SQLite can encode: lone surrogates escaped, at most ``MAX_TEXT`` characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"… [cut at {MAX_TEXT} characters]"


def _storable(kind: str, value: Any) -> tuple[Any, str | None]:
    """The value for a column of SQLite type ``kind``, and a note when it had to change."""
    if value is None:
        return None, None
    if kind.startswith("INTEGER"):
        if isinstance(value, bool):
            return int(value), None
        if isinstance(value, int) and -_INT64 <= value < _INT64:
            return value, None
        return None, f"{type(value).__name__} {str(value)[:40]!r} does not fit an integer column; dropped"
    if kind == "REAL":
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return float(value), None
            except OverflowError:
                pass
        return None, f"{type(value).__name__} {str(value)[:40]!r} is not a number; dropped"
    if isinstance(value, str):
        stored = _text(value)
        return stored, None if stored == value else "text with unencodable or too many characters; escaped or cut"
    return _text(json.dumps(value, default=str)), f"a {type(value).__name__}, stored as JSON text"


def storable_row(values: dict[str, Any]) -> tuple[Any, ...]:
    """One row's values in column order, each storable; what changed is added to ``warnings``."""
    notes = []
    stored = {}
    for name, kind in COLUMNS.items():
        stored[name], note = _storable(kind, values.get(name))
        if note:
            notes.append(f"journal: {name} was {note}")
    if notes:
        try:
            earlier = json.loads(stored["warnings"]) if stored["warnings"] else []
        except ValueError:
            earlier = [stored["warnings"]]
        stored["warnings"] = _text(json.dumps([*earlier, *notes]))
    return tuple(stored[name] for name in COLUMNS)
