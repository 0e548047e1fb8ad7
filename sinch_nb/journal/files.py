"""Callbacks to and from files: JSONL (any tool reads it) or Parquet, to replay in another notebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .store import COLUMNS, Journal

__all__ = ["export_callbacks", "load_callbacks"]


def _rows(journal: Journal, call_id: str | None) -> list[dict[str, Any]]:
    where, params = ("WHERE call_id = ?", (call_id,)) if call_id else ("", ())
    return list(journal.rows(where, params))


def export_callbacks(journal: Journal, path: str | Path, call_id: str | None = None) -> Path:
    """Write every record (or one call's) to ``path``: ``.jsonl`` or ``.parquet``."""
    path = Path(path)
    rows = _rows(journal, call_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        raise ValueError(f"export to .jsonl or .parquet, not {path.suffix or 'no suffix'!r}")
    return path


def load_callbacks(journal: Journal, path: str | Path) -> list[int]:
    """Append the records in ``path`` to ``journal`` (new ids, ``source`` = imported); returns the ids."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    elif path.suffix in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    else:
        raise ValueError(f"load .jsonl or .parquet files, not {path.suffix or 'no suffix'!r}")
    ids = []
    for row in rows:
        record = {k: v for k, v in row.items() if k in COLUMNS and k not in ("id", "session")}
        record["source"] = f"imported:{path.name}"
        ids.append(journal.append(record))
    return ids
