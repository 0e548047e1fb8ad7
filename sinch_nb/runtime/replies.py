"""What the runtime sends back: SVAML, a fallback, a refusal, a plain 200, a custom endpoint's answer.

Each helper notes on the record what it answered and returns the response.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from ..functions.answers import http_answer
from ..journal.record import Record
from .refused import RefusedError

__all__ = [
    "DEFAULT_ACE",
    "commands_reply",
    "fallback",
    "health",
    "http_reply",
    "informational",
    "refuse",
    "svaml_reply",
]

#: What Sinch's own default for an unhandled ACE is: carry on.
DEFAULT_ACE: dict[str, Any] = {"action": {"name": "continue"}}

#: On ``/health`` answers: this is a sinch_nb runtime (``platform.linking`` asks before taking a Voice App).
RUNTIME_HEADER = "x-sinch-nb-runtime"

#: The kinds Sinch reads an SVAML answer from.
SVAML_KINDS = ("ice", "ace", "pie")


def svaml_reply(answer: dict[str, Any], record: Record) -> Response:
    """An SVAML answer, its action and instructions noted for the journal's columns."""
    action = answer.get("action") or {}
    record.svaml_action = action.get("name")
    record.svaml_instructions = [item.get("name") for item in answer.get("instructions", [])] or None
    body = json.dumps(answer)
    record.response_body = body
    return Response(body, media_type="application/json")


def commands_reply(answer: dict[str, Any], record: Record) -> Response:
    """A Voice API v2 answer ``{"commands": [...]}``, its command names noted for the journal's columns."""
    names = [str(item.get("command")) for item in answer.get("commands", []) if isinstance(item, dict)]
    record.svaml_action = names[-1] if names else None
    record.svaml_instructions = names or None
    body = json.dumps(answer)
    record.response_body = body
    return Response(body, media_type="application/json")


def fallback(record: Record, answer: dict[str, Any]) -> Response:
    """When the handler failed: the caller still gets valid SVAML (``answer``), the rest a plain status."""
    if record.kind in SVAML_KINDS:
        return svaml_reply(answer, record)
    if record.kind in ("dice", "notify", "conversation"):
        return Response(status_code=200)
    return JSONResponse({"error": "the handler failed; see sn.last_error() in the notebook"}, status_code=500)


def informational(kind: str, result: Any, record: Record) -> Response:
    """DiCE, Notify and Conversation answers: 200, a JSON body only where Sinch reads one."""
    record.outcome = "ok"
    if kind == "conversation" and isinstance(result, dict | list):
        body = json.dumps(result)
        record.response_body = body
        return Response(body, media_type="application/json")
    if result is not None:
        record.warnings = [f"{kind.upper()} answers are not read by Sinch; sent 200 with an empty body"]
    return Response(status_code=200)


#: How much of a refused request's body the journal keeps, in characters.
REFUSED_BODY_KEPT = 64 * 1024


def refuse(refusal: RefusedError, record: Record) -> Response:
    """A 4xx whose JSON body names the fix; the journal keeps the first 64 Ki characters of the refused body."""
    record.update(outcome="rejected", error=str(refusal))
    body = record.request_body
    if body is not None and len(body) > REFUSED_BODY_KEPT:
        record.request_body = f"{body[:REFUSED_BODY_KEPT]}… [cut: {len(body)} characters, {REFUSED_BODY_KEPT} kept]"
    if refusal.signature is not None:
        record.signature = refusal.signature
    body = json.dumps({"error": str(refusal), **refusal.extra})
    record.response_body = body
    return Response(body, status_code=refusal.status, media_type="application/json", headers=refusal.headers)


def repeat(
    first: int | None, answer: tuple[int, bytes, str | None], record: Record, why: str = "the same signature"
) -> Response:
    """An exact repeat of callback ``first``, answered before: the same answer, the handler not run."""
    status, body, media_type = answer
    record.update(outcome="repeat", replay_of=first, status=status)
    record.warnings = [f"an exact repeat of #{first} ({why}): answered as it was, the handler not run again"]
    record.response_body = body.decode("utf-8", errors="replace") or None
    return Response(body, status_code=status, media_type=media_type)


def health(handlers: list[str] | None) -> Response:
    """``GET /health``: alive, and (to local requests) with which handlers."""
    body = {"status": "ok"} if handlers is None else {"status": "ok", "handlers": handlers}
    return JSONResponse(body, headers={RUNTIME_HEADER: "1"})  # how another notebook knows a Voice App is held


def http_reply(result: Any, record: Record) -> Response:
    """A custom endpoint's return value as an HTTP response (Node's ``{statusCode, body}`` too)."""
    status, headers, media_type, body = http_answer(result)
    response = Response(body, status_code=status, headers=headers or None, media_type=media_type)
    record.response_body = bytes(response.body).decode("utf-8", errors="replace")
    return response
