"""Agent processes sinch_nb started, recorded so that the next kernel can end what a crash left behind.

Only processes recorded here, still running the recorded program and started when recorded,
are ever signalled: never an unknown process that happens to hold a port or reuse a pid. psutil
finds them on every OS (reading ``/proc`` left macOS and Windows agents running after a crash).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import psutil

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
    entry: dict[str, object] = {"pid": pid, "program": Path(program).name, "owner": owner or os.getpid()}
    with contextlib.suppress(psutil.Error):
        entry["started"] = psutil.Process(pid).create_time()
    entries.append(entry)
    _save(state_dir, entries)


def forget(state_dir: Path, pid: int) -> None:
    """The process ended cleanly: drop its record."""
    _save(state_dir, [e for e in _load(state_dir) if e.get("pid") != pid])


def _process(pid: int, program: str, started: object) -> psutil.Process | None:
    """The recorded agent, if it still runs the recorded program (and began when recorded): never another."""
    try:
        process = psutil.Process(pid)
        if isinstance(started, int | float) and abs(process.create_time() - started) > 1:
            return None  # the pid was reused
        names = [process.name(), *(Path(part).name for part in process.cmdline()[:2])]
    except psutil.Error:
        return None
    return process if program in names else None


def _end(process: psutil.Process) -> None:
    """End the agent (its process group on POSIX: it was started in a session of its own)."""
    with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()


def reap(state_dir: Path) -> list[int]:
    """End recorded agents whose kernel is gone (found through psutil, on every OS); returns the pids ended."""
    ended, kept = [], []
    for entry in _load(state_dir):
        pid, program, owner = int(str(entry["pid"])), str(entry["program"]), int(str(entry.get("owner", 0)))
        if owner and (owner == os.getpid() or psutil.pid_exists(owner)):
            kept.append(entry)  # this kernel's, or another live kernel's: not ours to end
            continue
        process = _process(pid, program, entry.get("started"))
        if process is not None:
            _end(process)
            ended.append(pid)
    _save(state_dir, kept)
    return ended
