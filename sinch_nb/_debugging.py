"""Debugging from Python: ``sn.replay()``, ``diff()``, ``to_pytest()`` and the live ``monitor()``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    from .notebook.monitor import Monitor
    from .runtime.replay import Diff, Replay

__all__ = ["diff", "monitor", "replay", "to_pytest"]


def replay(record_id: int, body: Any = None) -> Replay:
    """Send callback ``record_id`` again through the runtime (``body`` replaces its body); journaled as a replay."""
    from .runtime.replay import replay as run_replay

    return run_replay(get_session(), record_id, body)


def diff(record_id: int) -> Diff:
    """Replay callback ``record_id`` and compare today's answer with the one it got then."""
    from .runtime.replay import diff as run_diff

    return run_diff(get_session(), record_id)


def to_pytest(call_id: str, path: str | Path) -> Path:
    """Write a pytest file that replays call ``call_id`` and asserts today's answers."""
    from .testing import write_pytest

    session = get_session()
    return write_pytest(session.journal, session.registry, call_id, path)


def monitor() -> Monitor:
    """The live callback monitor (re-running the cell replaces the previous one)."""
    from .notebook.monitor import Monitor

    session = get_session()
    if session.monitor is not None:
        session.monitor.close()
    session.monitor = Monitor(session)
    return session.monitor
