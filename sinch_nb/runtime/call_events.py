"""Voice API v2 in the pipeline: a CloudEvent ``call.*`` webhook, checked, routed to its ``onCall`` slot, answered.

The steps mirror the v1 callback's (``app.py``), with v2's wire: the service signature
(``Authorization: service <id>:<sig>``, checked when ``VOICE_SERVICE_SECRET`` is known), the
CloudEvent headers (``ce-id`` journaled; a second delivery of one event gets the first answer,
the handler not run again), the strict event contract (``contract/voice_v2.py``), the slot
(``functions/routing.call_slots``), the handler called as ``f(context, call, builder)`` (cells
also get ``request``), and its return value as the answer: a builder or ``{"commands": [...]}``
is checked and sent with 200, nothing is 204. The answer rules live in
``functions/call_answers.py``, shared with the deployed Function's bridge.
"""

from __future__ import annotations

from typing import Any

from ..contract import ContractError
from ..contract.cloudevents import CloudEvent
from ..contract.voice_v2 import parse_v2_event, validate_v2_answer
from ..functions.call_answers import call_answer
from ..functions.calls import Call, parse_call
from ..functions.errors import SinchNbError
from ..journal.record import Record
from .refused import RefusedError

__all__ = ["answer_fields", "is_v2_request", "read_call"]


def is_v2_request(headers: dict[str, str]) -> bool:
    """Whether a request on the dispatch routes carries v2's marks: CloudEvent headers or a service signature."""
    return "ce-specversion" in headers or headers.get("authorization", "").startswith("service ")


def read_call(payload: Any, record: Record, event: CloudEvent) -> Call:
    """The handler's ``call``, after the strict contract; what it says of the call goes on ``record``."""
    try:
        parse_v2_event(payload)
        call = parse_call(payload)
    except (ContractError, SinchNbError) as error:
        raise RefusedError(400, str(error)) from None
    menu = call.menu
    record.update(
        kind=call.event,
        ce_id=event.id,
        call_id=call.call_id,
        cli=call.from_.address if call.from_ is not None else None,
        destination=call.to.address if call.to is not None else None,
        menu_id=menu.menu_name if menu is not None else None,
        menu_result_value=menu.input if menu is not None else None,
        result=call.call_result,
        reason=call.call_reason,
        duration=call.raw.get("call", {}).get("callDurationSeconds"),
    )
    return call


def answer_fields(result: Any, event: str, webhook_url: str) -> tuple[dict[str, Any] | None, list[str]]:
    """A handler's return value as the answer to send (None: 204) and its warnings; raises what is wrong."""
    answer = call_answer(result, event, webhook_url)  # the rules the deployed Function applies too
    if answer is None:
        return None, []
    return answer, validate_v2_answer(answer, event)
