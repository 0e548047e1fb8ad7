"""Answered but missing after the kernel is killed at full load: the figure issue 15 asks to be 0.

A runtime in a child process (tests/runtime_child.py) under as much load as 8 clients make,
killed with SIGKILL mid-stream; the journal is reopened as the next start would, and every
callback that got a 200 is looked for. Baseline, same run: the same with the pending log off
(the journal's writer alone), which shows the window the log closes.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, report

sys.path.insert(0, str(ROOT / "tests"))
from test_nothing_lost import Child, _load  # the test's child runtime and load sender

from sinch_nb.journal import Journal


def missing_after_kill(folder: Path, durable: bool) -> tuple[int, int]:
    child = Child(folder / "journal.db", None, *([] if durable else ["--not-durable"]))
    answered: list[str] = []
    stop = threading.Event()
    senders = [threading.Thread(target=_load, args=(child.url, answered, stop, f"t{n}")) for n in range(8)]
    for sender in senders:
        sender.start()
    time.sleep(2)
    child.kill()
    stop.set()
    for sender in senders:
        sender.join(timeout=30)
    Journal(folder / "journal.db").close()
    with sqlite3.connect(folder / "journal.db") as db:
        journaled = {row[0] for row in db.execute("SELECT call_id FROM callbacks")}
    return len(set(answered) - journaled), len(answered)


def main() -> None:
    without, sent_without = missing_after_kill(Path(tempfile.mkdtemp()), durable=False)
    missing, sent = missing_after_kill(Path(tempfile.mkdtemp()), durable=True)
    report(
        "answered but missing after SIGKILL at full load",
        missing,
        "callbacks",
        "== 0",
        missing == 0,
        f"of {sent:,} answered; without the pending log {without} of {sent_without:,}",
    )


if __name__ == "__main__":
    main()
