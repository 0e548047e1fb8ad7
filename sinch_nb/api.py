"""The functions a notebook calls: ``sn.start()``, ``sn.dial()``, ``sn.callbacks()``, decorators.

Everything here works on the kernel's one session (``runtime.session.SESSION``).
Heavy libraries load on first call, not at import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .functions import routing
from .runtime.session import SESSION

if TYPE_CHECKING:
    import pandas as pd

    from .platform.clients import Clients
    from .platform.credentials import CredentialStore
    from .platform.linking import Linker
    from .runtime.app import ErrorReport
    from .runtime.registry import Handler
    from .runtime.server import Server
    from .runtime.settings import Settings
    from .tunnel.doctor import Doctor

__all__ = [
    "ace",
    "callback",
    "callbacks",
    "calls",
    "clients",
    "configure",
    "conversation",
    "dial",
    "dice",
    "doctor",
    "handlers",
    "http",
    "ice",
    "last_error",
    "notify",
    "pie",
    "start",
    "status",
    "stop",
    "text",
]

F = TypeVar("F", bound=Callable[..., Any])


def _register(kind: str, function: F, key: str | None = None) -> F:
    origin = f"function {function.__module__}.{function.__qualname__}"
    SESSION.registry.register(kind, function, origin, key=key)
    return function


def ice(function: F) -> F:
    """Register ``def handler(context, event)`` as the ICE handler (incoming call)."""
    return _register("ice", function)


def ace(function: F) -> F:
    """Register the ACE handler (the called party answered)."""
    return _register("ace", function)


def pie(function: F) -> F:
    """Register the PIE handler (the caller's menu input)."""
    return _register("pie", function)


def dice(function: F) -> F:
    """Register the DiCE handler (the call ended); its answer is ignored."""
    return _register("dice", function)


def notify(function: F) -> F:
    """Register the Notify handler (recordings, transcriptions, AMD)."""
    return _register("notify", function)


def conversation(function: F) -> F:
    """Register the Conversation webhook handler (SMS, WhatsApp, …) at ``/webhook/conversation``."""
    return _register("conversation", function)


def http(method: str, path: str) -> Callable[[F], F]:
    """Register ``def handler(context, request)`` as a custom endpoint, e.g. ``@sn.http("GET", "/status")``."""
    key = routing.handler_key("http", method, path)

    def decorate(function: F) -> F:
        return _register("http", function, key)

    return decorate


def _store() -> CredentialStore:
    from .platform.credentials import CredentialStore

    return CredentialStore(SESSION.settings.base_dir)


def _state_dir() -> Path:
    return SESSION.settings.base_dir / ".sinch_nb"


def _apply_credentials(insecure: bool) -> None:
    """Give the runtime the Voice App and webhook secrets found in env, ``.env`` or the keychain."""
    found = _store().credentials()
    changes: dict[str, Any] = {
        "application_key": found.application_key,
        "application_secret": found.application_secret,
        "conversation_secret": found.conversation_webhook_secret,
    }
    changes = {k: v for k, v in changes.items() if k not in SESSION.explicit}
    SESSION.configure(found=True, insecure=insecure, **changes)


def start(
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    tunnel: str | None = None,
    url: str | None = None,
    link: bool = True,
    insecure: bool = False,
) -> Server:
    """Serve the handlers on ``host:port`` (a free port when None); returns the runtime (``.url``).

    ``tunnel="ngrok"`` or ``"cloudflared"`` (or ``url=`` a public URL you have) makes it reachable
    from Sinch, and, with credentials set and ``link`` on, points the Voice App and a Conversation
    webhook at it until ``stop()``. With ``VOICE_APPLICATION_SECRET`` known, voice callbacks must
    be signed; ``insecure=True`` accepts unsigned ones (forged signatures are always refused).
    """
    from .tunnel import open_tunnel

    _apply_credentials(insecure)
    server = SESSION.start(port=port, host=host)
    SESSION.app.clients = clients()
    if tunnel is None and url is None:
        return server
    store = _store()
    opened = open_tunnel(tunnel or "none", server.port, lookup=store.lookup, state_dir=_state_dir(), url=url)
    server.public_url = opened.public_url if opened else None
    if opened is None:
        return server
    print(f"Public URL {opened.public_url}  ({opened.provider})")
    if link:
        _link(opened.public_url, store)
    return server


def _link(public_url: str, store: CredentialStore) -> None:
    import httpx

    from .platform.errors import PlatformError
    from .platform.linking import Linker

    global _LINKER
    _register_exit()
    _LINKER = Linker(_state_dir(), store.credentials(), store.lookup)
    try:
        messages = _LINKER.link(public_url)
    except (PlatformError, httpx.HTTPError) as error:
        messages = [f"Linking failed, the runtime keeps serving: {error}"]
    if _LINKER.webhook_secret is not None and "conversation_secret" not in SESSION.explicit:
        SESSION.configure(found=True, conversation_secret=_LINKER.webhook_secret)
    for message in messages:
        print(message)


_LINKER: Linker | None = None
_EXIT_REGISTERED = False


def _register_exit() -> None:
    global _EXIT_REGISTERED
    if not _EXIT_REGISTERED:
        import atexit

        atexit.register(_unlink_and_close)  # runs before the session's own shutdown (LIFO)
        _EXIT_REGISTERED = True


def _unlink_and_close() -> list[str]:
    from .tunnel import close_all

    global _LINKER
    messages = _LINKER.safe_restore() if _LINKER is not None else []
    _LINKER = None
    close_all()
    if SESSION.server is not None:
        SESSION.server.public_url = None
    return messages


def stop() -> bool:
    """Put the Voice App and webhooks back, close the tunnel, stop the runtime and free its port.

    True if the runtime was running.
    """
    for message in _unlink_and_close():
        print(message)
    return SESSION.stop()


def clients() -> Clients:
    """The Sinch clients the current credentials allow (``context.voice``, ``.conversation``, …)."""
    from .platform.clients import build_clients

    store = _store()
    return build_clients(store.credentials(), store.lookup)


def doctor() -> Doctor:
    """What works and what does not for a public URL, each failure with its fix."""
    from .tunnel.doctor import run_doctor

    server = SESSION.server
    return run_doctor(_store(), running_port=server.port if server and server.running else None)


def configure(**settings: Any) -> Settings:
    """Change runtime settings: ``handler_timeout``, ``fallback``, ``variables``, ``journal``, …"""
    return SESSION.configure(**settings)


def handlers() -> list[Handler]:
    """The registered handlers, voice first."""
    return SESSION.registry.handlers()


def status() -> dict[str, Any]:
    """Whether the runtime runs, where, with which handlers, and how many callbacks it journaled."""
    server = SESSION.server
    error = SESSION.last_error()
    return {
        "running": bool(server and server.running),
        "url": server.url if server and server.running else None,
        "public_url": server.public_url if server and server.running else None,
        "signatures": "checked" if SESSION.settings.application_secret else "not checked (no VOICE_APPLICATION_SECRET)",
        "handlers": [h.label for h in handlers()],
        "journal": str(SESSION.journal.path),
        "callbacks": SESSION.journal.count(),
        "last_error": f"#{error.record_id}: {error.error}" if error else None,
    }


def callbacks(
    kind: str | None = None, call_id: str | None = None, *, bodies: bool = False, styled: bool = False
) -> Any:
    """Every callback journaled (this session and earlier ones), one row each, as a DataFrame.

    ``bodies=True`` adds request headers and body, response body, traceback and logs;
    ``styled=True`` returns it styled for reading (failures tinted); ``sn.callback(id)`` gives
    one record whole.
    """
    from .journal.views import callbacks_frame
    from .journal.views import styled as style

    frame = callbacks_frame(SESSION.journal, kind=kind, call_id=call_id, bodies=bodies)
    return style(frame) if styled else frame


def callback(record_id: int) -> dict[str, Any]:
    """One journaled request, every field (headers JSON-decoded); KeyError if there is none."""

    row = SESSION.journal.get(record_id)
    if row is None:
        raise KeyError(f"no callback #{record_id} in {SESSION.journal.path}; sn.callbacks() lists them")
    for name in ("request_headers", "warnings", "logs"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def calls() -> pd.DataFrame:
    """One row per call: first and last seen, kinds in order, menu path, DiCE reason and result."""
    from .journal.views import calls_frame

    return calls_frame(SESSION.journal)


def dial(cli: str, to: str, press: Iterable[str | int] = (), *, custom: str = "") -> pd.DataFrame:
    """Place a simulated call through the runtime (started if needed); returns the transcript."""
    from .simulate.caller import dial as simulate_dial

    server = SESSION.server if SESSION.server and SESSION.server.running else SESSION.start()
    settings = SESSION.settings
    secret = settings.application_secret.reveal() if settings.application_secret else None
    key = settings.application_key or "sinch-nb-simulator"
    transcript = simulate_dial(
        server.url, cli, to, press, custom=custom, application_key=key, application_secret=secret
    )
    return transcript.to_frame()


def last_error() -> ErrorReport | None:
    """The most recent failed callback: handler, error and traceback."""
    return SESSION.last_error()


def _call_options() -> dict[str, Any]:
    settings = SESSION.settings
    secret = settings.application_secret.reveal() if settings.application_secret else None
    return {"application_key": settings.application_key or "sinch-nb-simulator", "application_secret": secret}


def text(message: str, from_: str = "+15551234567", channel: str = "SMS") -> dict[str, Any]:
    """A simulated contact sends ``message``: a MESSAGE_INBOUND webhook through the runtime; returns its record."""
    import httpx

    from .simulate.caller import http_transport
    from .simulate.messages import inbound_message, send

    server = SESSION.server if SESSION.server and SESSION.server.running else SESSION.start()
    secret = SESSION.settings.conversation_secret
    with httpx.Client(base_url=server.url, timeout=30) as client:
        send(http_transport(client), inbound_message(message, from_, channel), secret.reveal() if secret else None)
    SESSION.journal.flush()
    return dict(SESSION.journal.recent[-1])
