"""Agent processes sinch_nb started, recorded so that the next kernel can end what a crash left behind.

Only processes recorded here, still running the recorded program, are ever signalled:
never an unknown process that happens to hold a port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

__all__ = ["forget", "reap", "record"]


def _file(state_dir: Path) -> Path:
    return state_dir / "tunnels.json"


def _load(state_dir: Path) -> list[dict[str, object]]:
    try:
        return list(json.loads(_file(state_dir).read_text()))
    except (OSError, ValueError):
        return []


def _save(state_dir: Path, entries: list[dict[str, object]]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    _file(state_dir).write_text(json.dumps(entries))


def record(state_dir: Path, pid: int, program: str, owner: int | None = None) -> None:
    """Remember that this kernel (``owner``, default this process) started ``program`` as ``pid``."""
    entries = [e for e in _load(state_dir) if e.get("pid") != pid]
    entries.append({"pid": pid, "program": Path(program).name, "owner": owner or os.getpid()})
    _save(state_dir, entries)


def forget(state_dir: Path, pid: int) -> None:
    """The process ended cleanly: drop its record."""
    _save(state_dir, [e for e in _load(state_dir) if e.get("pid") != pid])


def _running(pid: int, program: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(Path(part.decode(errors="replace")).name == program for part in cmdline[:2])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(state_dir: Path) -> list[int]:
    """End recorded agents whose kernel is gone; returns the pids ended."""
    ended, kept = [], []
    for entry in _load(state_dir):
        pid, program, owner = int(str(entry["pid"])), str(entry["program"]), int(str(entry.get("owner", 0)))
        if owner and owner != os.getpid() and _alive(owner):
            kept.append(entry)  # another live kernel's agent: not ours to end
            continue
        if owner == os.getpid():
            kept.append(entry)
            continue
        if _running(pid, program):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)  # started in its own session: pid is the group id
            ended.append(pid)
    _save(state_dir, kept)
    return ended
