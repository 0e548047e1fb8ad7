"""One journal record: what the runtime learned of one request, field by field.

The request pipeline fills a ``Record`` as it goes (each step sets the fields it
knows); the journal stores it as one SQLite row. The fields are the journal's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["COLUMNS", "Record"]


@dataclass(slots=True)
class Record:
    """One request, as journaled; ``None`` where a step did not get that far."""

    id: int | None = None
    time: float | None = None
    session: str | None = None
    # The request
    method: str | None = None
    path: str | None = None
    kind: str | None = None
    request_headers: Mapping[str, str] | str | None = None
    request_body: str | None = None
    signature: str | None = None
    simulated: int | None = None
    replay_of: int | None = None
    source: str | None = None
    #: Voice API v2: the CloudEvent id (``ce-id``), the platform's key for one delivery.
    ce_id: str | None = None
    # What the callback says
    call_id: str | None = None
    cli: str | None = None
    destination: str | None = None
    menu_id: str | None = None
    menu_result_type: str | None = None
    menu_result_value: str | None = None
    reason: str | None = None
    result: str | None = None
    duration: int | None = None
    trigger: str | None = None
    # The handler and the answer
    handler: str | None = None
    handler_version: int | None = None
    status: int | None = None
    response_body: str | None = None
    svaml_action: str | None = None
    svaml_instructions: list[str] | str | None = None
    latency_ms: float | None = None
    outcome: str | None = None
    error: str | None = None
    traceback: str | None = None
    warnings: list[str] | str | None = None
    logs: list[dict[str, Any]] | str | None = None
    #: A media stream (kind ``stream``): frames and bytes each way, messages, close, audio files (JSON).
    stream: dict[str, Any] | str | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Record:
        """A record from a mapping of column → value; names the columns the journal does not have."""
        unknown = set(values) - _NAMES
        if unknown:
            raise KeyError(f"journal has no column {', '.join(sorted(unknown))}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Column → value, as a journal row reads."""
        return {name: getattr(self, name) for name in COLUMNS}

    def update(self, **values: Any) -> None:
        """Set several fields at once."""
        for name, value in values.items():
            setattr(self, name, value)


_SQL_TYPES = {"int": "INTEGER", "float": "REAL"}

#: Column name → SQLite type, in the order of ``Record``'s fields.
COLUMNS: dict[str, str] = {
    field.name: "INTEGER PRIMARY KEY" if field.name == "id" else _SQL_TYPES.get(str(field.type).split(" ")[0], "TEXT")
    for field in fields(Record)
}
_NAMES = frozenset(COLUMNS)
