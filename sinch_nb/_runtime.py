"""The runtime from Python: ``sn.start()``, ``stop()``, ``status()``, ``configure()``, clients, the last error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    from .platform.clients import Clients
    from .runtime.report import ErrorReport, NoError
    from .runtime.server import Server
    from .runtime.settings import Settings
    from .tunnel.doctor import Doctor

__all__ = ["clients", "configure", "doctor", "last_error", "start", "status", "stop", "ws_url"]


def start(
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    tunnel: str | None = None,
    url: str | None = None,
    link: bool = True,
    insecure: bool = False,
    force: bool = False,
) -> Server:
    """Serve the handlers on ``host:port`` (a free port when None); returns the runtime (``.url``).

    ``tunnel="ngrok"`` or ``"cloudflared"`` (or ``url=`` a public URL you have) makes it reachable
    from Sinch, and, with credentials set and ``link`` on, points the Voice App and a Conversation
    webhook at it until ``stop()``. With ``VOICE_APPLICATION_SECRET`` known, voice callbacks must
    be signed; ``insecure=True`` accepts unsigned ones (forged signatures are always refused).
    ``force=True`` takes over a Voice App another notebook's runtime holds.
    """
    session = get_session()
    server, messages = session.serve(port, host, tunnel=tunnel, url=url, link=link, insecure=insecure, force=force)
    for message in messages:
        print(message)
    return server


def stop() -> bool:
    """Stop serving (callbacks in flight finish), put the Voice App and webhooks back, close the tunnel.

    True if the runtime was running.
    """
    was_running, messages = get_session().close()
    for message in messages:
        print(message)
    return was_running


def clients() -> Clients:
    """The Sinch clients the current credentials allow (``context.voice``, ``.conversation``, …)."""
    return get_session().clients()


def doctor() -> Doctor:
    """What works and what does not for a public URL, each failure with its fix."""
    from .tunnel.doctor import run_doctor

    session = get_session()
    server = session.server
    return run_doctor(
        session.credential_store(),
        running_port=server.port if server and server.running else None,
        streams=session.stream_check(probe=True),
    )


def configure(**settings: Any) -> Settings:
    """Change runtime settings: ``handler_timeout``, ``fallback``, ``variables``, ``journal``, …"""
    return get_session().configure(**settings)


def status() -> dict[str, Any]:
    """Whether the runtime runs, where, with which handlers, and how many callbacks it journaled."""
    session = get_session()
    server = session.server
    running = bool(server and server.running)
    error = session.last_error()
    streams = session.stream_check()
    return {
        "running": running,
        "url": server.url if server and running else None,
        "public_url": server.public_url if server and running else None,
        "streams": (streams.detail + (f"; fix: {streams.fix}" if streams.fix else "")) if streams else None,
        "signatures": signature_checks(session.settings),
        "handlers": [h.label for h in session.registry.handlers()],
        "journal": str(session.journal.path),
        "journal_problem": session.journal.problem,
        "callbacks": session.journal.count(),
        "last_error": f"#{error.record_id}: {error.error}" if error else None,
    }


def ws_url(path: str) -> str:
    """The URL the platform opens a media stream at: ``wss://<public host>/path`` through a tunnel (or ``--url``),
    else ``ws://127.0.0.1:<port>/path``; ``ServerError`` when the runtime is not running."""
    from .functions import routing
    from .functions.errors import ServerError
    from .tunnel.doctor import websocket_url

    server = get_session().server
    if server is None or not server.running:
        raise ServerError("the runtime is not running, so a stream has no URL yet: sn.start() (or %sinch start) first")
    return websocket_url(server.public_url or server.url, routing.normalise(path))


def signature_checks(settings: Settings) -> dict[str, str]:
    """What the runtime checks, per family of routes: what ``status()`` and ``%sinch start`` say."""
    voice = "checked" if settings.application_secret else "not checked (no VOICE_APPLICATION_SECRET)"
    if settings.application_secret and settings.insecure:
        voice = "forged refused, unsigned accepted (--insecure)"
    webhook = "checked" if settings.conversation_secret else "not checked (no CONVERSATION_WEBHOOK_SECRET)"
    return {"voice": voice, "webhook": webhook, "custom endpoints": "open: your handler checks what it needs"}


def last_error() -> ErrorReport | NoError:
    """The most recent failed callback: handler, error and traceback (a falsy ``NoError`` that says so, if none)."""
    from .runtime.report import NoError

    return get_session().last_error() or NoError()
