"""The routing table of a Sinch Function (reference/sinch-functions.md §2). Standard library only.

``POST /ice`` (or any path whose last segment is a voice kind) goes to that handler;
``POST /`` and ``POST /voice`` dispatch on the body's ``event``, since a Voice App has
one callback URL; ``POST /webhook/conversation`` goes to the Conversation handler;
custom endpoints match method and path exactly; ``GET /health`` is built in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import MethodNotAllowedError, RouteError, RouteNotFoundError

__all__ = [
    "CALL_KINDS",
    "HANDLER_KINDS",
    "STREAM_KIND",
    "VOICE_KINDS",
    "MethodNotAllowedError",
    "Resolution",
    "RouteNotFoundError",
    "call_slots",
    "export_name",
    "handler_key",
    "reserved",
    "resolve",
]

VOICE_KINDS = ("ice", "ace", "pie", "dice", "notify")
#: Voice API v2: the ``onCall`` slots of the Functions Node runtime (reference sinch-voice-v2.md §6).
CALL_KINDS = ("incoming", "answered", "manage", "completed", "webhook", "fallback")
#: A media stream's WebSocket route (``stream /path``): notebook only, no Sinch Function serves WebSockets.
STREAM_KIND = "stream"
HANDLER_KINDS = (*VOICE_KINDS, *CALL_KINDS, "conversation", "http", STREAM_KIND)
DISPATCH_PATHS = ("/", "/voice", "/webhook/voice")
CONVERSATION_PATH = "/webhook/conversation"
HEALTH_PATH = "/health"


@dataclass(frozen=True)
class Resolution:
    """Where a request goes: a handler kind (``voice`` = dispatch on the body) and, for http, its key."""

    kind: str
    key: str


def call_slots(event: str) -> tuple[str, ...]:
    """The ``onCall`` slots a v2 event goes to, most specific first (the first registered one answers).

    ``call.incoming`` → incoming; ``call.answered`` → answered; ``call.menu`` → manage;
    ``call.webhook.NAME`` → ``webhook NAME``, else manage; ``call.hangup`` / ``call.failed`` →
    completed; anything else (busy, rejected, timeout, amd, messages, recordings) → fallback,
    which also takes whatever its own slot has no handler for.
    """
    if event.startswith("call.webhook."):
        return (f"webhook {event.removeprefix('call.webhook.')}", "manage", "fallback")
    slot = {
        "call.incoming": "incoming",
        "call.answered": "answered",
        "call.menu": "manage",
        "call.hangup": "completed",
        "call.failed": "completed",
    }.get(event)
    return (slot, "fallback") if slot else ("fallback",)


def handler_key(kind: str, method: str | None = None, path: str | None = None) -> str:
    """A handler's registry key: its kind, ``"GET /status"`` (an endpoint), ``"webhook NAME"``, ``"stream /echo"``."""
    if kind == "webhook":
        name = method or ""
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise RouteError(
                f"a webhook handler needs the webhook's name (no spaces), e.g. %%sinch webhook {name or 'order'}"
            )
        return f"webhook {name}"
    if kind == STREAM_KIND:
        where = method or ""
        if not where.startswith("/") or any(c.isspace() or c in "?#" for c in where):
            raise RouteError(
                f"a stream handler needs the WebSocket path it answers (a /path, no query), "
                f"e.g. %%sinch stream /echo, not {where or '(nothing)'!r}"
            )
        return f"{STREAM_KIND} {normalise(where)}"
    if kind == "http":
        if not method or not path:
            raise ValueError("an http handler needs a method and a path, e.g. GET /status")
        why = reserved(path)
        if why is not None:
            raise RouteError(
                f"{method.upper()} {normalise(path)} cannot be a custom endpoint: {why}, signed by Sinch; "
                "an endpoint there would take them over, unchecked. Use another path, e.g. /api/status"
            )
        return f"{method.upper()} {normalise(path)}"
    return kind


def export_name(key: str) -> str:
    """The export the Node runtime routes to: ``ice``, ``conversationWebhook``, ``voiceWebhook``, a path's last part."""
    if key == "conversation":
        return "conversationWebhook"
    if key.split(" ", 1)[0] in CALL_KINDS:
        return "voiceWebhook"
    if key in VOICE_KINDS:
        return key
    segment = key.split(" ", 1)[1].rstrip("/").rsplit("/", 1)[-1]
    return segment or "home"


def normalise(path: str) -> str:
    """``path`` with a leading slash and no trailing one (except the root)."""
    path = "/" + path.lstrip("/")
    return path.rstrip("/") or "/"


def fixed_routes() -> list[str]:
    """The routes every runtime serves, whatever handlers exist."""
    voice = [f"POST /{kind}" for kind in VOICE_KINDS]
    return [*voice, *(f"POST {p}" for p in DISPATCH_PATHS), f"POST {CONVERSATION_PATH}", f"GET {HEALTH_PATH}"]


#: Path → (method, kind) of the routes that do not depend on handlers.
_FIXED: dict[str, tuple[str, str]] = {
    HEALTH_PATH: ("GET", "health"),
    CONVERSATION_PATH: ("POST", "conversation"),
    **dict.fromkeys(DISPATCH_PATHS, ("POST", "voice")),
}


def reserved(path: str) -> str | None:
    """Why ``path`` cannot be a custom endpoint (a route Sinch's signed callbacks use), or None."""
    path = normalise(path)
    if path in _FIXED:
        return f"{path} is where {_FIXED[path][1]} requests arrive"
    if path.rsplit("/", 1)[-1] in VOICE_KINDS:
        return f"paths ending in /{path.rsplit('/', 1)[-1]} carry Voice callbacks"
    if path.startswith("/webhook/"):
        return "/webhook/... paths carry Sinch's webhooks"
    if path.startswith("/sinch-nb/"):
        return "/sinch-nb/... paths are the simulated platform's own"
    return None


def resolve(method: str, path: str, custom: Iterable[str] = ()) -> Resolution:
    """Route ``method path``; ``custom`` holds the custom endpoint keys (``"GET /status"``)."""
    method, path = method.upper(), normalise(path)
    custom = custom if isinstance(custom, frozenset | set | list | tuple) else list(custom)
    key = f"{method} {path}"
    if key in custom:
        return Resolution("http", key)
    last = path.rsplit("/", 1)[-1]
    if path in _FIXED or last in VOICE_KINDS:
        allowed, kind = _FIXED.get(path, ("POST", last))
        if method == allowed or (allowed == "GET" and method == "HEAD"):
            return Resolution(kind, kind)
        raise MethodNotAllowedError(method, path, [allowed])
    same_path = sorted(k.split(" ", 1)[0] for k in custom if k.split(" ", 1)[1] == path)
    if same_path:
        raise MethodNotAllowedError(method, path, same_path)
    raise RouteNotFoundError(path, [*fixed_routes(), *sorted(custom)])
