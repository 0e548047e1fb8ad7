"""How a live widget follows the journal: a daemon thread that redraws when new rows are committed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..runtime.session import Session

__all__ = ["follow_journal"]


def follow_journal(
    session: Session, refresh: Callable[[], None], stop: threading.Event, *, interval: float, name: str, seen: int = -1
) -> None:
    """Call ``refresh`` every ``interval`` s the journal has committed rows since the last call, until ``stop`` is set.

    It reads the journal's commit count, never the server thread, so a redraw costs nothing
    while nothing happens; ``seen`` is the count the widget has already drawn.
    """

    def poll() -> None:
        last = seen
        while not stop.wait(interval):
            committed = session.journal.committed_count
            if committed != last:
                last = committed
                refresh()

    threading.Thread(target=poll, name=name, daemon=True).start()
