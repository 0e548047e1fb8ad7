"""What the monitor's table shows: its columns, the journal query for one page, and each row as read.

Sorting happens in SQLite over the whole filtered journal (``ORDER BY … LIMIT 50 OFFSET …``), not
in the browser over one page, so page 2 of "slowest first" continues page 1. Blanks sort last
either way, and the newest row first among equals.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from typing import Any

from ..journal import readable
from ..journal.store import Journal
from ..journal.views import scope
from .table import Column, Row

__all__ = ["COLUMNS", "FAILED", "PAGE", "Filters", "order_by", "origin", "read_page", "table_row", "where"]

PAGE = 50
FAILED = ("fallback", "error", "rejected")
#: What a row needs from the journal (the bodies stay on disk until a row is selected).
FIELDS = "id, time, kind, call_id, cli, svaml_action, status, latency_ms, signature, simulated, outcome, replay_of"
_ORIGIN = "CASE WHEN replay_of IS NOT NULL THEN 'replay' WHEN simulated THEN 'simulated' ELSE 'real' END"

#: The table's columns, and the SQL expression each one sorts by.
COLUMNS: tuple[tuple[Column, str], ...] = (
    ({"key": "id", "label": "#", "align": "right"}, "id"),
    ({"key": "time", "label": "time", "align": "left"}, "time"),
    ({"key": "kind", "label": "kind", "align": "left"}, "kind"),
    ({"key": "call", "label": "call", "align": "left"}, "call_id"),
    ({"key": "caller", "label": "caller", "align": "left"}, "cli"),
    ({"key": "action", "label": "action", "align": "left"}, "svaml_action"),
    ({"key": "status", "label": "status", "align": "right"}, "status"),
    ({"key": "latency", "label": "latency", "align": "right"}, "latency_ms"),
    ({"key": "signature", "label": "signature", "align": "left"}, "signature"),
    ({"key": "outcome", "label": "outcome", "align": "left"}, "outcome"),
    ({"key": "origin", "label": "origin", "align": "left"}, _ORIGIN),
)
_SORT_BY = {column["key"]: expression for column, expression in COLUMNS}


@dataclass(frozen=True)
class Filters:
    """The monitor's filter controls: a kind (or "all"), a call id prefix, failed callbacks only."""

    kind: str = "all"
    call_id: str = ""
    errors_only: bool = False
    #: One journal session's rows (this kernel's, by default); None for every session.
    session: str | None = None
    #: Sources left out (the explorer's and the workshop checks' traffic, by default none here).
    hide: tuple[str, ...] = ()


def where(filters: Filters) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for ``filters``: the one place a new filter goes."""
    clauses, params = scope(filters.session, filters.hide)
    if filters.kind != "all":
        clauses.append("kind = ?")
        params.append(filters.kind)
    if filters.call_id.strip():
        clauses.append("call_id LIKE ?")
        params.append(filters.call_id.strip() + "%")
    if filters.errors_only:
        clauses.append(f"outcome IN ({', '.join('?' for _ in FAILED)})")
        params.extend(FAILED)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def order_by(sort: str) -> str:
    """The ORDER BY clause for a sort key (``latency``; ``-latency`` descending): blanks last, newest first on ties."""
    key = sort.removeprefix("-") or "id"
    direction = "DESC" if sort.startswith("-") or not sort else "ASC"
    if key == "id":
        return f"ORDER BY id {direction}"
    return f"ORDER BY {_SORT_BY[key]} {direction} NULLS LAST, id DESC"


def read_page(journal: Journal, filters: Filters, sort: str, page: int) -> tuple[int, list[dict[str, Any]]]:
    """How many callbacks match ``filters``, and page ``page`` of them in ``sort`` order (committed ones)."""
    clause, params = where(filters)
    journal.flush()
    with closing(journal.connect()) as db:
        (total,) = db.execute(f"SELECT COUNT(*) FROM callbacks {clause}", params).fetchone()
        cursor = db.execute(
            f"SELECT {FIELDS} FROM callbacks {clause} {order_by(sort)} LIMIT ? OFFSET ?",
            [*params, PAGE, page * PAGE],
        )
        names = [description[0] for description in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return int(total), rows


def origin(record: dict[str, Any]) -> str:
    """Where a callback came from: ``replay of #N``, ``simulated`` or ``real``."""
    if record.get("replay_of"):
        return f"replay of #{record['replay_of']}"
    return "simulated" if record.get("simulated") else "real"


def table_row(record: dict[str, Any]) -> Row:
    """One journal record as the table's cells: blanks for missing values, latency in ms, short call id."""
    blank = readable.blank
    cells = {
        "id": (str(record["id"]), ""),
        "time": (readable.local_time(record["time"]), readable.local_timestamp(record["time"])),
        "kind": (blank(record["kind"]), ""),
        "call": (readable.short_id(record["call_id"]), blank(record["call_id"])),
        "caller": (blank(record["cli"]), ""),
        "action": (blank(record["svaml_action"]), ""),
        "status": (blank(record["status"]), ""),
        "latency": (readable.latency(record["latency_ms"]), ""),
        "signature": (blank(record["signature"]), ""),
        "outcome": (blank(record["outcome"]), ""),
        "origin": (origin(record), ""),
    }
    ordered = [cells[column["key"]] for column, _ in COLUMNS]
    return {"id": int(record["id"]), "cells": [text for text, _ in ordered], "titles": [title for _, title in ordered]}
