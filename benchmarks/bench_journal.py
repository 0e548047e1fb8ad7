"""The journal at scale: capture cost per callback, and callbacks() over 100,000 of them.

Targets (issue 2): capture <= 0.3 ms per callback; callbacks() over 100,000 <= 1 s.
Baselines, same run: a bare SQLite executemany of the same rows; a bare
pandas.read_sql_query of the same table. Issue 15: the cost of durability, what the runtime
does per callback (appended to the pending log on arrival and again when answered), against
the plain capture measured in the same run.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pandas as pd
from _common import ICE_BODY, report

from sinch_nb.journal import Journal
from sinch_nb.journal.record import Record
from sinch_nb.journal.store import COLUMNS
from sinch_nb.journal.views import callbacks_frame

N = 100_000
#: What the runtime learns only once the handler has answered.
ANSWER = {"status", "response_body", "svaml_action", "svaml_instructions", "latency_ms", "outcome"}


def record(n: int) -> dict[str, object]:
    return {
        "time": time.time(),
        "method": "POST",
        "path": "/ice",
        "kind": ("ice", "pie", "dice")[n % 3],
        "call_id": f"call-{n // 3}",
        "cli": "+15551234567",
        "destination": "+15559876543",
        "request_headers": {"host": "127.0.0.1", "content-type": "application/json", "authorization": "x y"},
        "request_body": ICE_BODY,
        "handler": "ice v1 (cell [3])",
        "handler_version": 1,
        "status": 200,
        "response_body": ICE_BODY,
        "svaml_action": "runMenu",
        "svaml_instructions": ["say"],
        "latency_ms": 1.0,
        "outcome": "ok",
        "simulated": 1,
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    records = [record(n) for n in range(N)]

    journal = Journal(folder / "journal.db")
    started = time.perf_counter()
    for item in records:
        journal.append(item)
    journal.flush()
    capture_ms = (time.perf_counter() - started) / N * 1000

    names = list(COLUMNS)
    rows = [[json.dumps(r[k]) if isinstance(r.get(k), dict | list) else r.get(k) for k in names] for r in records]
    with closing(sqlite3.connect(folder / "bare.db")) as db:
        db.execute(f"CREATE TABLE callbacks ({', '.join(f'{k} {v}' for k, v in COLUMNS.items())})")
        started = time.perf_counter()
        with db:
            db.executemany(f"INSERT INTO callbacks VALUES ({', '.join('?' for _ in names)})", rows)
        bare_ms = (time.perf_counter() - started) / N * 1000
    report("capture cost per callback", capture_ms, "ms", "<= 0.3", capture_ms <= 0.3, f"bare insert {bare_ms:.4f} ms")

    durable = Journal(folder / "durable.db")
    started = time.perf_counter()
    for item in records:
        arrived = Record.of({k: v for k, v in item.items() if k not in ANSWER})
        durable.append(arrived, durable=True)
        arrived.update(**{k: v for k, v in item.items() if k in ANSWER})
        durable.append(arrived, durable=True)
    durable.flush()
    durable_ms = (time.perf_counter() - started) / N * 1000
    durable.close()
    ratio = f"ratio {durable_ms / capture_ms:.2f}x plain capture ({durable_ms - capture_ms:+.4f} ms)"
    report("durable capture per callback (arrival + answer)", durable_ms, "ms", "<= 0.3", durable_ms <= 0.3, ratio)

    started = time.perf_counter()
    frame = callbacks_frame(journal)
    view_s = time.perf_counter() - started
    assert len(frame) == N
    with closing(sqlite3.connect(folder / "journal.db")) as db:
        started = time.perf_counter()
        pd.read_sql_query(f"SELECT {', '.join(frame.reset_index().columns)} FROM callbacks ORDER BY id", db)
        bare_s = time.perf_counter() - started
    started = time.perf_counter()
    assert len(callbacks_frame(journal, bodies=True)) == N
    report(f"callbacks(bodies=True) over {N:,}", time.perf_counter() - started, "s", "(info)", True)
    report(
        f"callbacks() over {N:,}", view_s, "s", "<= 1", view_s <= 1, f"ratio {view_s / bare_s:.2f}x bare read_sql_query"
    )
    journal.close()


if __name__ == "__main__":
    main()
