"""Strict models of the callbacks Sinch posts (reference/sinch-wire.md §2, §4).

Unknown keys are kept (Sinch adds fields); what Sinch never sends is refused with
the field named: a missing ``callid``, a PIE ``menuResult.type`` outside the enum,
a ``to`` that is not a destination object, a timestamp that is not ISO-8601.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..functions.events import conversation_trigger
from .errors import from_validation_error

__all__ = ["CALLBACK_MODELS", "validate_callback"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Money(_Wire):
    currencyId: str
    amount: float


class Destination(_Wire):
    type: str
    endpoint: str


class CallHeader(_Wire):
    key: str
    value: str


class Amd(_Wire):
    status: Literal["machine", "human", "notsure", "hangup"] | None = None
    reason: str | None = None
    duration: int | None = None


class VoiceCallback(_Wire):
    event: str
    callid: str = Field(min_length=1)
    conferenceId: str | None = None
    timestamp: str | None = None
    version: int | None = None
    custom: str | None = None
    applicationKey: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _callid_any_case(cls, data: Any) -> Any:
        if isinstance(data, dict) and "callid" not in data:
            for key in data:
                if isinstance(key, str) and key.lower() == "callid":
                    return {**data, "callid": data[key]}
        return data

    @field_validator("timestamp")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as error:
                raise ValueError(f"not an ISO-8601 time: {value!r}") from error
        return value


class IceCallback(VoiceCallback):
    event: Literal["ice"]
    callResourceUrl: str | None = None
    userRate: Money | None = None
    cli: str | None = None
    to: Destination | None = None
    domain: str | None = None
    originationType: str | None = None
    duration: int | None = None
    rdnis: str | None = None
    callHeaders: list[CallHeader] | None = None


class AceCallback(VoiceCallback):
    event: Literal["ace"]
    amd: Amd | None = None


class MenuResult(_Wire):
    type: Literal["error", "return", "sequence", "timeout", "hangup", "invalidinput"]
    value: str | None = None
    menuId: str | None = None
    inputMethod: Literal["dtmf", "voice"] | None = None


class PieCallback(VoiceCallback):
    event: Literal["pie"]
    menuResult: MenuResult


class DiceCallback(VoiceCallback):
    event: Literal["dice"]
    reason: str | None = None
    result: Literal["N/A", "ANSWERED", "BUSY", "NOANSWER", "FAILED"] | None = None
    debit: Money | None = None
    userRate: Money | None = None
    to: Destination | None = None
    duration: int | None = None
    from_: str | None = Field(default=None, alias="from")
    callHeaders: list[CallHeader] | None = None


class NotifyCallback(VoiceCallback):
    event: Literal["notify"]
    type: str
    destination: str | None = None
    amd: Amd | None = None


class ChannelIdentity(_Wire):
    channel: str
    identity: str
    app_id: str | None = None


class ConversationItem(_Wire):
    channel_identity: ChannelIdentity | None = None
    contact_id: str | None = None
    conversation_id: str | None = None


class ConversationCallback(_Wire):
    app_id: str
    project_id: str
    accepted_time: str | None = None
    event_time: str | None = None
    message_metadata: str | None = None
    correlation_id: str | None = None
    message: ConversationItem | None = None
    event: ConversationItem | None = None
    message_delivery_report: ConversationItem | None = None

    @model_validator(mode="after")
    def _has_trigger(self) -> ConversationCallback:
        if conversation_trigger(self.model_dump(by_alias=True)) is None:
            raise ValueError("no Conversation trigger key such as 'message' or 'message_delivery_report'")
        return self


CALLBACK_MODELS: dict[str, type[_Wire]] = {
    "ice": IceCallback,
    "ace": AceCallback,
    "pie": PieCallback,
    "dice": DiceCallback,
    "notify": NotifyCallback,
    "conversation": ConversationCallback,
}


def validate_callback(kind: str, payload: Any) -> None:
    """Raise ``ContractError`` naming the field when ``payload`` is not a valid ``kind`` callback."""
    try:
        CALLBACK_MODELS[kind].model_validate(payload)
    except ValidationError as error:
        raise from_validation_error(f"not a valid {kind.upper()} callback", error) from None
