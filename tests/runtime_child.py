"""A runtime in a process of its own, for tests about killing or flooding it.

    python runtime_child.py JOURNAL_PATH [--not-durable]

Serves an ICE handler that hangs up, ``POST /die`` whose handler ends the process at once
(``os._exit``, as the OOM killer would), ``POST /crash`` (a real segfault), ``POST /hang``
(a handler that never returns; the timeout is 2 s) and ``POST /exit`` (the main thread shuts
the runtime down and returns, as a kernel does on shutdown); prints the URL, then serves.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path

from sinch_nb import svaml
from sinch_nb.runtime.session import Session


def _not_durable() -> None:
    """The journal without its pending log: the writer alone (a baseline for bench_crash.py)."""
    from sinch_nb.journal.store import Journal

    append = Journal.append
    Journal.append = lambda self, record, durable=False: append(self, record)  # type: ignore[method-assign]


def main() -> None:
    if "--not-durable" in sys.argv:
        _not_durable()
    journal = Path(sys.argv[1])
    session = Session()
    session.configure(journal=journal, base_dir=journal.parent, handler_timeout=2.0)
    leave = threading.Event()
    session.registry.register("ice", lambda context, event: svaml.ice().say("Hi").hangup(), "ice")
    session.registry.register("http", lambda context, request: os._exit(1), "die", key="POST /die")
    session.registry.register("http", lambda context, request: ctypes.string_at(0), "crash", key="POST /crash")
    session.registry.register("http", lambda context, request: threading.Event().wait(), "hang", key="POST /hang")
    session.registry.register("http", lambda context, request: leave.set(), "exit", key="POST /exit")
    server = session.start()
    print(server.url, flush=True)
    leave.wait()
    session.shutdown()


if __name__ == "__main__":
    main()
