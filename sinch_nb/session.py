"""The one session per kernel: runtime, journal, registry, tunnels, links, clients, widgets, workshop.

Everything that lives as long as the kernel hangs off the object ``get_session()``
returns, and leaves through one path, ``shutdown()``, in a fixed order: stop accepting
callbacks, let the ones in flight finish, put the Voice App and webhook back, close the
tunnels, then commit and close the journal. ``reset_session()`` gives tests a fresh one.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .runtime.session import Session
from .simulate.model import PlatformModel
from .tunnel import Tunnels

if TYPE_CHECKING:
    from .notebook.chatpad import Chatpad
    from .notebook.monitor import Monitor
    from .platform.clients import Clients
    from .platform.credentials import CredentialStore
    from .platform.linking import Linker
    from .runtime.server import Server
    from .tunnel.doctor import Check, Probe

__all__ = ["SIMULATOR_KEY", "KernelSession", "get_session", "reset_session"]

#: The Voice App key simulated callbacks are signed with when no real key is configured.
SIMULATOR_KEY = "sinch-nb-simulator"


class Stoppable(Protocol):
    """Background work the session must end on shutdown (a log follower)."""

    def stop(self) -> None: ...


class KernelSession(Session):
    """The runtime ``Session`` plus what faces the outside: tunnels, links, clients, widgets."""

    def __init__(self) -> None:
        super().__init__()
        self.tunnels = Tunnels()
        self.linker: Linker | None = None
        self.monitor: Monitor | None = None
        self.chatpad: Chatpad | None = None
        #: Background work the session ends on stop (``sn.logs(follow=True)`` handles).
        self.followers: list[Stoppable] = []
        #: Whether ``workshop.solution(n)`` shows and loads solutions.
        self.workshop_solutions = False
        #: The last WebSocket probe through the public URL: (that URL, what it found).
        self._stream_probe: tuple[str, Probe] | None = None
        #: The simulated platform's rules (``sn.simulation()``; ``docs/simulation.md``).
        self.simulation = PlatformModel()
        #: Who is placing simulated traffic when it is not the user (``making``): the journal's ``source``.
        self.maker: str | None = None
        self._noticed: str | None = None

    # Credentials and clients ---------------------------------------------------

    def credential_store(self) -> CredentialStore:
        """Credentials from the environment, ``.env`` in the notebook folder, or the keychain."""
        from .platform.credentials import CredentialStore

        return CredentialStore(self.settings.base_dir)

    @property
    def state_dir(self) -> Path:
        """``.sinch_nb/`` in the notebook folder: links to restore, tunnel agents to reap."""
        return self.settings.base_dir / ".sinch_nb"

    def clients(self) -> Clients:
        """The Sinch clients the current credentials allow (``context.voice``, ``.conversation``, …)."""
        from .platform.clients import build_clients

        store = self.credential_store()
        return build_clients(store.credentials(), store.lookup)

    def apply_credentials(self, insecure: bool) -> None:
        """Give the runtime the Voice App and webhook secrets found, unless the user set them by hand."""
        store = self.credential_store()
        found = store.credentials()
        changes: dict[str, Any] = {
            "application_key": found.application_key,
            "application_secret": found.application_secret,
            "conversation_secret": found.conversation_webhook_secret,
            "voice_service_id": store.lookup("VOICE_SERVICE_ID")[0],
            "voice_service_secret": store.lookup("VOICE_SERVICE_SECRET")[0],
        }
        self.adopt(insecure=insecure, **changes)

    def simulator_options(self) -> dict[str, Any]:
        """How simulated calls reach this runtime: signed with its key and secret, as the platform would, and marked."""
        secret = self.settings.application_secret
        return {
            "application_key": self.settings.application_key or SIMULATOR_KEY,
            "application_secret": secret.reveal() if secret else None,
            "marker": self.app.marker,
            "source": self.maker,
        }

    @contextmanager
    def making(self, source: str) -> Iterator[None]:
        """Simulated traffic made inside is journaled with ``source`` (explorer, workshop), hidden by default."""
        previous, self.maker = self.maker, source
        try:
            yield
        finally:
            self.maker = previous

    # Lifecycle -----------------------------------------------------------------

    def start(self, port: int | None = None, host: str = "127.0.0.1") -> Server:
        """Serve the handlers (``runtime.session.Session.start``), with the simulated platform's APIs beside them."""
        server = super().start(port=port, host=host)
        self._simulated_platform(server)
        return server

    def _simulated_platform(self, server: Server) -> None:
        """Mount the simulated Conversation, SMS and Calling APIs and the clients simulated requests get."""
        from .platform.clients import simulated_clients
        from .simulate.local_platform import PREFIX, LocalPlatform

        app = self.app
        platform = app.platform
        if not isinstance(platform, LocalPlatform) or platform.journal is not self.journal:
            platform = app.platform = LocalPlatform(self.journal, lambda: self.running().url, app.marker)

        def webhook_secret() -> str | None:
            secret = self.settings.conversation_secret
            return secret.reveal() if secret is not None else None

        platform.webhook_secret = webhook_secret
        platform.callback_options = self.simulator_options  # a callout's callbacks: signed as dial's are
        platform.model = lambda: self.simulation
        built: Future[Clients] = Future()  # the SDK takes ~0.6 s to build: not on sn.start's time

        def build() -> None:
            try:
                url = server.url + PREFIX
                built.set_result(simulated_clients(url, platform.key_id, platform.key_secret, platform.voice_secret))
            except BaseException as error:  # the first simulated request reports it
                built.set_exception(error)

        threading.Thread(target=build, name="sinch_nb-simulated-clients", daemon=True).start()
        app.simulated_clients = built

    def running(self) -> Server:
        """The running runtime; started on a free port if it is not running, and said so."""
        server = self.server
        if server is not None and server.running:
            return server
        server = self.start()
        print(f"sinch_nb: the runtime was not running; started it at {server.url} (%sinch stop stops it)")
        return server

    def serve(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        tunnel: str | None = None,
        url: str | None = None,
        link: bool = True,
        insecure: bool = False,
        force: bool = False,
    ) -> tuple[Server, list[str]]:
        """Start the runtime, and with ``tunnel``/``url`` a public URL linked to the Voice App; returns messages.

        Running already on another port or host, it refuses (naming how to move): moving under an
        open tunnel and a linked Voice App would leave both pointing at the old port.
        """
        current = self.server
        if current is not None and current.running and (port not in (None, current.port) or host != current.host):
            from .functions.errors import ServerError

            raise ServerError(
                f"the runtime already serves at {current.url}; to move it to {host}:{port or 'a free port'}, "
                f"%sinch stop (sn.stop()) first, then start it again"
            )
        self.apply_credentials(insecure)
        server = self.start(port=port, host=host)
        self.app.clients = self.clients()
        if tunnel is None and url is None:
            return server, []
        store = self.credential_store()
        opened = self.tunnels.open(
            tunnel or "none", server.port, lookup=store.lookup, state_dir=self.state_dir, url=url
        )
        server.public_url = opened.public_url if opened else None
        if opened is None:
            return server, []
        messages = [f"Public URL {opened.public_url}  ({opened.provider})"]
        streams = self.stream_check(probe=True)
        if streams is not None:
            messages.append(f"media streams: {streams.detail}" + (f"; fix: {streams.fix}" if streams.fix else ""))
        if link:
            messages += self._link(opened.public_url, store, force)
        return server, messages

    def stream_check(self, probe: bool = False) -> Check | None:
        """Whether the public URL carries the stream handlers' WebSockets (None without stream handlers).

        ``probe=True`` opens a WebSocket through the public URL to find out (``%sinch start``, the
        doctor); otherwise the last probe of the same URL answers (``sn.status()``).
        """
        from .functions.routing import STREAM_KIND
        from .tunnel.doctor import Probe, stream_check, websocket_url

        paths = [h.key.split(" ", 1)[1] for h in self.registry.handlers() if h.kind == STREAM_KIND]
        server = self.server
        running = server is not None and server.running
        tunnel = self.tunnels.get(server.port) if server is not None and running else None
        public_url = server.public_url if server is not None and running else None
        if probe and paths and public_url is not None:
            from .runtime.stream_probe import probe as open_probe

            self._stream_probe = (public_url, Probe(*open_probe(self.app, websocket_url(public_url, ""))))
        found = self._stream_probe
        return stream_check(
            paths,
            running_url=server.url if server is not None and running else None,
            public_url=public_url,
            provider=tunnel.provider if tunnel is not None else None,
            probe=found[1] if found is not None and found[0] == public_url else None,
        )

    def _link(self, public_url: str, store: CredentialStore, force: bool) -> list[str]:
        import httpx

        from .functions.errors import PlatformError
        from .platform.linking import Linker

        self.linker = Linker(self.state_dir, store.credentials(), store.lookup)
        try:
            messages = self.linker.link(public_url, force=force)
        except (PlatformError, httpx.HTTPError) as error:
            messages = [f"Linking failed, the runtime keeps serving: {error}"]
        if self.linker.webhook_secret is not None:
            self.adopt(conversation_secret=self.linker.webhook_secret)
        return messages

    def stop(self) -> bool:
        """Stop serving (in-flight callbacks finish), restore links, close tunnels; True if it was running."""
        return self.close()[0]

    def close(self, *, journal: bool = False) -> tuple[bool, list[str]]:
        """The one shutdown path, in order; ``journal=True`` also closes the journal (kernel exit)."""
        with self._lock:
            was_running = super().stop()  # stops accepting, lets callbacks in flight finish, restores the interval
            linker, self.linker = self.linker, None
            messages = linker.safe_restore() if linker is not None else []
            self.tunnels.close_all()
            if journal:
                for follower in self.followers:
                    follower.stop()
                self.followers.clear()
                if self.monitor is not None:
                    self.monitor.close()
                    self.monitor = None
                if self.chatpad is not None:
                    self.chatpad.close()
                    self.chatpad = None
            if self._journal is not None:
                self._journal.flush()
                if journal:
                    self._journal.close()
                    self._journal = None
                    self._app = None
            return was_running, messages

    def journal_notice(self) -> str | None:
        """What to tell the user about the journal, once per new problem (a full or locked disk)."""
        journal = self._journal
        problem = journal.problem if journal is not None else None
        if problem is None or problem == self._noticed:
            self._noticed = problem
            return None
        self._noticed = problem
        waiting = f"; {journal.unsaved} callbacks wait in memory" if journal is not None and journal.unsaved else ""
        return f"sinch_nb: {problem}{waiting}. Free the disk or close what holds the file; %sinch status shows it"

    def shutdown(self) -> None:
        """Everything, in order (interpreter exit, kernel shutdown or restart, ``reset_session``)."""
        self.close(journal=True)


_SESSION: KernelSession | None = None
_SESSION_LOCK = threading.Lock()


def get_session() -> KernelSession:
    """This kernel's session, made on first use; its ``shutdown`` runs at interpreter exit."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = KernelSession()
            atexit.register(_shutdown)
        session = _SESSION
    notice = session.journal_notice()
    if notice:  # every sn.* call goes through here: a journal that cannot write is never silent
        print(notice, file=sys.stderr)
    return session


def reset_session() -> KernelSession:
    """Shut the current session down and start a fresh one (tests; a clean slate in a notebook)."""
    global _SESSION
    with _SESSION_LOCK:
        old, _SESSION = _SESSION, None
    if old is not None:
        old.shutdown()
        atexit.unregister(_shutdown)
    return get_session()


def _shutdown() -> None:
    if _SESSION is not None:
        _SESSION.shutdown()
