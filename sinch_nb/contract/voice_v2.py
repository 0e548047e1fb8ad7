"""Voice API v2 on the wire, strictly: the webhook event and its answer (reference/sinch-voice-v2.md §1–§4, §9).

    event = parse_v2_event(body)                  # V2Event, or ContractError naming the field and the fix
    warnings = validate_v2_answer(answer, event.event)   # [] or what Sinch would do unexpectedly

The event is ``{event, call, menu?}`` (the ``call`` resource, ``from``/``to`` told apart by
``type``); the answer is ``{commands: [...], callName?, events?: {onHangup}}``. The official SDK
(``sinch`` 2.3.0, ``SinchEvents().parse_event`` and ``VoiceSinchEventResponse``) agrees with these
models on every fixture in ``tests/fixtures/sinch/v2`` (``tests/test_v2_contract.py``).

How strict, and where the sources disagree (§9), decided here:

- **Events: types strict, presence lenient.** Whatever is present must have its type: strings are
  strings, enums are the OAS enums (``callResult``, ``callReason``, ``direction``, ``callType``,
  ``originationType``), ``from``/``to`` carry a known ``type`` and its object, times are RFC 3339,
  ``callRate.amount`` a decimal string, the event name one the OAS lists or
  ``call.webhook.<name>``, and ``call.menu`` carries ``menu``. But only ``event`` and
  ``call.callId`` are required, where the SDK requires the eleven fields the OAS marks required:
  the OAS's own signing example (signed, so real traffic in shape) is ``{event, call: {callId}}``,
  the tutorials document abbreviated events, and an event refused with a 400 is a dropped call,
  while a handler reading a field that is absent just gets ``None``. ``V2Event.missing_fields()``
  lists what the OAS would want, and ``parse_v2_event(..., complete=True)`` demands it all (for the
  simulator and tests: what sinch_nb makes must be complete). A body without ``callId`` (the
  tutorials' local smoke test) or a ``from`` without ``type`` is refused: no platform sends it.
- **Formats are not checked on events** (ULIDs, UUIDs, E.164, absolute ``callResourceUrl``): the
  SDK does not check them either, the SDK's mock server sends a relative ``callResourceUrl``, and
  a handler could do nothing better with a refusal. Unknown keys are kept (Sinch adds fields).
- **``call.webhook.<name>`` stays the wire name.** The Python and Java SDKs rename it
  ``call.customEvent.<name>`` after parsing; that name on the wire is refused with the fix.
- **Answers: everything checked**, because an answer Sinch refuses drops the call too and its fix
  is in the handler's hands: unknown commands and fields are refused (with a "did you mean"), so
  are values outside the OAS limits (names 1–32 characters without spaces, ``webhookName`` 1–64,
  menu names 1–16, 1–10 messages, ``say.text`` ≤ 600, timeouts, repeat counts, E.164 numbers,
  ``sip:``/``ws:`` endpoints, ≤ 50 matches that compile as patterns), a ``startMenu`` or
  ``gotoMenu`` naming no menu, and ``callName``/``events`` in the answer to any event but
  ``call.incoming`` (the platform ignores them there, §2).
- **``{"commands": []}`` is accepted** without a warning: the schema says ``minItems: 1``, but
  the OAS prose, the Python SDK and every tutorial's acknowledgement use the empty list (§9.7).
- **Warnings, not errors**: the Python SDK 2.3.0's menu ``onFailure`` (the platform reads
  ``onFail``, so that handler never runs; §3); a ``hangup`` right after a ``messages`` (it does not
  wait, the message is cut; ``events.onFinish`` does); ``gotoMenu`` outside a menu; a voice name
  the SDK's catalogue does not know (Sinch adds voices).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ..functions.calls import EVENTS, WEBHOOK_PREFIX
from .errors import ContractError
from .voices_v2 import VOICES

__all__ = [
    "EVENTS",
    "REQUIRED_CALL_FIELDS",
    "V2Answer",
    "V2Event",
    "parse_v2_event",
    "validate_v2_answer",
]


#: The ``call`` fields the OAS marks required (the SDK's required set too).
REQUIRED_CALL_FIELDS = (
    "callId",
    "projectId",
    "serviceId",
    "sessionId",
    "startTime",
    "callType",
    "direction",
    "callResult",
    "originationType",
    "callRate",
    "callResourceUrl",
)

_NO_SPACE = r"^\S+$"
_E164 = r"^\+[1-9]\d{1,14}$"
_SIP = r"^sips?:"
_WS = r"^wss?://"
_HTTP = r"^https?://\S+$"
_RECORDING_URL = r"^(s3|gs|azure)://\S+$"
_DTMF_SEQUENCE = r"^[0-9*#]+$"
_DECIMAL = r"^-?\d+(\.\d{1,4})?$"
_HEADER_TEXT = r"^[\x20-\x7e\t]*$"

#: What each pattern means, for the error message.
_PATTERNS = {
    _NO_SPACE: "without spaces",
    _E164: "an E.164 number such as +15551234567",
    _SIP: "a sip: or sips: URI",
    _WS: "a ws:// or wss:// URL",
    _HTTP: "an absolute http(s):// URL",
    _RECORDING_URL: "an s3://, gs:// or azure:// URL",
    _DTMF_SEQUENCE: "digits, * and # only",
    _DECIMAL: 'a decimal string with at most 4 decimals, such as "0.0060"',
    _HEADER_TEXT: "printable ASCII",
}


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("a time is an RFC 3339 string such as 2025-06-01T10:00:00Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an RFC 3339 time such as 2025-06-01T10:00:00Z") from None


def _event_name(value: str) -> str:
    if value in EVENTS:
        return value
    if value.startswith(WEBHOOK_PREFIX):
        name = value[len(WEBHOOK_PREFIX) :]
        if 1 <= len(name) <= 64 and not re.search(r"\s", name):
            return value
        raise ValueError(
            f"{value[:80]!r}: the name after call.webhook. is the webhook command's webhookName, "
            "1-64 characters without spaces"
        )
    if value.startswith("call.customEvent."):
        raise ValueError(
            f"{value[:80]!r} is the Python and Java SDKs' name after parsing; "
            f"on the wire it is {WEBHOOK_PREFIX}{value[len('call.customEvent.') :]}"
        )
    raise ValueError(
        f"{value[:80]!r} is not a Voice API v2 event; Sinch sends call.incoming, call.answered, "
        "call.menu, call.hangup, ... or call.webhook.<name> (v1 callbacks have ice/ace/pie/dice)"
    )


Text = Annotated[str, Field(min_length=1)]
Time = Annotated[datetime, BeforeValidator(_time)]
EventName = Annotated[str, AfterValidator(_event_name)]


# ---------------------------------------------------------------------------------------------
# The event Sinch posts: unknown keys kept, types strict, only event and call.callId required.


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)


class PhoneNumber(_Wire):
    number: Text


class SipAddress(_Wire):
    endpoint: Text
    displayName: str | None = None


class Endpoint(_Wire):
    endpoint: Text


class PhoneParty(_Wire):
    type: Literal["PHONE"]
    phone: PhoneNumber


class SipParty(_Wire):
    type: Literal["SIP"]
    sip: SipAddress


class StreamParty(_Wire):
    type: Literal["STREAM"]
    stream: Endpoint


class RelayParty(_Wire):
    type: Literal["VOICE_RELAY"]
    voiceRelay: Endpoint


Origin = Annotated[PhoneParty | SipParty, Field(discriminator="type")]
Party = Annotated[PhoneParty | SipParty | StreamParty | RelayParty, Field(discriminator="type")]


class CallRate(_Wire):
    currencyCode: Text
    amount: Annotated[str, Field(pattern=_DECIMAL)]


class Call(_Wire):
    """The ``call`` resource as of the event (OAS ``call``)."""

    callId: Text
    projectId: str | None = None
    serviceId: str | None = None
    sessionId: str | None = None
    callName: str | None = None
    bridgeName: str | None = None
    batchId: str | None = None
    from_: Origin | None = Field(default=None, alias="from")
    to: Party | None = None
    startTime: Time | None = None
    updateTime: Time | None = None
    answerTime: Time | None = None
    endTime: Time | None = None
    callDurationSeconds: Annotated[int, Field(ge=0)] | None = None
    callType: Literal["PHONE", "SIP", "STREAM", "VOICE_RELAY"] | None = None
    direction: Literal["INBOUND", "OUTBOUND"] | None = None
    callResult: (
        Literal["QUEUED", "INITIATED", "IN_PROGRESS", "COMPLETED", "REJECTED", "NO_ANSWER", "CANCEL", "BUSY", "FAILED"]
        | None
    ) = None
    callReason: (
        Literal[
            "OK",
            "NOT_AVAILABLE",
            "CALLER_HANGUP",
            "CALLEE_HANGUP",
            "MANAGER_HANGUP",
            "DID_NOT_FOUND",
            "INVALID_SCRIPT",
            "UNKNOWN_PRODUCT",
            "NO_MORE_ROUTES",
            "ERROR",
        ]
        | None
    ) = None
    originationType: Literal["PHONE", "SIP", "SERVER"] | None = None
    callRate: CallRate | None = None
    callResourceUrl: Text | None = None


class MenuInput(_Wire):
    """``menu``: on ``call.menu``, and on ``call.webhook.*`` raised inside a menu."""

    menuName: Text
    input: str


class V2Event(_Wire):
    """A Voice API v2 webhook request body: ``{event, call, menu?}``."""

    event: EventName
    call: Call
    menu: MenuInput | None = Field(default=None, validate_default=True)

    @field_validator("menu")
    @classmethod
    def _menu_on_call_menu(cls, value: MenuInput | None, info: ValidationInfo) -> MenuInput | None:
        if value is None and info.data.get("event") == "call.menu":
            raise ValueError('call.menu carries the menu\'s result: add "menu": {"menuName": ..., "input": ...}')
        return value

    @property
    def webhook_name(self) -> str | None:
        """For ``call.webhook.<name>``, the name (the webhook command's ``webhookName``); else ``None``."""
        return self.event[len(WEBHOOK_PREFIX) :] if self.event.startswith(WEBHOOK_PREFIX) else None

    def missing_fields(self) -> list[str]:
        """The ``call`` fields the OAS requires and this event lacks, as ``call.<field>``."""
        return [f"call.{name}" for name in REQUIRED_CALL_FIELDS if name not in self.call.model_fields_set]


# ---------------------------------------------------------------------------------------------
# The answer: {commands, callName?, events?}. Nothing unknown, every OAS limit.


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


Name32 = Annotated[str, Field(min_length=1, max_length=32, pattern=_NO_SPACE)]
Name64 = Annotated[str, Field(min_length=1, max_length=64, pattern=_NO_SPACE)]
MenuName = Annotated[str, Field(min_length=1, max_length=16)]
HttpUrl = Annotated[str, Field(pattern=_HTTP)]


class CallHeader(_Item):
    key: Annotated[str, Field(min_length=1, max_length=255, pattern=_HEADER_TEXT)]
    value: Annotated[str, Field(max_length=255, pattern=_HEADER_TEXT)] | None = None


CallHeaders = Annotated[list[CallHeader], Field(max_length=16)]


class PhoneTarget(_Item):
    number: Annotated[str, Field(min_length=3, max_length=16, pattern=_E164)]


class PhoneDestination(_Item):
    type: Literal["PHONE"]
    phone: PhoneTarget


class SipOriginTarget(_Item):
    endpoint: Annotated[str, Field(max_length=256, pattern=_SIP)]
    displayName: str | None = None


class SipOrigin(_Item):
    type: Literal["SIP"]
    sip: SipOriginTarget


class SipTarget(_Item):
    endpoint: Annotated[str, Field(max_length=256, pattern=_SIP)]
    transport: Literal["UDP", "TCP", "TLS"] | None = None
    callHeaders: CallHeaders | None = None


class SipDestination(_Item):
    type: Literal["SIP"]
    sip: SipTarget


class StreamOptions(_Item):
    version: Annotated[int, Field(ge=1)] | None = None
    codec: Literal["PCM"] | None = None
    sampleRate: Literal[8000, 16000, 24000, 44100, 48000, 96000] | None = None


class StreamTarget(_Item):
    endpoint: Annotated[str, Field(pattern=_WS)]
    streamOptions: StreamOptions | None = None
    callHeaders: CallHeaders | None = None


class StreamDestination(_Item):
    type: Literal["STREAM"]
    stream: StreamTarget


class RelayTarget(_Item):
    endpoint: Text
    ttsVoice: Text
    sttLanguage: Text
    enableInterruptions: bool | None = None
    callHeaders: CallHeaders | None = None


class RelayDestination(_Item):
    type: Literal["VOICE_RELAY"]
    voiceRelay: RelayTarget


DialOrigin = Annotated[PhoneDestination | SipOrigin, Field(discriminator="type")]
Destination = Annotated[
    PhoneDestination | SipDestination | StreamDestination | RelayDestination, Field(discriminator="type")
]


class Say(_Item):
    text: Annotated[str, Field(min_length=1, max_length=600)]
    voiceName: Text
    format: Literal["TEXT", "SSML"] | None = None


class SayMessage(_Item):
    type: Literal["SAY"]
    say: Say


class Play(_Item):
    url: HttpUrl


class PlayMessage(_Item):
    type: Literal["PLAY"]
    play: Play


Message = Annotated[SayMessage | PlayMessage, Field(discriminator="type")]
Messages = Annotated[list[Message], Field(min_length=1, max_length=10)]


class AnswerCommand(_Item):
    command: Literal["answer"]


class HangupCommand(_Item):
    command: Literal["hangup"]
    callName: Name32 | None = None


class CallEvents(_Item):
    onAnswer: list[Command] | None = None
    onBusy: list[Command] | None = None
    onReject: list[Command] | None = None
    onTimeout: list[Command] | None = None
    onHangup: list[Command] | None = None
    onFailure: list[Command] | None = None


class DialCommand(_Item):
    command: Literal["dial"]
    to: Destination
    from_: DialOrigin | None = Field(default=None, alias="from")
    callName: Name32 | None = None
    dialTimeoutDurationSeconds: Annotated[int, Field(ge=1, le=60)] | None = None
    maxCallDurationSeconds: Annotated[int, Field(ge=1, le=14400)] | None = None
    events: CallEvents | None = None


class MessageEvents(_Item):
    onFinish: list[Command] | None = None


class MessagesCommand(_Item):
    command: Literal["messages"]
    messages: Messages
    messagesName: Name32 | None = None
    events: MessageEvents | None = None


class StopMessagesCommand(_Item):
    command: Literal["stopMessages"]
    messagesName: Name32


class PauseCommand(_Item):
    command: Literal["pause"]
    durationMilliseconds: Annotated[int, Field(ge=1)]


class WebhookCommand(_Item):
    command: Literal["webhook"]
    webhookName: Name64
    url: HttpUrl
    fallbackUrl: HttpUrl | None = None


class AmdEvents(_Item):
    onHuman: list[Command] | None = None
    onMachine: list[Command] | None = None
    onBeep: list[Command] | None = None
    onUnknown: list[Command] | None = None


class AmdCommand(_Item):
    command: Literal["amd"]
    events: AmdEvents | None = None


class TranscriptionOptions(_Item):
    isEnabled: bool
    locale: Text | None = None


class RecordingOptions(_Item):
    destination: Literal["AWS", "GCP", "AZURE"]
    destinationUrl: Annotated[str, Field(pattern=_RECORDING_URL)]
    credentials: Text
    format: Literal["MP3", "WAV"] | None = None
    recordingType: Literal["COMBINED", "INBOUND", "OUTBOUND"] | None = None
    transcriptionOptions: TranscriptionOptions | None = None


class RecordingEvents(_Item):
    onFinish: list[Command] | None = None
    onFailure: list[Command] | None = None


class StartRecordingCommand(_Item):
    command: Literal["startRecording"]
    recordingOptions: RecordingOptions
    recordingName: Name32 | None = None
    events: RecordingEvents | None = None


class StopRecordingCommand(_Item):
    command: Literal["stopRecording"]
    recordingName: Name32


class BridgeCallCommand(_Item):
    command: Literal["bridgeCall"]
    bridgeName: Name32


class MenuPrompt(_Item):
    messages: Messages
    allowBargeIn: bool | None = None


MatchKey = Annotated[str, Field(min_length=1, max_length=256)]


class MenuItem(_Item):
    prompt: MenuPrompt | None = None
    repeatPrompt: MenuPrompt | None = None
    inputTimeoutDurationSeconds: Annotated[int, Field(ge=1, le=60)] | None = None
    repeatCount: Annotated[int, Field(ge=0, le=10)] | None = None
    minimumInputLength: Annotated[int, Field(ge=1, le=100)] | None = None
    maximumInputLength: Annotated[int, Field(ge=1, le=100)] | None = None
    terminatingSequence: Annotated[str, Field(min_length=1, max_length=10, pattern=_DTMF_SEQUENCE)] | None = None
    inputMethods: list[Literal["DTMF"]] | None = None
    matches: Annotated[dict[MatchKey, list[Command]], Field(max_length=50)] | None = None
    onFail: list[Command] | None = None
    #: The Python SDK 2.3.0's spelling of ``onFail``; accepted so its output validates, warned about.
    onFailure: list[Command] | None = None


class MenuCommand(_Item):
    command: Literal["menu"]
    startMenu: MenuName
    menus: Annotated[dict[MenuName, MenuItem], Field(min_length=1)]


class GotoMenuCommand(_Item):
    command: Literal["gotoMenu"]
    menuName: MenuName


Command = Annotated[
    AnswerCommand
    | HangupCommand
    | DialCommand
    | MessagesCommand
    | StopMessagesCommand
    | PauseCommand
    | WebhookCommand
    | AmdCommand
    | StartRecordingCommand
    | StopRecordingCommand
    | BridgeCallCommand
    | MenuCommand
    | GotoMenuCommand,
    Field(discriminator="command"),
]


class IncomingEvents(_Item):
    onHangup: list[Command] | None = None


class V2Answer(_Item):
    """A Voice API v2 webhook response body: ``{commands, callName?, events?}``."""

    commands: list[Command]
    callName: Name32 | None = None
    events: IncomingEvents | None = None


_RECURSIVE: tuple[type[BaseModel], ...] = (
    *(CallEvents, MessageEvents, AmdEvents, RecordingEvents, MenuItem, IncomingEvents),
    *(MenuCommand, DialCommand, MessagesCommand, AmdCommand, StartRecordingCommand, V2Answer),
)
for _model in _RECURSIVE:
    _model.model_rebuild()

#: Every field name an answer may carry, for "did you mean".
_ANSWER_FIELDS = sorted(
    {
        field.alias or name
        for model in _Item.__subclasses__()
        for name, field in model.model_fields.items()
        if model is not MenuItem or name != "onFailure"
    }
)
_COMMANDS = sorted(
    str(get_args(model.model_fields["command"].annotation)[0])
    for model in _Item.__subclasses__()
    if "command" in model.model_fields
)


# ---------------------------------------------------------------------------------------------
# Errors that name the field and the fix.

_TYPE_FIXES = {
    "string_type": "send a JSON string",
    "int_type": "send a JSON integer",
    "int_from_float": "send a whole number",
    "bool_type": "send true or false",
    "dict_type": "send a JSON object",
    "model_type": "send a JSON object",
    "list_type": "send a JSON array",
}
#: What a missing field is, where "add it" alone would not say.
_MISSING = {
    "event": "the event name, such as call.incoming",
    "call": "the call resource, at least {callId}",
    "callId": "every Sinch event carries the call's id, such as 01AN4Z07BY79KA1307SR9X4MV3",
    "voiceName": 'the text-to-speech voice, such as "Emma"',
    "commands": 'the list of commands; {"commands": []} acknowledges without doing anything',
}


def _path(loc: Sequence[int | str], data: Any) -> str:
    """The dotted path of ``loc`` in the input, without the union tags pydantic inserts."""
    parts: list[str] = []
    node, tagged = data, None
    for part in loc:
        tag = isinstance(node, dict) and part in (node.get("command"), node.get("type"))
        if tag and tagged is not node:
            tagged = node  # the tag pydantic adds after a discriminated union's field, once
            continue
        parts.append(str(part))
        found = isinstance(node, dict) and part in node
        found = found or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        node = node[part] if found else None
    return ".".join(parts)


def _explain(problem: Mapping[str, Any], path: str) -> str:
    kind, message, value = problem["type"], str(problem["msg"]), problem.get("input")
    name = path.rsplit(".", 1)[-1]
    shown = f", got {value!r}"[:60] if isinstance(value, str | int | float | bool) else ""
    if kind == "missing":
        return "required and missing; add it" + (f" ({_MISSING[name]})" if name in _MISSING else "")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(name, _ANSWER_FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{name!r} is not a field here; remove it{hint}"
    if kind == "union_tag_not_found":
        if problem.get("ctx", {}).get("discriminator") == "'command'":
            return f'no "command"; add one of {", ".join(_COMMANDS)}'
        return 'no "type"; add one: PHONE or SIP (destinations also STREAM, VOICE_RELAY; messages SAY or PLAY)'
    if kind == "union_tag_invalid":
        tag = problem.get("ctx", {}).get("tag")
        if tag == "customEvent":
            return "'customEvent' is the Python SDK's name; on the wire it is 'webhook'"
        if problem.get("ctx", {}).get("discriminator") == "'command'":
            close = difflib.get_close_matches(str(tag), _COMMANDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(_COMMANDS)}"
            return f"{tag!r} is not a Voice API v2 command{hint}"
        return f"{message}; use one of those"
    if kind == "string_pattern_mismatch":
        meaning = _PATTERNS.get(problem.get("ctx", {}).get("pattern", ""), "in the documented format")
        return f"must be {meaning}{shown}"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind in _TYPE_FIXES:
        return f"{message}{shown}; {_TYPE_FIXES[kind]}"
    return f"{message}{shown}"


def _contract_error(what: str, error: ValidationError, data: Any) -> ContractError:
    problems = error.errors(include_url=False)
    path = _path(problems[0]["loc"], data)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ContractError(f"{what}: field {path or '(root)'}: {_explain(problems[0], path)}{more}", path)


# ---------------------------------------------------------------------------------------------
# The two functions.


def parse_v2_event(body: bytes | str | Mapping[str, Any], *, complete: bool = False) -> V2Event:
    """A Voice API v2 webhook body (raw bytes, text or parsed JSON) as a ``V2Event``.

    Raises ``ContractError`` whose message and ``field`` name the field at fault and the fix.
    With ``complete=True``, also when a field the OAS requires of ``call`` is missing (what
    sinch_nb itself sends must be complete; what Sinch sends need not be, see the module notes).
    """
    what = "not a Voice API v2 event"
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ContractError(f"{what}: the body is not JSON ({error}); Sinch posts events as JSON") from None
    if not isinstance(data, Mapping):
        raise ContractError(f'{what}: it is a JSON object {{"event", "call", "menu"?}}, got {type(data).__name__}')
    try:
        event = V2Event.model_validate(dict(data))
    except ValidationError as error:
        raise _contract_error(what, error, data) from None
    if complete:
        missing = event.missing_fields()
        if missing:
            others = f" (also {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise ContractError(
                f"incomplete Voice API v2 event: field {missing[0]}: required by the OAS and missing{others}; "
                "Sinch's events carry every required call field, so a simulated one should too",
                missing[0],
            )
    return event


def validate_v2_answer(answer: Any, event: str | None = None) -> list[str]:
    """Check an answer to a Voice API v2 event; returns warnings, raises ``ContractError``.

    ``answer`` is the JSON object sent back (``{"commands": [...]}``). ``event`` is the event it
    answers (``call.incoming``, ...); without it the checks that depend on it are skipped.
    """
    what = "not a valid Voice API v2 answer"
    if isinstance(answer, list):
        raise ContractError(f'{what}: it is a JSON object; wrap the list: {{"commands": [...]}}')
    if not isinstance(answer, dict):
        raise ContractError(f'{what}: it is a JSON object {{"commands": [...]}}, got {type(answer).__name__}')
    try:
        parsed = V2Answer.model_validate(answer)
    except ValidationError as error:
        raise _contract_error(what, error, answer) from None
    if event is not None and event != "call.incoming":
        for name in ("callName", "events"):
            if name in parsed.model_fields_set:
                raise ContractError(
                    f"{what}: field {name}: only the answer to call.incoming may set it, and this answers {event} "
                    "(Sinch ignores it here); name a new leg with dial's callName, or run commands on its "
                    "hangup with dial's events.onHangup",
                    name,
                )
    lists = list(_command_lists(parsed.commands, "commands", None))
    if parsed.events is not None and parsed.events.onHangup is not None:
        lists.extend(_command_lists(parsed.events.onHangup, "events.onHangup", None))
    warnings: list[str] = []
    in_menu_event = event is not None and (event == "call.menu" or event.startswith(WEBHOOK_PREFIX))
    for path, commands, menu in lists:
        _check_list(path, commands, menu, in_menu_event, warnings)
    return warnings


def _command_lists(
    commands: Sequence[Any], path: str, menu: MenuCommand | None
) -> Iterator[tuple[str, Sequence[Any], MenuCommand | None]]:
    """Every command list in ``commands``, nested ones too, with the menu whose item holds it directly."""
    yield path, commands, menu
    for index, command in enumerate(commands):
        here = f"{path}.{index}"
        events = getattr(command, "events", None)
        if events is not None:
            for name in type(events).model_fields:
                nested = getattr(events, name)
                if nested is not None:
                    yield from _command_lists(nested, f"{here}.events.{name}", None)
        if isinstance(command, MenuCommand):
            for menu_name, item in command.menus.items():
                base = f"{here}.menus.{menu_name}"
                for key, nested in (item.matches or {}).items():
                    yield from _command_lists(nested, f"{base}.matches.{key}", command)
                for name in ("onFail", "onFailure"):
                    nested = getattr(item, name)
                    if nested is not None:
                        yield from _command_lists(nested, f"{base}.{name}", command)


def _check_list(
    path: str, commands: Sequence[Any], menu: MenuCommand | None, in_menu_event: bool, warnings: list[str]
) -> None:
    what = "not a valid Voice API v2 answer"
    playing: str | None = None  # a messages command that is still playing, by path
    for index, command in enumerate(commands):
        here = f"{path}.{index}"
        if isinstance(command, MessagesCommand):
            playing = here
            _check_voices(here, command.messages, warnings)
        elif isinstance(command, HangupCommand) and command.callName is None and playing is not None:
            warnings.append(
                f"{here}: hangup right after the messages at {playing} does not wait for them (messages does "
                "not block) and cuts them off; put the hangup in that messages' events.onFinish"
            )
        elif isinstance(command, PauseCommand | WebhookCommand | MenuCommand | GotoMenuCommand):
            playing = None  # a blocking command: the messages play meanwhile
        if isinstance(command, MenuCommand):
            _check_menu(here, command, warnings)
        elif isinstance(command, GotoMenuCommand):
            if menu is not None and command.menuName not in menu.menus:
                raise ContractError(
                    f"{what}: field {here}.menuName: gotoMenu names {command.menuName!r}, which is not among "
                    f"this menu's menus {sorted(menu.menus)}",
                    f"{here}.menuName",
                )
            if menu is None and not in_menu_event:
                warnings.append(
                    f"{here}: gotoMenu works only inside a menu (its matches or onFail); here it has no menu to go to"
                )
        elif isinstance(command, DialCommand) and isinstance(command.to, RelayDestination):
            _check_voice(f"{here}.to.voiceRelay.ttsVoice", command.to.voiceRelay.ttsVoice, warnings)


def _check_menu(path: str, command: MenuCommand, warnings: list[str]) -> None:
    what = "not a valid Voice API v2 answer"
    if command.startMenu not in command.menus:
        raise ContractError(
            f"{what}: field {path}.startMenu: the menu starts at {command.startMenu!r}, which is not among "
            f"its menus {sorted(command.menus)}",
            f"{path}.startMenu",
        )
    for name, item in command.menus.items():
        base = f"{path}.menus.{name}"
        low, high = item.minimumInputLength or 1, item.maximumInputLength or 1
        if low > high:
            raise ContractError(
                f"{what}: field {base}.minimumInputLength: {low} is more than maximumInputLength {high} "
                "(which defaults to 1); raise maximumInputLength",
                f"{base}.minimumInputLength",
            )
        for key in item.matches or {}:
            try:
                re.compile(key)
            except re.error as error:
                raise ContractError(
                    f"{what}: field {base}.matches: the key {key!r} is not a valid pattern ({error}); keys are "
                    'literals or regular expressions, so escape the star key: r"\\*" in Python, "\\\\*" in JSON',
                    f"{base}.matches",
                ) from None
        if item.onFailure is not None:
            warnings.append(
                f"{base}.onFailure: Sinch reads onFail; onFailure (the Python SDK 2.3.0's spelling) is ignored, "
                "so this handler never runs. Rename it onFail"
            )
        for prompt_name in ("prompt", "repeatPrompt"):
            prompt = getattr(item, prompt_name)
            if prompt is not None:
                _check_voices(f"{base}.{prompt_name}", prompt.messages, warnings)


def _check_voices(path: str, messages: Sequence[Any], warnings: list[str]) -> None:
    for index, message in enumerate(messages):
        if isinstance(message, SayMessage):
            _check_voice(f"{path}.messages.{index}.say.voiceName", message.say.voiceName, warnings)


def _check_voice(path: str, voice: str, warnings: list[str]) -> None:
    if voice not in VOICES:
        close = difflib.get_close_matches(voice, VOICES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.append(
            f"{path}: {voice!r} is not a voice the SDK's catalogue knows{hint}; Sinch refuses an answer "
            "with an unknown voice, so check the spelling unless the voice is new"
        )
