"""Handlers from Python: ``@sn.ice``, ``@sn.http("GET", "/status")``, ``@sn.stream("/echo")``, ``sn.handlers()``.

The decorators register on this kernel's session, as ``%%sinch`` cells do.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .functions import routing
from .functions.errors import RouteError
from .session import get_session

if TYPE_CHECKING:
    from .runtime.registry import Handler

__all__ = ["ace", "conversation", "dice", "handlers", "http", "ice", "notify", "on_call", "pie", "stream"]

F = TypeVar("F", bound=Callable[..., Any])


def _register(kind: str, function: F, key: str | None = None) -> F:
    origin = f"function {function.__module__}.{function.__qualname__}"
    key = key or kind
    # Keyed by route, not by function name: @sn.ice def handle, then @sn.pie def handle, keeps both.
    get_session().registry.register(kind, function, origin, key=key, defined_in=f"{origin} as {key}")
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


def stream(path: str) -> Callable[[F], F]:
    """Register ``async def handler(context, stream)`` for the media stream WebSocket at ``path`` (``sn.ws_url(path)``).

    ``await stream.answer()`` (or ``busy()`` / ``reject()``), then ``async for frame in stream.audio()``
    and ``await stream.send(pcm)``; ``clear()``, ``heartbeat()``, ``hangup()``. ``sn.export`` ships it:
    the Function serves it through ``setup(runtime)``'s ``onWebSocket`` (a prototype: see deployment/export.py).
    """
    key = routing.handler_key(routing.STREAM_KIND, path)

    def decorate(function: F) -> F:
        if not inspect.iscoroutinefunction(function):
            raise RouteError(
                f"@sn.stream({path!r}) needs an async def handler(context, stream): "
                f"{getattr(function, '__name__', function)!r} is not one"
            )
        return _register(routing.STREAM_KIND, function, key)

    return decorate


def on_call(
    *,
    incoming: Callable[..., Any] | None = None,
    answered: Callable[..., Any] | None = None,
    manage: Callable[..., Any] | None = None,
    completed: Callable[..., Any] | None = None,
    webhooks: dict[str, Callable[..., Any]] | None = None,
    fallback: Callable[..., Any] | None = None,
) -> None:
    """Voice API v2 handlers, as the Functions runtime's ``onCall({...})``: each ``f(context, call, builder)``.

    ``incoming`` ← call.incoming, ``answered`` ← call.answered, ``manage`` ← call.menu (and
    call.webhook.* no named handler takes), ``completed`` ← call.hangup / call.failed,
    ``webhooks={"NAME": f}`` ← call.webhook.NAME, ``fallback`` ← anything else. Return the
    builder, a ``{"commands": [...]}`` dict, or nothing (204).
    """
    slots = {"incoming": incoming, "answered": answered, "manage": manage, "completed": completed, "fallback": fallback}
    for kind, function in slots.items():
        if function is not None:
            _register(kind, function)
    for name, function in (webhooks or {}).items():
        _register("webhook", function, routing.handler_key("webhook", name))


def handlers() -> list[Handler]:
    """The registered handlers, voice first."""
    return get_session().registry.handlers()
