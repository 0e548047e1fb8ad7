"""Replaying captured calls in pytest: what ``sn.to_pytest`` writes imports this.

replayer = CallReplayer(MODULES, HANDLERS, tmp_path)
status, answer = replayer.send(callback)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .runtime.session import Session
from .runtime.sources import register_sources

__all__ = ["CallReplayer"]


class CallReplayer:
    """A runtime of its own with the given handlers, journaling under ``folder``."""

    def __init__(self, modules: list[str], handlers: list[dict[str, Any]], folder: Path) -> None:
        self.session = Session()
        self.session.configure(journal=folder / "journal.db", base_dir=folder)
        register_sources(self.session.registry, modules, handlers)

    def send(self, callback: dict[str, Any]) -> tuple[int, Any]:
        """Answer one captured callback; returns the status and the parsed answer (None if empty)."""
        headers = {"content-type": "application/json", "x-sinch-nb-simulated": "1"}
        result = self.session.request(callback["method"], callback["path"], headers, callback["body"].encode())
        return result.status, json.loads(result.body) if result.body else None

    def close(self) -> None:
        """Stop the runtime."""
        self.session.shutdown()
