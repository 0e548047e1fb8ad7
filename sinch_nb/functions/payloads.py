"""A callback body read as Sinch posts it (JSON, an object, a known event), with the one 400 message both runtimes give.

Standard library only: the notebook runtime refuses with these messages, and the deployed
Function's bridge answers them, so a malformed body gets the same 400 in both.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .errors import SinchNbError
from .events import voice_kind

__all__ = ["MalformedCallbackError", "callback_kind", "read_json"]


class MalformedCallbackError(SinchNbError, ValueError):
    """A body Sinch never posts: answered with 400 and this message, before any handler runs."""

    status = 400


def read_json(body: bytes | str) -> Any:
    """The body as JSON; Sinch posts every callback as JSON, a few levels deep."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedCallbackError(f"body is not JSON ({error}); Sinch posts callbacks as JSON") from None
    except RecursionError:
        raise MalformedCallbackError(
            f"JSON nested deeper than {sys.getrecursionlimit()} levels refused; Sinch callbacks nest a few levels"
        ) from None


def callback_kind(route: str, payload: Any) -> str:
    """The handler kind: the route's, or for ``POST /`` (route ``voice``) the Voice callback's ``event``."""
    if not isinstance(payload, dict):
        raise MalformedCallbackError(f"a callback body is a JSON object, got {type(payload).__name__}")
    if route != "voice":
        return route
    found = voice_kind(payload)
    if found is None:
        raise MalformedCallbackError(
            f"POST / needs a Voice callback whose 'event' is ice, ace, pie, dice or notify "
            f"(got {str(payload.get('event'))[:40]!r})"
        )
    return found
