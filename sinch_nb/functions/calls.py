"""Voice API v2 call events: the ``call`` a v2 handler receives.

A ``call.*`` webhook body is ``{event, call: {...}, menu?}``. ``Call`` reads it flattened, as
the Functions Node runtime hands it to ``onCall`` handlers::

    call.event            # "call.incoming", "call.menu", "call.webhook.menu-selection", ...
    call.call_id          # call.callId
    call.from_.number     # "+14155552671" (PHONE), or .endpoint / .display_name (SIP)
    call.to.type          # "PHONE", "SIP", "STREAM", "VOICE_RELAY"
    call.direction, call.call_result, call.call_reason, call.call_name
    call.menu.menu_name, call.menu.input      # on call.menu and on webhooks raised in a menu
    call.raw              # the body as received

Unknown keys are kept and readable (``call.session_id``, ``call.bridge_name``,
``call.some_new_field`` finds ``someNewField`` in ``call`` or the body); a documented field
the body left out reads as None. A body that is not a v2 call event, or whose fields have the
wrong type, raises ``EventError`` naming every field that is wrong. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .errors import EventError
from .events import View, _event_html, _snake

__all__ = [
    "EVENTS",
    "WEBHOOK_PREFIX",
    "Call",
    "EventError",
    "MenuInput",
    "Party",
    "is_call_event",
    "parse_call",
]

#: Every event name the OAS lists; ``call.webhook.<webhookName>`` comes on top.
EVENTS = (
    "call.incoming",
    "call.answered",
    "call.busy",
    "call.rejected",
    "call.timeout",
    "call.hangup",
    "call.failed",
    "call.amd.human",
    "call.amd.machine",
    "call.amd.beep",
    "call.amd.unknown",
    "call.message.finished",
    "call.recording.finished",
    "call.recording.failed",
    "call.menu",
)
WEBHOOK_PREFIX = "call.webhook."

#: Fields of the ``call`` resource (reference §1); absent ones read as None.
CALL_FIELDS = frozenset(
    {
        "callId",
        "projectId",
        "serviceId",
        "sessionId",
        "callName",
        "bridgeName",
        "batchId",
        "from",
        "to",
        "startTime",
        "updateTime",
        "answerTime",
        "endTime",
        "callDurationSeconds",
        "callType",
        "direction",
        "callResult",
        "callReason",
        "originationType",
        "callRate",
        "callResourceUrl",
    }
)

_STRING_FIELDS = (
    "callId",
    "projectId",
    "serviceId",
    "sessionId",
    "callName",
    "bridgeName",
    "batchId",
    "callType",
    "direction",
    "callResult",
    "callReason",
    "originationType",
    "startTime",
    "updateTime",
    "answerTime",
    "endTime",
    "callResourceUrl",
)

#: The key that carries each party type's details.
_DETAIL_KEYS = {"PHONE": "phone", "SIP": "sip", "STREAM": "stream", "VOICE_RELAY": "voiceRelay"}


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Party(View):
    """One end of a call (``call.from_``, ``call.to``): ``type`` and ``number``, or a SIP/stream ``endpoint``."""

    FIELDS = frozenset({"type", "phone", "sip", "stream", "voiceRelay"})

    def _details(self) -> Mapping[str, Any]:
        key = _DETAIL_KEYS.get(str(self.raw.get("type")))
        if key is None:  # no (known) type: the details key present says it
            key = next((k for k in _DETAIL_KEYS.values() if isinstance(self.raw.get(k), Mapping)), "")
        details = self.raw.get(key)
        return details if isinstance(details, Mapping) else {}

    @property
    def type(self) -> str | None:
        """``PHONE``, ``SIP``, ``STREAM`` or ``VOICE_RELAY`` (inferred from the details key when absent)."""
        value = self.raw.get("type")
        if isinstance(value, str):
            return value
        return next((t for t, k in _DETAIL_KEYS.items() if isinstance(self.raw.get(k), Mapping)), None)

    @property
    def number(self) -> str | None:
        """The E.164 number of a PHONE party, else None."""
        value = self._details().get("number")
        return value if isinstance(value, str) else None

    @property
    def endpoint(self) -> str | None:
        """The address of a SIP, STREAM or VOICE_RELAY party (``sip:alice@…``, ``wss://…``), else None."""
        value = self._details().get("endpoint")
        return value if isinstance(value, str) else None

    @property
    def display_name(self) -> str | None:
        """A SIP caller's display name, else None."""
        value = self._details().get("displayName")
        return value if isinstance(value, str) else None

    @property
    def address(self) -> str | None:
        """The number, or else the endpoint: what to show for this party."""
        return self.number or self.endpoint

    def __str__(self) -> str:
        return self.address or ""


class MenuInput(View):
    """What a menu collected: ``menu_name`` and the caller's ``input``."""

    FIELDS = frozenset({"menuName", "input"})

    @property
    def menu_name(self) -> str:
        """The menu the input was collected in."""
        return str(self.raw["menuName"])

    @property
    def input(self) -> str:
        """The keys the caller pressed (a terminating sequence included)."""
        return str(self.raw["input"])


def _problems(payload: object) -> list[str]:
    if not isinstance(payload, Mapping):
        return [f"the body is a {_kind(payload)}, expected a JSON object"]
    problems = []
    event = payload.get("event")
    if not isinstance(event, str):
        problems.append("'event' is missing" if event is None else f"'event' is a {_kind(event)}, expected a string")
    elif not event.startswith("call."):
        problems.append(f"'event' is {event!r}; Voice API v2 events start with 'call.'")
    call = payload.get("call")
    if not isinstance(call, Mapping):
        problems.append("'call' is missing" if call is None else f"'call' is a {_kind(call)}, expected an object")
    else:
        for key in _STRING_FIELDS:
            if key in call and not isinstance(call[key], str):
                problems.append(f"call.{key} is a {_kind(call[key])}, expected a string")
        duration = call.get("callDurationSeconds")
        if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
            problems.append(f"call.callDurationSeconds is a {_kind(duration)}, expected an integer")
        for key in ("from", "to"):
            problems += _party_problems(f"call.{key}", call[key]) if key in call else []
    if "menu" in payload and payload["menu"] is not None:
        menu = payload["menu"]
        if not isinstance(menu, Mapping):
            problems.append(f"'menu' is a {_kind(menu)}, expected an object with menuName and input")
        else:
            for key in ("menuName", "input"):
                if not isinstance(menu.get(key), str):
                    problems.append(
                        f"menu.{key} is missing"
                        if key not in menu
                        else f"menu.{key} is a {_kind(menu[key])}, expected a string"
                    )
    return problems


def _party_problems(where: str, party: object) -> list[str]:
    if not isinstance(party, Mapping):
        return [f"{where} is a {_kind(party)}, expected an object with type and phone/sip"]
    problems = []
    kind = party.get("type")
    if kind is not None and not isinstance(kind, str):
        problems.append(f"{where}.type is a {_kind(kind)}, expected a string")
    for key in _DETAIL_KEYS.values():
        details = party.get(key)
        if key in party and not isinstance(details, Mapping):
            problems.append(f"{where}.{key} is a {_kind(details)}, expected an object")
        elif isinstance(details, Mapping):
            for field in ("number", "endpoint", "displayName"):
                if field in details and not isinstance(details[field], str):
                    problems.append(f"{where}.{key}.{field} is a {_kind(details[field])}, expected a string")
    return problems


def is_call_event(payload: object) -> bool:
    """Whether ``payload`` is shaped like a Voice API v2 webhook: an ``event`` ``call.*`` and a ``call`` object."""
    return (
        isinstance(payload, Mapping)
        and isinstance(payload.get("event"), str)
        and payload["event"].startswith("call.")
        and isinstance(payload.get("call"), Mapping)
    )


class Call(View):
    """A Voice API v2 webhook body, flattened: the ``call`` a v2 handler receives."""

    kind: ClassVar[str] = "call"
    FIELDS = CALL_FIELDS | {"event", "menu"}

    def __init__(self, raw: Mapping[str, Any]) -> None:
        problems = _problems(raw)
        if problems:
            raise EventError("not a Voice API v2 call event: " + "; ".join(problems))
        super().__init__(raw)

    def _resource(self) -> Mapping[str, Any]:
        resource: Mapping[str, Any] = self.raw["call"]
        return resource

    def _find(self, wire: str) -> tuple[bool, Any]:
        found, value = View(self._resource())._find(wire)
        return (found, value) if found else super()._find(wire)

    def _attributes(self) -> set[str]:
        names = {_snake(key) for key in self._resource()} | super()._attributes()
        return (names - {"call"}) | {"call_id", "from_", "webhook_name"}

    def _text(self, key: str) -> str | None:
        value = self._resource().get(key)
        return value if isinstance(value, str) else None

    @property
    def event(self) -> str:
        """The wire event name: ``call.incoming``, ``call.hangup``, ``call.webhook.<name>``, …"""
        return str(self.raw["event"])

    @property
    def call_id(self) -> str | None:
        """``call.callId`` (a ULID)."""
        return self._text("callId")

    @property
    def from_(self) -> Party | None:
        """Who called (``call.from``)."""
        party = self._resource().get("from")
        return Party(party) if isinstance(party, Mapping) else None

    @property
    def to(self) -> Party | None:
        """Who was called (``call.to``)."""
        party = self._resource().get("to")
        return Party(party) if isinstance(party, Mapping) else None

    @property
    def direction(self) -> str | None:
        """``INBOUND`` or ``OUTBOUND``."""
        return self._text("direction")

    @property
    def call_result(self) -> str | None:
        """``INITIATED``, ``IN_PROGRESS``, ``COMPLETED``, ``BUSY``, ``NO_ANSWER``, ``FAILED``, …"""
        return self._text("callResult")

    @property
    def call_reason(self) -> str | None:
        """Why the call ended: ``CALLER_HANGUP``, ``CALLEE_HANGUP``, ``NOT_AVAILABLE``, ``ERROR``, …"""
        return self._text("callReason")

    @property
    def call_name(self) -> str | None:
        """The leg's name, when an answer or a dial named it."""
        return self._text("callName")

    @property
    def menu(self) -> MenuInput | None:
        """The menu and its input (``call.menu``, and webhooks raised inside a menu), else None."""
        menu = self.raw.get("menu")
        return MenuInput(menu) if isinstance(menu, Mapping) else None

    @property
    def webhook_name(self) -> str | None:
        """``NAME`` of a ``call.webhook.NAME`` event (dots kept), else None."""
        prefix = "call.webhook."
        return self.event[len(prefix) :] if self.event.startswith(prefix) else None

    def __repr__(self) -> str:
        parties = " → ".join(str(p) for p in (self.from_, self.to) if p is not None)
        return f"Call({self.event} {self.call_id or '?'}{' ' + parties if parties else ''})"

    def _repr_html_(self) -> str:
        menu = self.menu
        fields = {
            "call": self.call_id,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "result": self.call_result,
            "reason": self.call_reason,
            "name": self.call_name,
            "menu": f"{menu.menu_name}: {menu.input}" if menu else None,
        }
        return _event_html(self.event, fields)


def parse_call(payload: Mapping[str, Any]) -> Call:
    """The ``Call`` view of a v2 webhook body; ``EventError`` names every field that is wrong."""
    return Call(payload)
