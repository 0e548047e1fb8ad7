"""A runtime: registry, settings, journal and server, kept across cell re-runs.

Starting twice returns the running server; stopping frees the port; ``shutdown``
stops it and commits the journal. The kernel's own session (``sinch_nb.session``)
builds on this one; tests and ``sinch_nb.testing`` make runtimes of their own.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..functions.secret import Secret
from ..functions.svaml import SvamlBuilder
from .registry import Registry
from .settings import Settings

if TYPE_CHECKING:  # the heavy parts (pydantic, starlette, uvicorn, sqlite) load on first use
    from ..journal import Journal
    from .app import CallbackApp
    from .report import ErrorReport, InProcessResponse
    from .server import Server

__all__ = ["Session"]


class Session:
    """Everything the notebook's runtime holds."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.settings = Settings()
        self.journal_path: Path | None = None
        self._journal: Journal | None = None
        self._app: CallbackApp | None = None
        self.server: Server | None = None
        #: The settings the user set by hand (``configure``): what sinch_nb finds (``adopt``) never replaces them.
        self.user_settings: set[str] = set()
        self._lock = threading.RLock()
        self._user_switch_interval: float | None = None

    @property
    def journal(self) -> Journal:
        """The journal, opened on first use (``./.sinch_nb/journal.db`` unless configured)."""
        with self._lock:
            if self._journal is None:
                from ..journal import Journal

                self._journal = Journal(self.journal_path, max_rows=self.settings.journal_max_rows)
            return self._journal

    @property
    def app(self) -> CallbackApp:
        """The ASGI app (also what the simulator and replay call)."""
        with self._lock:
            if self._app is None:
                from .app import CallbackApp

                self._app = CallbackApp(self.registry, self.journal, self.settings)
            return self._app

    def configure(self, **changes: Any) -> Settings:
        """Change settings (the user's own: ``adopt`` never replaces them); a running server uses them at once."""
        return self._change(changes, by_user=True)

    def adopt(self, **changes: Any) -> Settings:
        """Take settings sinch_nb found itself (credentials, a generated webhook secret), except those the user set."""
        return self._change({k: v for k, v in changes.items() if k not in self.user_settings}, by_user=False)

    def _change(self, changes: dict[str, Any], by_user: bool) -> Settings:
        with self._lock:
            if "journal" in changes:
                self._move_journal(changes.pop("journal"))
            known = {f.name for f in fields(Settings)}
            unknown = set(changes) - known
            if unknown:
                raise TypeError(
                    f"unknown setting {', '.join(sorted(unknown))}; settings are {', '.join(sorted(known))}"
                )
            if by_user:
                self.user_settings |= set(changes)
            if "fallback" in changes:
                changes["fallback"] = _checked_fallback(changes["fallback"])
            if "base_dir" in changes:
                changes["base_dir"] = Path(changes["base_dir"])
            for name in ("application_secret", "conversation_secret", "voice_service_secret"):
                if isinstance(changes.get(name), str):
                    changes[name] = Secret(changes[name])
            self.settings = replace(self.settings, **changes)
            if self._app is not None:
                self._app.settings = self.settings
            if self._journal is not None:
                self._journal.max_rows = self.settings.journal_max_rows
            if self.server is not None and self.server.running and "switch_interval" in changes:
                sys.setswitchinterval(self.settings.switch_interval)
            return self.settings

    def _move_journal(self, path: str | Path | None) -> None:
        """Journal to ``path`` from now on; a running server writes there from its next callback."""
        old, self._journal = self._journal, None
        self.journal_path = Path(path) if path is not None else None
        if self._app is not None:
            self._app.journal = self.journal
        if old is not None:
            old.close()

    def start(self, port: int | None = None, host: str = "127.0.0.1") -> Server:
        """Serve the handlers on ``host:port`` (a free port when None); idempotent."""
        with self._lock:
            if self.server is not None and self.server.running:
                same_port = port is None or port == self.server.port
                if same_port and host == self.server.host:
                    return self.server
                self.stop()
            from .server import Server

            self.server = Server(self.app, host=host, port=port or 0)
            self.server.start()
            if self._user_switch_interval is None:
                self._user_switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(self.settings.switch_interval)
            return self.server

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> InProcessResponse:
        """Send one request through the running runtime's pipeline, in process (started if needed)."""
        server = self.server if self.server is not None and self.server.running else self.start()
        result: InProcessResponse = server.call(self.app.answer(method, path, headers, body))
        return result

    def stop(self) -> bool:
        """Stop serving and free the port; True if a server was running."""
        with self._lock:
            server, self.server = self.server, None
            was_running = bool(server and server.running)
            if server is not None:
                server.stop()
            if self._user_switch_interval is not None:  # the user's own setting, as it was
                sys.setswitchinterval(self._user_switch_interval)
                self._user_switch_interval = None
            if self._journal is not None:
                self._journal.flush()
            return was_running

    def last_error(self) -> ErrorReport | None:
        """What went wrong in the most recent failed request, or None."""
        return self._app.last_error if self._app is not None else None

    def shutdown(self) -> None:
        """Stop serving, then commit and close the journal."""
        self.stop()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            self._app = None


def _checked_fallback(fallback: Any) -> dict[str, Any]:
    from ..contract import ContractError, validate_answer

    answer = fallback.build() if isinstance(fallback, SvamlBuilder) else fallback
    for kind in ("ice", "ace", "pie"):
        try:
            validate_answer(kind, answer)
        except ContractError as error:
            raise ValueError(f"the fallback must be valid for ICE, ACE and PIE alike: {error}") from None
    return dict(answer)
