"""A handler's return value, shaped for the wire: the one rule the notebook runtime and the
deployed Function share. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import svaml
from .errors import AnswerError
from .http import HttpResponse
from .rules import ALLOWED, DISPUTED

__all__ = ["DEFAULT_FALLBACK", "AnswerError", "http_answer", "svaml_answer"]

#: What a caller hears when the handler fails: valid for ICE, ACE and PIE alike.
DEFAULT_FALLBACK: dict[str, Any] = {
    "instructions": [
        {"name": "say", "text": "Sorry, something went wrong. Please call again later.", "locale": "en-US"}
    ],
    "action": {"name": "hangup"},
}


def svaml_answer(kind: str, result: Any) -> dict[str, Any]:
    """The SVAML dict an ICE/ACE/PIE handler's result stands for (a builder of the right event, or a dict)."""
    if isinstance(result, svaml.SvamlBuilder):
        if result.event != kind:
            raise AnswerError(
                f"the {kind.upper()} handler returned a {result.event.upper()} builder; start it with svaml.{kind}()"
            )
        return result.build()
    if isinstance(result, dict):
        names = [i.get("name") for i in result.get("instructions", [])] + [(result.get("action") or {}).get("name")]
        refused = [n for n in names if n and n not in ALLOWED[kind] and n not in DISPUTED[kind]]
        if refused:
            raise AnswerError(f"{refused[0]} is not allowed in {kind.upper()} answers")
        return result
    raise AnswerError(
        f"the {kind.upper()} handler returned {type(result).__name__}; return svaml.{kind}()... or a SVAML dict"
    )


def http_answer(result: Any) -> tuple[int, dict[str, str], str | None, bytes]:
    """A custom endpoint's result as (status, headers, content type, body); Node's ``{statusCode, body}`` too."""
    status, headers = 200, {}
    if isinstance(result, HttpResponse):
        status, headers, result = result.status_code, dict(result.headers), result.body
    elif isinstance(result, Mapping) and "statusCode" in result:
        status, headers, result = int(result["statusCode"]), dict(result.get("headers") or {}), result.get("body")
    if isinstance(result, svaml.SvamlBuilder):
        result = result.build()
    if result is None:
        return (204 if status == 200 else status), headers, None, b""
    if isinstance(result, bytes):
        return status, headers, "application/octet-stream", result
    if isinstance(result, str):
        return status, headers, "text/plain", result.encode()
    return status, headers, "application/json", json.dumps(result).encode()
