"""The capture store: one SQLite row per request, written off the request path.

``append`` masks secrets, numbers the record and queues it (microseconds); a writer
thread commits batches. ``flush`` waits for the queue, so a reader that flushes
first sees every callback answered so far. Recent records stay in a bounded deque.
"""

from __future__ import annotations

import itertools
import json
import operator
import queue
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from .record import COLUMNS, Record

__all__ = ["COLUMNS", "DEFAULT_PATH", "Journal", "Record", "mask_headers"]

DEFAULT_PATH = Path(".sinch_nb") / "journal.db"
SCHEMA_VERSION = 1

_ROW_VALUES = operator.attrgetter(*COLUMNS)
_JSON_LISTS = ("warnings", "logs")

_MASKED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-sinch-webhook-signature"}
)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials replaced: ``Application key:sig`` → ``Application ***``."""
    masked = {}
    for name, value in headers.items():
        if name.lower() in _MASKED_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} ***".strip()
        masked[name] = value
    return masked


class Journal:
    """An SQLite journal of callbacks at ``path`` (default ``./.sinch_nb/journal.db``)."""

    def __init__(self, path: str | Path | None = None, *, recent: int = 1000) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH.resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.session = uuid.uuid4().hex[:8]
        self.linger = 0.02
        self.recent: deque[Record] = deque(maxlen=recent)
        self._queue: queue.SimpleQueue[Record | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._written = threading.Condition()
        self._appended_count = 0
        self._written_count = 0
        with closing(self.connect()) as db:
            self._create(db)
            (last,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM callbacks").fetchone()
        self._ids = itertools.count(last + 1)
        self._writer = threading.Thread(target=self._write_loop, name="sinch_nb-journal", daemon=True)
        self._writer.start()  # whoever opens a journal closes it (the session does, last, on exit)

    # Connections ----------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """A new connection (one per thread); WAL lets readers run while the writer commits."""
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        db.execute(f"CREATE TABLE IF NOT EXISTS callbacks ({columns})")
        present = {row[1] for row in db.execute("PRAGMA table_info(callbacks)")}
        for name, kind in COLUMNS.items():
            if name not in present:  # a journal from an older sinch_nb: add what is new
                db.execute(f"ALTER TABLE callbacks ADD COLUMN {name} {kind}")
        db.execute("CREATE INDEX IF NOT EXISTS callbacks_call_id ON callbacks (call_id)")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.commit()

    # Writing --------------------------------------------------------------

    def append(self, record: Record | Mapping[str, Any]) -> int:
        """Queue one record (a mapping names only columns); returns its id. Headers are masked here."""
        row = record if isinstance(record, Record) else Record.of(record)
        with self._lock:
            row.id = next(self._ids)
            self._appended_count += 1
        row.session = row.session or self.session
        row.source = row.source or "local"
        if isinstance(row.request_headers, Mapping):
            row.request_headers = json.dumps(mask_headers(row.request_headers))
        if isinstance(row.warnings, list):
            row.warnings = json.dumps(row.warnings)
        if isinstance(row.logs, list):
            row.logs = json.dumps(row.logs)
        if isinstance(row.svaml_instructions, list):
            row.svaml_instructions = ",".join(row.svaml_instructions)
        self.recent.append(row)
        self._queue.put(row)
        return row.id

    def _write_loop(self) -> None:
        db = self.connect()
        sql = f"INSERT INTO callbacks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        while True:
            batch = [self._queue.get()]
            time.sleep(self.linger)  # let a burst gather: one commit per burst, not per callback
            while len(batch) < 5000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [_ROW_VALUES(row) for row in batch if row is not None]
            try:
                if rows:
                    with db:
                        db.executemany(sql, rows)
            finally:
                with self._written:
                    self._written_count += len(rows)
                    self._written.notify_all()
            if len(rows) < len(batch):  # close() queued None
                db.close()
                return

    @property
    def committed(self) -> int:
        """How many records the writer has committed so far (a cheap change signal for viewers)."""
        return self._written_count

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every record appended so far is committed."""
        with self._lock:
            target = self._appended_count
        with self._written:
            self._written.wait_for(lambda: self._written_count >= target or not self._writer.is_alive(), timeout)

    def close(self) -> None:
        """Commit what is queued and stop the writer."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join(timeout=10)

    # Reading --------------------------------------------------------------

    def rows(self, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        """Committed records as dicts, oldest first (flushes first)."""
        self.flush()
        with closing(self.connect()) as db:
            db.row_factory = sqlite3.Row
            for row in db.execute(f"SELECT * FROM callbacks {where} ORDER BY id", params):
                yield dict(row)

    def get(self, record_id: int) -> dict[str, Any] | None:
        """One record by id: from memory when recent, else from the file."""
        for row in reversed(self.recent):
            if row.id == record_id:
                return row.as_dict()
        with closing(self.connect()) as db:  # an older record is committed already: no flush needed
            db.row_factory = sqlite3.Row
            found = db.execute("SELECT * FROM callbacks WHERE id = ?", (record_id,)).fetchone()
        return dict(found) if found is not None else next(self.rows("WHERE id = ?", (record_id,)), None)

    def count(self) -> int:
        """How many records the journal holds."""
        self.flush()
        with closing(self.connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0])

    def clear(self) -> None:
        """Delete every record."""
        self.flush()
        with closing(self.connect()) as db, db:
            db.execute("DELETE FROM callbacks")
        self.recent.clear()
