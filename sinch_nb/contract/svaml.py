"""Strict models of SVAML answers, per callback (reference/sinch-wire.md §1).

Every answer a handler gives, builder or plain dict, is checked here before it
leaves the runtime: unknown item names and fields, wrong types, values outside
the enums, and items the event does not allow (from ``functions.rules``, which the
builders share) are refused with the field named.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..functions import rules
from .errors import ContractError, from_validation_error

__all__ = ["SvamlAnswer", "validate_answer"]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyValue(_Item):
    key: str
    value: str


Dtmf = Annotated[str, Field(pattern=rules.DTMF_SEND_PATTERN)]
Duration = Annotated[int, Field(ge=1, le=rules.MAX_DURATION_S)]
Moh = Literal["ring", "music1", "music2", "music3"]


class Say(_Item):
    name: Literal["say"]
    text: Annotated[str, Field(min_length=1)]
    locale: str | None = None


class PlayFiles(_Item):
    name: Literal["playFiles"]
    ids: Annotated[list[str], Field(min_length=1)]
    locale: str | None = None


class SendDtmf(_Item):
    name: Literal["sendDtmf"]
    value: Dtmf


class SetCookie(_Item):
    name: Literal["setCookie"]
    key: str
    value: str


class Answer(_Item):
    name: Literal["answer"]


class TranscriptionOptions(_Item):
    enabled: bool | None = None
    locale: str | None = None

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in rules.TRANSCRIPTION_LOCALES:
            raise ValueError(f"not a transcription locale: {value!r}")
        return value


class RecordingOptions(_Item):
    destinationUrl: str
    credentials: str
    format: str | None = None
    notificationEvents: bool | None = None
    transcriptionOptions: TranscriptionOptions | None = None


class StartRecording(_Item):
    name: Literal["startRecording"]
    options: RecordingOptions


class StopRecording(_Item):
    name: Literal["stopRecording"]


Instruction = Annotated[
    Say | PlayFiles | SendDtmf | SetCookie | Answer | StartRecording | StopRecording,
    Field(discriminator="name"),
]


class Hangup(_Item):
    name: Literal["hangup"]


class Continue(_Item):
    name: Literal["continue"]


class Amd(_Item):
    enabled: bool | None = None
    async_: bool | None = Field(default=None, alias="async")


class ConnectPstn(_Item):
    name: Literal["connectPstn"]
    number: str | None = None
    locale: str | None = None
    maxDuration: Duration | None = None
    dialTimeout: int | None = None
    cli: str | None = None
    suppressCallbacks: bool | None = None
    dtmf: Dtmf | None = None
    indications: str | None = None
    amd: Amd | None = None

    @field_validator("indications")
    @classmethod
    def _known_indications(cls, value: str | None) -> str | None:
        if value is not None and value not in rules.INDICATIONS:
            raise ValueError(f"not an indications country: {value!r}")
        return value


class Destination(_Item):
    type: str
    endpoint: Annotated[str, Field(min_length=1)]


class ConnectMxp(_Item):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: Literal["connectMxp"]
    destination: Destination
    callHeaders: list[KeyValue] | None = None
    callheaders: list[KeyValue] | None = None


class ConferenceDtmfOptions(_Item):
    mode: Literal["ignore", "forward", "detect"] | None = None
    maxDigits: int | None = None
    timeoutMills: int | None = None


class ConnectConf(_Item):
    name: Literal["connectConf"]
    conferenceId: Annotated[str, Field(min_length=1, max_length=rules.MAX_CONFERENCE_ID)]
    conferenceDtmfOptions: ConferenceDtmfOptions | None = None
    moh: Moh | None = None


class ConnectSip(_Item):
    name: Literal["connectSip"]
    destination: Destination
    maxDuration: Duration | None = None
    cli: str | None = None
    transport: Literal["UDP", "TCP", "TLS", "udp", "tcp", "tls"] | None = None
    suppressCallbacks: bool | None = None
    callHeaders: list[KeyValue] | None = None
    moh: Moh | None = None


class StreamingOptions(_Item):
    version: int | None = None
    sampleRate: int | None = None


class ConnectStream(_Item):
    name: Literal["connectStream"]
    destination: Destination
    streamingOptions: StreamingOptions | None = None
    maxDuration: Duration | None = None
    callHeaders: list[KeyValue] | None = None


class MenuOption(_Item):
    dtmf: Annotated[str, Field(pattern=rules.DTMF_KEYS_PATTERN)]
    action: Annotated[str, Field(pattern=rules.MENU_OPTION_ACTION_PATTERN)]

    @field_validator("dtmf", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        # Sinch's skills show bare numbers ("dtmf": 1); the SDKs send strings.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class MenuModel(_Item):
    id: Annotated[str, Field(min_length=1)]
    mainPrompt: str | None = None
    repeatPrompt: str | None = None
    repeats: Annotated[int, Field(ge=rules.MENU_REPEATS[0], le=rules.MENU_REPEATS[1])] | None = None
    maxDigits: Annotated[int, Field(ge=rules.MENU_MAX_DIGITS[0], le=rules.MENU_MAX_DIGITS[1])] | None = None
    timeoutMills: Annotated[int, Field(ge=rules.MENU_TIMEOUT_MS[0], le=rules.MENU_TIMEOUT_MS[1])] | None = None
    maxTimeoutMills: int | None = None
    options: list[MenuOption] | None = None


class RunMenu(_Item):
    name: Literal["runMenu"]
    barge: bool | None = None
    locale: str | None = None
    mainMenu: str | None = None
    enableVoice: bool | None = None
    menus: Annotated[list[MenuModel], Field(min_length=1)]


class Park(_Item):
    name: Literal["park"]
    locale: str | None = None
    introPrompt: str | None = None
    holdPrompt: str | None = None
    maxDuration: Duration | None = None


Action = Annotated[
    Hangup | Continue | ConnectPstn | ConnectMxp | ConnectConf | ConnectSip | ConnectStream | RunMenu | Park,
    Field(discriminator="name"),
]


class SvamlAnswer(_Item):
    """``{"instructions": [...], "action": {...}}``, both optional."""

    instructions: list[Instruction] = Field(default_factory=list)
    action: Action | None = None


def validate_answer(kind: str, answer: Any) -> list[str]:
    """Check an ICE/ACE/PIE answer; returns warnings for disputed items, raises ``ContractError``."""
    if not isinstance(answer, dict):
        raise ContractError(f"a {kind.upper()} answer is a JSON object of SVAML, got {type(answer).__name__}")
    try:
        parsed = SvamlAnswer.model_validate(answer)
    except ValidationError as error:
        raise from_validation_error(f"not valid SVAML for {kind.upper()}", error) from None
    warnings: list[str] = []
    items: list[tuple[str, int | None, str]] = [
        ("instructions", i, item.name) for i, item in enumerate(parsed.instructions)
    ]
    if parsed.action is not None:
        items.append(("action", None, parsed.action.name))
    for where, index, name in items:
        field = f"{where}.{index}" if index is not None else where
        if name in rules.ALLOWED[kind]:
            continue
        reason = rules.DISPUTED[kind].get(name)
        if reason is not None:
            warnings.append(f"{name} in {kind.upper()} answers: {reason}")
            continue
        allowed = ", ".join(rules.allowed_items(kind))
        raise ContractError(
            f"not valid SVAML for {kind.upper()}: field {field}: {name} is not allowed; "
            f"{kind.upper()} allows {allowed}",
            field,
        )
    if isinstance(parsed.action, RunMenu):
        _check_menus(kind, parsed.action)
    return warnings


def _check_menus(kind: str, action: RunMenu) -> None:
    ids = [menu.id for menu in action.menus]
    start = action.mainMenu or "main"
    if start not in ids:
        raise ContractError(
            f"not valid SVAML for {kind.upper()}: field action.mainMenu: the menu starts at {start!r}, "
            f"which is not among the menus {ids}",
            "action.mainMenu",
        )
    for position, menu in enumerate(action.menus):
        for option in menu.options or []:
            if option.action.startswith("menu(") and option.action[5:-1] not in ids:
                where = f"action.menus.{position}.options"
                raise ContractError(
                    f"not valid SVAML for {kind.upper()}: field {where}: option {option.dtmf} jumps to "
                    f"{option.action[5:-1]!r}, which is not among the menus {ids}",
                    where,
                )
