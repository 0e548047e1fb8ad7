"""Event views and the strict callback models, over Sinch's own SDK test payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import PAYLOADS, payload

from sinch_nb.contract import ContractError, validate_callback
from sinch_nb.functions.events import (
    ConversationEvent,
    DiceEvent,
    EventError,
    IceEvent,
    NotifyEvent,
    PieEvent,
    parse_event,
)


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("*.json")), ids=lambda p: p.name.split(".")[0])
def test_every_fixture_parses_and_passes_the_contract(path: Any) -> None:
    import json

    data = json.loads(path.read_text())
    event = parse_event(data)
    validate_callback(event.kind, data)
    assert event.raw is data


def test_ice_reads_snake_case() -> None:
    event = parse_event(payload("voice-ice"))
    assert isinstance(event, IceEvent)
    assert event.call_id == "a call id"
    assert event.cli == "cli number"
    assert event.to.endpoint == "+123456879"
    assert event.to.type == "number"
    assert event.origination_type == "MXP"
    assert event.user_rate.currency_id == "USD"
    assert event.call_headers[0].key == "the key"
    assert event.timestamp == datetime(2024, 1, 16, 16, 46, 36, tzinfo=UTC)
    assert event.application_key == "an app key"


def test_pie_menu_result() -> None:
    event = parse_event(payload("voice-pie"))
    assert isinstance(event, PieEvent)
    assert (event.menu_result.type, event.menu_result.value, event.menu_result.menu_id) == (
        "sequence",
        "1452",
        "confirm",
    )
    assert event.menu_result.input_method == "dtmf"


def test_dice_and_notify() -> None:
    dice = parse_event(payload("voice-dice"))
    assert isinstance(dice, DiceEvent)
    assert (dice.reason, dice.result, dice.duration, dice.from_) == ("MANAGERHANGUP", "ANSWERED", 1, "private")
    assert dice.debit.amount == pytest.approx(0.1758)
    notify = parse_event(payload("voice-notify"))
    assert isinstance(notify, NotifyEvent)
    assert (notify.type, notify.amd.status, notify.amd.duration) == ("recording_finished", "hangup", 32)


def test_conversation_events() -> None:
    message = parse_event(payload("conversation-message-inbound"))
    assert isinstance(message, ConversationEvent)
    assert message.trigger == "MESSAGE_INBOUND"
    assert message.text == "This is a text message."
    assert (message.channel, message.identity, message.contact_id) == ("MESSENGER", "an identity", "contact ID")
    assert message.message.contact_message.reply_to.message_id == "message id value"
    composing = parse_event(payload("conversation-event-inbound"))
    assert composing.trigger == "EVENT_INBOUND"
    assert composing.text is None
    assert composing.channel == "RCS"
    assert composing.event_time == "2024-06-06T14:42:42.379863404Z"


def test_callid_is_read_case_insensitively_and_unknown_keys_are_kept() -> None:
    event = parse_event({"event": "ice", "callId": "abc", "brandNewField": {"innerValue": 3}})
    assert event.call_id == "abc"
    assert event.brand_new_field.inner_value == 3
    assert event.raw["brandNewField"] == {"innerValue": 3}
    validate_callback("ice", {"event": "ice", "callId": "abc"})


def test_documented_but_absent_is_none_and_unknown_names_the_fields() -> None:
    event = parse_event({"event": "ice", "callid": "abc"})
    assert event.cli is None
    assert event.rdnis is None
    with pytest.raises(AttributeError, match=r"has no field 'menu_resul'.*call_id"):
        _ = event.menu_resul


def test_views_are_read_only() -> None:
    event = parse_event(payload("voice-ice"))
    with pytest.raises(AttributeError, match="read-only"):
        event.cli = "+1"


def test_not_a_callback() -> None:
    with pytest.raises(EventError, match="not a Sinch callback"):
        parse_event({"hello": "world"})


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("ice", {"event": "ice"}, "callid"),
        ("ice", {"event": "ice", "callid": ""}, "callid"),
        ("ice", {"event": "ice", "callid": "x", "to": "+1555"}, "to"),
        ("ice", {"event": "ice", "callid": "x", "timestamp": "yesterday"}, "timestamp"),
        ("ice", {"event": "pie", "callid": "x"}, "event"),
        ("pie", {"event": "pie", "callid": "x"}, "menuResult"),
        ("pie", {"event": "pie", "callid": "x", "menuResult": {"type": "guess"}}, "menuResult.type"),
        ("dice", {"event": "dice", "callid": "x", "result": "MAYBE"}, "result"),
        ("dice", {"event": "dice", "callid": "x", "duration": "long"}, "duration"),
        ("notify", {"event": "notify", "callid": "x"}, "type"),
        ("conversation", {"app_id": "a", "project_id": "p"}, "(root)"),
        ("conversation", {"app_id": "a", "message": {}}, "project_id"),
    ],
)
def test_the_contract_refuses_what_sinch_never_sends(kind: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ContractError) as refused:
        validate_callback(kind, data)
    assert f"field {field}" in str(refused.value)


def test_the_contract_keeps_open_enums_open() -> None:
    # DiCE reasons grow over time (reference §2): an unknown one is accepted.
    validate_callback("dice", {"event": "dice", "callid": "x", "reason": "SOMETHINGNEW"})
