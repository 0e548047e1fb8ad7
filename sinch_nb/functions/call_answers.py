"""A Voice API v2 handler's answer: the rules the notebook runtime and the deployed Function share.

Which handler an event reaches (``routing.call_slots``), what it is called with
(``(context, call, builder)``, plus ``request`` when it takes four), its return value as the
answer (a builder or ``{"commands": [...]}``, checked, with webhook URLs filled in; nothing is
204), and what the caller gets when there is no handler or it fails (``FALLBACK_V2`` on live
events, 204 on the others). Standard library only: it ships inside the Function.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Protocol

from . import routing
from .calls import Call
from .commands import as_answer, commands, webhook_url_for
from .errors import AnswerError
from .http import HttpRequest

__all__ = [
    "FALLBACK_V2",
    "call_answer",
    "handler_arguments",
    "is_live",
    "no_handler_answer",
    "pick_handler",
    "webhook_url",
]

#: What the caller hears when a v2 handler fails: an apology, then the call ends (as the v1 fallback).
FALLBACK_V2: dict[str, Any] = commands().say("Sorry, something went wrong. Goodbye.").hangup().build()

#: Answers the platform reads only in the answer to ``call.incoming``.
_INCOMING_ONLY = ("callName", "events")


class Handlers(Protocol):
    """Handlers by route key: a dict, or the notebook's registry."""

    def get(self, key: str, /) -> Any: ...


#: The events whose answer the platform waits on, besides every ``call.webhook.NAME``.
LIVE_EVENTS = ("call.incoming", "call.answered", "call.menu")


def is_live(event: str) -> bool:
    """Whether the platform waits on the answer to ``event`` (the call goes on with its commands)."""
    return event in LIVE_EVENTS or event.startswith("call.webhook.")


def pick_handler(handlers: Handlers, event: str) -> tuple[str, Any] | None:
    """The ``onCall`` slot that takes ``event`` and its handler: the most specific one registered, or None."""
    for slot in routing.call_slots(event):
        handler = handlers.get(slot)
        if handler is not None:
            return slot, handler
    return None


def no_handler_answer(event: str) -> dict[str, Any] | None:
    """What the platform gets when no slot takes ``event``: the fallback for ``call.incoming``, else 204 (None)."""
    return FALLBACK_V2 if event == "call.incoming" else None


def webhook_url(headers: Mapping[str, str]) -> str:
    """Where ``webhook(name)`` commands without a ``url`` post: this server's ``/webhook/voice``, as called."""
    lower = {k.lower(): v for k, v in headers.items()}
    return f"{lower.get('x-forwarded-proto', 'http')}://{lower.get('host', 'localhost')}/webhook/voice"


def handler_arguments(function: Any, context: Any, call: Call, request: HttpRequest) -> tuple[Any, ...]:
    """``(context, call, builder)``, and ``request`` for a handler that takes four (a ``%%sinch`` cell does)."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        count = 3
    builder = commands(call)
    return (context, call, builder, request) if count >= 4 else (context, call, builder)


def call_answer(result: Any, event: str, url: str) -> dict[str, Any] | None:
    """A handler's return value as the answer to ``event`` (None: 204); raises what is wrong with it.

    Checked as ``commands.check_answer`` checks (Sinch's published limits), and ``callName`` /
    ``events`` refused outside the answer to ``call.incoming`` (the platform ignores them there).
    """
    with webhook_url_for(url):
        answer = as_answer(result, webhook_url=url)
    if answer is None:
        return None
    if event != "call.incoming":
        for name in _INCOMING_ONLY:
            if name in answer:
                raise AnswerError(
                    f"not a valid Voice API v2 answer: field {name}: only the answer to call.incoming may set it, "
                    f"and this answers {event} (Sinch ignores it here); name a new leg with dial's callName, "
                    "or run commands on its hangup with dial's events.onHangup"
                )
    return answer
