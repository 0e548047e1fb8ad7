"""The capture store: one SQLite row per request, committed by a writer thread in groups.

``append`` masks secrets, numbers the record and queues it (microseconds); with
``durable=True`` it first writes it to the pending log (``pending.py``), so the runtime
records a callback before its handler runs and its answer before the answer leaves,
and a killed kernel loses neither. The writer commits whatever is queued in one
transaction (a group commit: one commit per burst, not per callback). It never dies: a value SQLite refuses is coerced
(``coerce.py``) and noted, a locked or full disk is retried and reported in ``problem``.
Each journal claims its ids in blocks from the file (two kernels on one file never share
one, and a crash never lets an id be reused), and the next open marks the callbacks a dead
kernel was handling as ``interrupted``.
``flush`` waits for the queue, so a reader that flushes first sees every callback
answered so far. Recent records stay in memory, bounded in count and in bytes.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
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

from .coerce import storable_row
from .pending import PendingLog, recover
from .record import COLUMNS, Record

__all__ = ["COLUMNS", "DEFAULT_PATH", "Journal", "Record", "mask_headers"]

DEFAULT_PATH = Path(".sinch_nb") / "journal.db"
SCHEMA_VERSION = 1

_ROW_VALUES = operator.attrgetter(*COLUMNS)
_INSERT = f"INSERT OR REPLACE INTO callbacks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
#: What SQLite raises for a value it cannot bind (an object, a huge integer, a lone surrogate).
_UNBINDABLE = (
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    OverflowError,
    ValueError,
    TypeError,
)

#: Ids a journal claims at a time; a crash leaves the rest of its block unused, never reused.
ID_BLOCK = 10_000
#: Records kept in memory while the disk cannot take them; older ones beyond this are counted as lost.
MAX_UNSAVED = 100_000
INTERRUPTED = "interrupted: the kernel stopped while handling it"


_MASKED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-sinch-webhook-signature",
        "x-sinch-nb-simulated",  # functions.origin's markers: the runtime's own, never shown
        "x-sinch-nb-replay-of",
    }
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
    """An SQLite journal of callbacks at ``path`` (default ``./.sinch_nb/journal.db``).

    ``max_rows`` bounds the file: past it, the oldest rows are pruned (``None``: never).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        recent: int = 1000,
        recent_bytes: int = 16 * 1024 * 1024,
        max_rows: int | None = 200_000,
    ) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH.resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.session = uuid.uuid4().hex[:8]
        self.max_rows = max_rows
        #: How long the writer lets a burst gather before committing it.
        self.linger = 0.02
        #: How long a connection waits for a lock another process holds before it reports a problem.
        self.busy_timeout = 5.0
        self.recent: deque[Record] = deque(maxlen=recent)
        self.recent_bytes = recent_bytes
        self._recent_size = 0
        #: Why the writer cannot write right now (disk full, locked, …), or None when all is well.
        self.problem: str | None = None
        #: Records dropped because the disk refused them for too long (see ``problem``).
        self.lost = 0
        self._unsaved: list[Record] = []
        self._queue: queue.SimpleQueue[Record | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._written = threading.Condition()
        self._appended_count = 0
        self._written_count = 0
        self._since_prune = 0
        self._pending_folder = self.path.with_name(self.path.name + ".pending")
        with closing(self.connect()) as db:
            self._create(db)
            #: Records recovered from the pending logs of kernels that died.
            self.recovered = self._recover(db)
            #: Callbacks earlier kernels were handling when they died, marked ``interrupted`` on open.
            self.interrupted = self._mark_interrupted(db)
            db.execute(
                "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)", (self.session, os.getpid(), _process_started())
            )
            db.commit()
        self._next, self._block_end = 1, 0
        self._claim()
        self._pending = PendingLog(self._pending_folder, self.session)
        #: Held around every pending-log write: the log is not thread-safe, and requests append from many threads.
        self._pending_lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="sinch_nb-journal", daemon=True)
        self._writer.start()  # whoever opens a journal closes it (the session does, last, on exit)

    # Connections ----------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """A new connection (one per thread); WAL lets readers run while the writer commits."""
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a commit survives a process crash (an OS crash is out of scope)
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        db.execute(f"CREATE TABLE IF NOT EXISTS callbacks ({columns})")
        present = {row[1] for row in db.execute("PRAGMA table_info(callbacks)")}
        for name, kind in COLUMNS.items():
            if name not in present:  # a journal from an older sinch_nb: add what is new
                db.execute(f"ALTER TABLE callbacks ADD COLUMN {name} {kind}")
        db.execute("CREATE INDEX IF NOT EXISTS callbacks_call_id ON callbacks (call_id)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS sessions (session TEXT PRIMARY KEY, pid INTEGER, started REAL)")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.commit()

    def _claim(self) -> None:
        """Claim the next block of ids from the file, after every id any kernel claimed or used."""
        with closing(self.connect()) as db:
            db.isolation_level = None
            db.execute("BEGIN IMMEDIATE")
            (last,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM callbacks").fetchone()
            row = db.execute("SELECT value FROM meta WHERE key = 'reserved'").fetchone()
            first = max(last, row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO meta VALUES ('reserved', ?)", (first + ID_BLOCK - 1,))
            db.execute("COMMIT")
        self._next, self._block_end = first, first + ID_BLOCK - 1

    def _release(self) -> None:
        """On a clean close, give back the unused rest of the block (unless another kernel claimed after it)."""
        with closing(self.connect()) as db, db:
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'reserved' AND value = ?", (self._next - 1, self._block_end)
            )

    def _alive(self, db: sqlite3.Connection, session: str) -> bool:
        """Whether the kernel of journal session ``session`` still runs."""
        row = db.execute("SELECT pid, started FROM sessions WHERE session = ?", (session,)).fetchone()
        return row is not None and _process_alive(row[0], row[1])

    def _recover(self, db: sqlite3.Connection) -> int:
        """Store what dead kernels wrote to their pending logs but never committed; remove those logs."""
        rows, logs = recover(
            self._pending_folder, lambda session: self._alive(db, session), list(COLUMNS), ANSWER_COLUMNS
        )
        if rows:
            with db:
                db.executemany(_INSERT, [storable_row(row) for row in rows])
        for log in logs:
            log.unlink(missing_ok=True)
        return len(rows)

    def _mark_interrupted(self, db: sqlite3.Connection) -> int:
        """Callbacks still ``running`` in a session whose kernel is gone: it died while handling them."""
        running = db.execute("SELECT DISTINCT session FROM callbacks WHERE outcome = 'running'").fetchall()
        marked = 0
        for (session,) in running:
            if self._alive(db, session):
                continue  # another kernel on this journal, still at work
            marked += db.execute(
                "UPDATE callbacks SET outcome = 'interrupted', error = ? WHERE session = ? AND outcome = 'running'",
                (INTERRUPTED, session),
            ).rowcount
        return marked

    # Writing --------------------------------------------------------------

    def append(self, record: Record | Mapping[str, Any], *, durable: bool = False) -> int:
        """Queue one record (a mapping names only columns); returns its id. Headers are masked here.

        ``durable``: write it to the pending log first, so it survives the process being killed.
        A record appended again (it has its id) replaces its row: the runtime writes a callback
        when it arrives and again when it is answered.
        """
        row = record if isinstance(record, Record) else Record.of(record)
        first = row.id is None
        with self._lock:
            if first:
                if self._next > self._block_end:
                    self._claim()  # once per block: a short transaction of its own
                row.id = self._next
                self._next += 1
            self._appended_count += 1
        if first:
            row.session = row.session or self.session
            row.source = row.source or "local"
            if isinstance(row.request_headers, Mapping):
                row.request_headers = json.dumps(mask_headers(row.request_headers))
            self._remember(row)
        if isinstance(row.warnings, list):
            row.warnings = json.dumps(row.warnings)
        if isinstance(row.logs, list):
            row.logs = json.dumps(row.logs, default=str)
        if isinstance(row.stream, dict):
            row.stream = json.dumps(row.stream, default=str)
        if isinstance(row.svaml_instructions, list):
            row.svaml_instructions = ",".join(str(name) for name in row.svaml_instructions)
        if durable:
            entry = _ROW_VALUES(row) if first else _ANSWER_VALUES(row)
            with self._pending_lock:
                self._pending.write(entry, self._appended_count)
        self._queue.put(row)
        assert row.id is not None
        return row.id

    def _remember(self, row: Record) -> None:
        """Keep ``row`` among the recent records, within the count and the bytes allowed."""
        size = _size(row)
        if len(self.recent) == self.recent.maxlen and self.recent:
            self._recent_size -= _size(self.recent[0])
        self.recent.append(row)
        self._recent_size += size
        while self._recent_size > self.recent_bytes and len(self.recent) > 1:
            self._recent_size -= _size(self.recent.popleft())

    def _write_loop(self) -> None:
        db: sqlite3.Connection | None = None
        while True:
            items = [self._queue.get()]
            time.sleep(self.linger)  # let a burst gather: one commit per burst (nobody waits for it)
            while len(items) < 5000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            records = [record for record in items if record is not None]
            handled = len(records)
            if handled > 1:  # a callback's arrival and its answer in one batch: one row
                records = list({record.id: record for record in records}.values())
            try:
                db = self._commit(db, records)
            except BaseException as error:  # the writer never dies: keep the rows, say why
                self.problem = f"the journal writer failed unexpectedly: {error!r}"
                self._keep_unsaved(records)
            with self._written:
                self._written_count += handled
                self._written.notify_all()
            if not self._unsaved:
                self._pending.committed = self._written_count
            if handled < len(items):  # close() queued None
                if db is not None:
                    db.close()
                return

    def _commit(self, db: sqlite3.Connection | None, records: list[Record]) -> sqlite3.Connection | None:
        """Commit ``records`` (and any kept from before) in one transaction; retried, then kept for later."""
        rows = self._unsaved + records
        if not rows:
            return db
        for attempt in range(3):
            try:
                db = db or self.connect()
                try:
                    with db:
                        db.executemany(_INSERT, [_ROW_VALUES(row) for row in rows])
                except _UNBINDABLE:  # a value SQLite cannot store: coerce this batch, row by row
                    with db:
                        db.executemany(_INSERT, [storable_row(row.as_dict()) for row in rows])
            except sqlite3.Error as error:  # locked, disk full, I/O error: reopen and retry
                self.problem = f"cannot write the journal {self.path}: {error}"
                if db is not None:
                    db.close()
                db = None
                time.sleep(0.05 * (attempt + 1))
                continue
            self._unsaved, self.problem = [], None
            self._prune(db, len(rows))
            return db
        self._unsaved = []
        self._keep_unsaved(rows)
        return db

    def _keep_unsaved(self, rows: list[Record]) -> None:
        """Hold rows the disk refused until it takes them again; beyond ``MAX_UNSAVED``, count them lost."""
        kept = self._unsaved + rows
        if len(kept) > MAX_UNSAVED:
            self.lost += len(kept) - MAX_UNSAVED
            kept = kept[-MAX_UNSAVED:]
        self._unsaved = kept

    def _prune(self, db: sqlite3.Connection, written: int) -> None:
        """Past ``max_rows``, delete the oldest rows (checked every thousand rows written)."""
        self._since_prune += written
        if self.max_rows is None or self._since_prune < 1000:
            return
        self._since_prune = 0
        with db:
            db.execute(
                "DELETE FROM callbacks WHERE id < (SELECT id FROM callbacks ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (self.max_rows - 1,),
            )

    @property
    def unsaved(self) -> int:
        """How many records wait in memory for the disk to take them."""
        return len(self._unsaved)

    @property
    def committed_count(self) -> int:
        """How many records the writer has handled so far (a cheap change signal for viewers)."""
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
            with contextlib.suppress(sqlite3.Error):
                self._release()
            self._pending.close(remove=not self._writer.is_alive() and not self._unsaved)

    # Reading --------------------------------------------------------------

    def rows(self, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        """Committed records as dicts, oldest first (flushes first)."""
        self.flush()
        with closing(self.connect()) as db:
            db.row_factory = sqlite3.Row
            for row in db.execute(f"SELECT * FROM callbacks {where} ORDER BY id", params):
                yield dict(row)

    def last_id(self) -> int:
        """The highest committed record id (0 for none): rows after it are the ones to come."""
        self.flush()
        with closing(self.connect()) as db:
            return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM callbacks").fetchone()[0])

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


#: Columns a record keeps from its arrival on: a later pending-log entry leaves them out.
_ARRIVAL = frozenset(
    {"session", "method", "path", "request_headers", "request_body", "simulated", "replay_of", "source"}
)

ANSWER_COLUMNS = [name for name in COLUMNS if name not in _ARRIVAL]
_ANSWER_VALUES = operator.attrgetter(*ANSWER_COLUMNS)


def _size(row: Record) -> int:
    return len(row.request_body or "") + len(str(row.request_headers or ""))


def _process_started() -> float:
    import psutil

    return float(psutil.Process().create_time())


def _process_alive(pid: int, started: float | None) -> bool:
    """Whether process ``pid`` is the one that started at ``started`` and still runs."""
    import psutil

    try:
        process = psutil.Process(pid)
        return started is None or abs(process.create_time() - started) < 1
    except psutil.Error:
        return False
