"""Voice API v2 wire contract: events, answers, service signatures, CloudEvent headers.

The official SDK (``sinch`` 2.3.0) is the oracle: every fixture in fixtures/sinch/v2 goes through
sinch_nb's strict models and the SDK's, and they must agree; where they do not, the fixture is in
``SDK_REFUSES`` with the reason sinch_nb decides otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

import pytest
from conftest import FIXTURES
from pydantic import ValidationError
from sinch.core.internal.sinch_events.utils import build_string_to_sign, compute_content_md5, compute_signature
from sinch.domains.voice.api.v2.sinch_events import SinchEvents
from sinch.domains.voice.models.v2.sinch_events import VoiceSinchEventResponse
from sinch.domains.voice.models.v2.types.voice_name import VoiceName

from sinch_nb import signing
from sinch_nb.contract import ContractError, parse_v2_event, read_cloudevent, validate_v2_answer
from sinch_nb.contract.voice_v2 import REQUIRED_CALL_FIELDS
from sinch_nb.contract.voices_v2 import VOICES

V2 = FIXTURES / "v2"
REPORT = {entry["file"]: entry for entry in json.loads((V2 / "parse-report.json").read_text())["events"]}
EVENT_FILES = sorted(str(path.relative_to(V2)) for path in V2.rglob("v2-call.*.json"))
RESPONSE_FILES = sorted(path.name for path in V2.glob("v2-response-*.json"))
COMMAND_FILES = sorted(path.name for path in V2.glob("v2-command-*.json"))
CALLOUT_FILES = sorted(path.name for path in V2.glob("v2-callout-*.json"))
SDK = SinchEvents()

#: Fixtures the SDK refuses, and what sinch_nb does instead (and why).
SDK_REFUSES = {
    # Lenient: a refused event is a dropped call, and these are shapes Sinch itself publishes.
    "v2-call.incoming.oas-signing-example.json": "parsed: the OAS's own signed example, {event, call: {callId}}",
    "v2-call.incoming.tutorials-2.1.json": "parsed: the tutorial's 'the webhook request' (no callRate)",
    "v2-call.answered.tutorials-3.5.json": "parsed: the tutorial's abbreviated event",
    "v2-call.hangup.tutorials-3.5.json": "parsed: the tutorial's abbreviated event",
    # Refused: hand-made, no platform sends it (no callId, from/to without a type).
    "v2-call.incoming.tutorials-2.1-smoketest.json": "refused at call.callId",
}
#: Answers that validate with warnings, and a phrase each warning holds.
ANSWER_WARNINGS = {
    "v2-response-menu.python-sdk-generated.json": "Sinch reads onFail",
    "v2-response-messages-hangup.node-sdk.json": "hangup right after the messages",
    "v2-command-menu.oas.json": "hangup right after the messages",
}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((V2 / name).read_text())
    return data


def raw_body(data: dict[str, Any]) -> bytes:
    return str(data["raw_body"]).encode() if "raw_body" in data else json.dumps(data["body"]).encode()


def sdk_missing(error: ValidationError) -> list[str]:
    return [".".join(map(str, item["loc"])) for item in error.errors() if item["type"] == "missing"]


def for_sdk(value: Any) -> Any:
    """The answer as the SDK 2.3.0's response model takes it: ``customEvent`` for the wire's ``webhook``.

    Its command union reads the tag before the model renames it, so it refuses the wire name it
    writes itself (``serialize_response`` turns ``customEvent`` back into ``webhook``).
    """
    if isinstance(value, list):
        return [for_sdk(item) for item in value]
    if isinstance(value, dict):
        renamed = {key: for_sdk(item) for key, item in value.items()}
        return {**renamed, "command": "customEvent"} if value.get("command") == "webhook" else renamed
    return value


def sdk_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """The SDK's response model over ``answer``, serialized back to the wire by the SDK."""
    serialized: dict[str, Any] = SDK.serialize_response(VoiceSinchEventResponse.model_validate(for_sdk(answer)))
    return serialized


def as_answer(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and "commands" in body:
        return {"commands": body["commands"]}
    return {"commands": body if isinstance(body, list) else [body]}


# --- events -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVENT_FILES)
def test_every_event_fixture_through_both_parsers(name: str) -> None:
    data = fixture(name)
    body = raw_body(data)
    try:
        sdk = SDK.parse_event(body, data.get("headers"))
    except ValidationError as error:
        sdk, refused = None, error
    assert (sdk is not None) == REPORT[name]["parsed"]  # the installed SDK is the one the report ran
    if name in SDK_REFUSES and SDK_REFUSES[name].startswith("refused"):
        with pytest.raises(ContractError) as caught:
            parse_v2_event(body)
        assert caught.value.field == SDK_REFUSES[name].rsplit(" ", 1)[-1]
        return
    ours = parse_v2_event(body)
    assert ours.model_dump(mode="json", by_alias=True, exclude_unset=True) == data["body"]  # nothing lost
    if sdk is None:
        assert name in SDK_REFUSES, f"{name}: the SDK refuses it; decide in SDK_REFUSES"
        # sinch_nb knows exactly what the SDK misses: the OAS's required call fields
        assert ours.missing_fields() == sdk_missing(refused)
        with pytest.raises(ContractError, match="incomplete") as caught:
            parse_v2_event(body, complete=True)
        assert caught.value.field == ours.missing_fields()[0]
        return
    assert name not in SDK_REFUSES, f"{name}: the SDK parses it now; drop it from SDK_REFUSES"
    assert ours.missing_fields() == []
    assert parse_v2_event(body, complete=True) == ours
    # the SDK renames call.webhook.<name> to call.customEvent.<name>; the wire name is ours
    assert sdk.event == ours.event.replace("call.webhook.", "call.customEvent.")
    assert sdk.event == REPORT[name]["sdk_event"]
    assert ours.call.callId == sdk.call.call_id == REPORT[name]["call_id"]
    assert ours.call.model_dump(mode="json", by_alias=True, exclude_unset=True) == sdk.call.model_dump(
        mode="json", by_alias=True, exclude_unset=True
    )  # from/to, enums, times, rate: the whole call resource
    assert ours.call.startTime == sdk.call.start_time
    if ours.menu is None:
        assert sdk.menu is None
    else:
        assert sdk.menu is not None
        assert (ours.menu.menuName, ours.menu.input) == (sdk.menu.menu_name, sdk.menu.input)
        assert {"menuName": ours.menu.menuName, "input": ours.menu.input} == REPORT[name]["menu"]
    assert ours.webhook_name == (ours.event.split(".", 2)[2] if ours.event.startswith("call.webhook.") else None)


def test_what_the_sdk_requires_is_what_missing_fields_knows() -> None:
    from sinch.domains.voice.models.v2.shared.call import Call

    required = [field.alias or name for name, field in Call.model_fields.items() if field.is_required()]
    assert sorted(required) == sorted(REQUIRED_CALL_FIELDS)


def test_the_fields_an_event_has_are_typed_from_and_to_by_type() -> None:
    event = parse_v2_event(fixture("v2-call.menu.java-sdk.json")["body"])
    assert event.call.from_ is not None and event.call.from_.type == "SIP"
    assert event.call.from_.model_dump(by_alias=True, exclude_unset=True) == {
        "type": "SIP",
        "sip": {"endpoint": "sip:alice@sip.example.com", "displayName": "Alice"},
    }
    assert event.call.to is not None and event.call.to.type == "PHONE"
    assert event.call.callDurationSeconds == 42
    assert event.call.answerTime == datetime(2025, 2, 10, 9, 0, 5, tzinfo=UTC)
    assert event.menu is not None and event.menu.input == "1234"
    webhook = parse_v2_event(_webhook_event("my.custom.event"))
    assert webhook.webhook_name == "my.custom.event"  # names may hold dots (§1)


def _webhook_event(name: str) -> dict[str, Any]:
    return {"event": f"call.webhook.{name}", "call": {"callId": "01AN4Z07BY79KA1307SR9X4MV3"}}


def test_unknown_keys_are_kept() -> None:
    body = {"event": "call.hangup", "call": {"callId": "c1", "newField": {"x": 1}}, "extra": True}
    event = parse_v2_event(body)
    assert event.model_dump(by_alias=True, exclude_unset=True) == body


def _event(**call: Any) -> dict[str, Any]:
    return {"event": "call.incoming", "call": {"callId": "01AN4Z07BY79KA1307SR9X4MV3", **call}}


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({"event": "ice", "call": {"callId": "c"}}, "event", "not a Voice API v2 event"),
        ({"event": "call.customEvent.x", "call": {"callId": "c"}}, "event", "call.webhook.x"),
        ({"event": "call.webhook.", "call": {"callId": "c"}}, "event", "1-64 characters"),
        ({"event": "call.incoming"}, "call", "required and missing; add it"),
        ({"event": "call.incoming", "call": {}}, "call.callId", "required and missing"),
        (_event(**{"from": {"phone": {"number": "+1555"}}}), "call.from", 'no "type"'),
        (_event(to={"type": "FAX", "fax": {}}), "call.to", "'PHONE', 'SIP', 'STREAM', 'VOICE_RELAY'"),
        (_event(**{"from": {"type": "SIP", "sip": {}}}), "call.from.sip.endpoint", "required"),
        (_event(callResult="DONE"), "call.callResult", "got 'DONE'"),
        (_event(callDurationSeconds="102"), "call.callDurationSeconds", "send a JSON integer"),
        (_event(callDurationSeconds=True), "call.callDurationSeconds", "send a JSON integer"),
        (_event(startTime="yesterday"), "call.startTime", "RFC 3339"),
        (_event(startTime=1717236000), "call.startTime", "RFC 3339"),
        (_event(callRate={"currencyCode": "USD", "amount": 0.006}), "call.callRate.amount", "JSON string"),
        (_event(callRate={"currencyCode": "USD", "amount": "0.00601"}), "call.callRate.amount", "4 decimals"),
        ({"event": "call.menu", "call": {"callId": "c"}}, "menu", '"menu": {"menuName"'),
        ({"event": "call.menu", "call": {"callId": "c"}, "menu": {"menuName": "main"}}, "menu.input", "required"),
    ],
)
def test_an_event_off_the_wire_is_refused_naming_the_field_and_the_fix(body: Any, field: str, phrase: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse_v2_event(json.dumps(body).encode())
    assert caught.value.field == field
    assert str(caught.value).startswith(f"not a Voice API v2 event: field {field}: ")
    assert phrase in str(caught.value)


@pytest.mark.parametrize(("body", "phrase"), [(b"{nope", "not JSON"), (b"[1]", "got list"), ("null", "got NoneType")])
def test_a_body_that_is_no_event_object_is_refused(body: bytes | str, phrase: str) -> None:
    with pytest.raises(ContractError, match=phrase):
        parse_v2_event(body)


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RESPONSE_FILES)
def test_every_response_fixture_validates_with_both_models(name: str) -> None:
    body = fixture(name)["body"]
    warnings = validate_v2_answer(body, "call.incoming")
    assert [w for w in warnings if ANSWER_WARNINGS.get(name, "\0") not in w] == []
    assert bool(warnings) == (name in ANSWER_WARNINGS)
    # the SDK's model takes it, and gives back the same wire JSON
    assert sdk_answer(body) == body


@pytest.mark.parametrize("name", COMMAND_FILES + CALLOUT_FILES)
def test_every_command_fixture_validates_with_both_models(name: str) -> None:
    answer = as_answer(fixture(name)["body"])
    assert sdk_answer(answer) == answer
    if name == "v2-callout-stream-bridge.tutorials-4.2.json":
        # the tutorial's placeholders (+1SINCH_NUMBER): the SDK does not check formats, sinch_nb does
        with pytest.raises(ContractError, match=r"E\.164") as caught:
            validate_v2_answer(answer)
        assert caught.value.field == "commands.0.to.phone.number"
        return
    warnings = validate_v2_answer(answer)
    assert bool(warnings) == (name in ANSWER_WARNINGS)
    assert all(ANSWER_WARNINGS[name] in w for w in warnings)


def test_the_sdk_refuses_the_wire_webhook_command_it_writes() -> None:
    """Why ``for_sdk`` exists: when a newer SDK takes ``webhook``, this fails and ``for_sdk`` can go."""
    webhook = fixture("v2-command-webhook.oas.json")["body"]
    with pytest.raises(ValidationError, match="Input tag 'webhook'"):
        VoiceSinchEventResponse.model_validate({"commands": [webhook]})
    with pytest.raises(ContractError, match="'customEvent' is the Python SDK's name; on the wire it is 'webhook'"):
        validate_v2_answer({"commands": [{**webhook, "command": "customEvent"}]})


def test_the_voice_catalogue_is_the_sdks() -> None:
    (names,) = [get_args(arg) for arg in get_args(VoiceName) if get_origin(arg) is Literal]
    assert set(names) == VOICES


def _say(text: str = "Hi", voice: str = "Emma") -> dict[str, Any]:
    return {"command": "messages", "messages": [{"type": "SAY", "say": {"text": text, "voiceName": voice}}]}


def _menu(**item: Any) -> dict[str, Any]:
    return {"command": "menu", "startMenu": "main", "menus": {"main": item}}


def _dial(number: str = "+15551234567", **fields: Any) -> dict[str, Any]:
    return {"command": "dial", "to": {"type": "PHONE", "phone": {"number": number}}, **fields}


@pytest.mark.parametrize(
    ("commands", "field", "phrase"),
    [
        ([{"command": "say"}], "commands.0", "'say' is not a Voice API v2 command; use one of"),
        ([{"command": "hangUp"}], "commands.0", "did you mean 'hangup'?"),
        ([{"name": "hangup"}], "commands.0", 'no "command"'),
        (
            [{"command": "messages", "messages": [{"type": "SAY", "say": {"text": "Hi", "voice": "Emma"}}]}],
            "commands.0.messages.0.say.voiceName",
            "required and missing",
        ),
        (
            [{"command": "messages", "messages": [{"type": "SAY", "say": {"text": "x", "voiceName": "E", "vol": 1}}]}],
            "commands.0.messages.0.say.vol",
            "not a field here; remove it",
        ),
        ([{**_say(), "messagesname": "a"}], "commands.0.messagesname", "did you mean 'messagesName'?"),
        ([_say("x" * 601)], "commands.0.messages.0.say.text", "at most 600"),
        ([{"command": "messages", "messages": _say()["messages"] * 11}], "commands.0.messages", "at most 10"),
        ([{"command": "messages", "messages": []}], "commands.0.messages", "at least 1"),
        ([{"command": "hangup", "callName": "two words"}], "commands.0.callName", "without spaces"),
        ([{"command": "hangup", "callName": "x" * 33}], "commands.0.callName", "at most 32"),
        ([_dial("+1 555 123")], "commands.0.to.phone.number", "E.164"),
        ([_dial(dialTimeoutDurationSeconds=61)], "commands.0.dialTimeoutDurationSeconds", "less than or equal to 60"),
        ([_dial(dialTimeoutDurationSeconds="30")], "commands.0.dialTimeoutDurationSeconds", "send a JSON integer"),
        ([_dial(events={"onAnswered": []})], "commands.0.events.onAnswered", "did you mean 'onAnswer'?"),
        (
            [{"command": "dial", "to": {"type": "STREAM", "stream": {"endpoint": "https://x"}}}],
            "commands.0.to.stream.endpoint",
            "ws:// or wss://",
        ),
        ([{"command": "webhook", "webhookName": "w" * 65, "url": "https://x.io"}], "commands.0.webhookName", "64"),
        ([{"command": "webhook", "webhookName": "w", "url": "/relative"}], "commands.0.url", "absolute http"),
        ([{"command": "pause", "durationMilliseconds": 0}], "commands.0.durationMilliseconds", "greater than"),
        ([{**_menu(), "startMenu": "x"}], "commands.0.startMenu", "'x', which is not among"),
        (
            [_menu(matches={"1": [{"command": "gotoMenu", "menuName": "sales"}]})],
            "commands.0.menus.main.matches.1.0.menuName",
            "'sales', which is not among",
        ),
        ([_menu(minimumInputLength=3)], "commands.0.menus.main.minimumInputLength", "raise maximumInputLength"),
        ([_menu(matches={"*": [{"command": "hangup"}]})], "commands.0.menus.main.matches", "escape the star key"),
        ([_menu(repeatCount=11)], "commands.0.menus.main.repeatCount", "less than or equal to 10"),
        ([_menu(inputMethods=["VOICE"])], "commands.0.menus.main.inputMethods.0", "'DTMF'"),
        ([_menu(terminatingSequence="1a")], "commands.0.menus.main.terminatingSequence", "digits, * and #"),
        (
            [{"command": "menu", "startMenu": "m" * 17, "menus": {"m" * 17: {}}}],
            "commands.0.startMenu",
            "at most 16",
        ),
    ],
)
def test_an_answer_off_the_wire_is_refused_naming_the_field_and_the_fix(
    commands: list[Any], field: str, phrase: str
) -> None:
    with pytest.raises(ContractError) as caught:
        validate_v2_answer({"commands": commands}, "call.incoming")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"not a valid Voice API v2 answer: field {field}: ")
    assert phrase in str(caught.value)


def test_call_name_and_on_hangup_only_in_the_answer_to_call_incoming() -> None:
    named = {"commands": [{"command": "answer"}], "callName": "inbound"}
    on_hangup = {"commands": [{"command": "answer"}], "events": {"onHangup": [{"command": "hangup"}]}}
    for answer in (named, on_hangup):
        assert validate_v2_answer(answer, "call.incoming") == []
        assert validate_v2_answer(answer) == []  # the event unknown: not judged
        for event in ("call.answered", "call.menu", "call.webhook.x"):
            with pytest.raises(ContractError, match=f"only the answer to call.incoming.*answers {event}"):
                validate_v2_answer(answer, event)


@pytest.mark.parametrize(("answer", "phrase"), [([{"command": "hangup"}], "wrap the list"), ("hangup", "got str")])
def test_an_answer_that_is_not_an_object_is_refused(answer: Any, phrase: str) -> None:
    with pytest.raises(ContractError, match=phrase):
        validate_v2_answer(answer)


def test_an_empty_command_list_is_an_acknowledgement() -> None:
    assert validate_v2_answer({"commands": []}, "call.hangup") == []


def test_warnings_say_what_sinch_would_do_unexpectedly() -> None:
    hangup = {"command": "hangup"}
    cut = validate_v2_answer({"commands": [_say(), hangup]})
    assert len(cut) == 1 and cut[0].startswith("commands.1: hangup right after the messages at commands.0")
    waits = {**_say(), "events": {"onFinish": [hangup]}}
    assert validate_v2_answer({"commands": [waits]}) == []
    assert validate_v2_answer({"commands": [_say(), {"command": "pause", "durationMilliseconds": 900}, hangup]}) == []
    assert validate_v2_answer({"commands": [_say(), {"command": "hangup", "callName": "agent"}]}) == []
    nested = {"commands": [_dial(events={"onAnswer": [_say(), hangup]})]}
    assert validate_v2_answer(nested)[0].startswith("commands.0.events.onAnswer.1: hangup right after")

    (voice,) = validate_v2_answer({"commands": [_say(voice="Emmma")]})
    assert voice.startswith("commands.0.messages.0.say.voiceName: 'Emmma'") and "did you mean 'Emma'?" in voice
    prompt = validate_v2_answer({"commands": [_menu(prompt={"messages": _say(voice="Nobody")["messages"]})]})
    assert prompt[0].startswith("commands.0.menus.main.prompt.messages.0.say.voiceName: 'Nobody'")

    goto = {"commands": [{"command": "gotoMenu", "menuName": "main"}]}
    assert "gotoMenu works only inside a menu" in validate_v2_answer(goto, "call.incoming")[0]
    assert validate_v2_answer(goto, "call.menu") == []  # answering a menu's input continues that menu
    inside = {"commands": [_menu(matches={"1": [{"command": "gotoMenu", "menuName": "main"}]})]}
    assert validate_v2_answer(inside, "call.incoming") == []

    (failure,) = validate_v2_answer({"commands": [_menu(matches={"1": [hangup]}, onFailure=[hangup])]})
    assert failure.startswith("commands.0.menus.main.onFailure: Sinch reads onFail") and "Rename it onFail" in failure
    assert validate_v2_answer({"commands": [_menu(matches={"1": [hangup]}, onFail=[hangup])]}) == []


# --- signatures ---------------------------------------------------------------------------------

VECTORS = json.loads((V2 / "v2-signature-vectors.json").read_text())
SERVICE, SECRET = "a74b1566-0f18-4f8e-9c23-8e6b5df8fd3e", "F5wrP9SKYU6w8sbZXkp7GA=="


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_every_v2_signature_vector(vector: dict[str, Any]) -> None:
    call = (vector["method"], vector["path"], vector["headers"], vector["body"].encode())
    service = vector.get("validator_service_id", vector["service_id"])
    assert signing.verify_voice_v2_callback(*call, service, vector["service_secret"]) is vector["expected_by_source"]
    sdk = SDK.validate_authentication_header(*call, service, vector["service_secret"])
    assert sdk is vector["sdk_verdict"]["sinch_python_2.3.0"]  # the installed SDK is the one recorded
    if vector["name"] != "java-path-with-query":  # the one the Python SDK gets wrong (it signs the query)
        assert sdk is vector["expected_by_source"]
    if vector["body"] and "recomputed_signature" in vector and vector["x_timestamp"]:
        signed = signing.sign_voice_v2_callback(*call, vector["service_id"], vector["service_secret"])
        assert signed == f"service {vector['service_id']}:{vector['recomputed_signature']['node_oas']}"


def test_an_empty_body_is_signed_as_the_oas_says_and_verified_either_way() -> None:
    (vector,) = [v for v in VECTORS if v["name"] == "python-empty-body-vector"]
    call = (vector["method"], vector["path"], vector["headers"], b"")
    credentials = (vector["service_id"], vector["service_secret"])
    node = f"service {vector['service_id']}:{vector['recomputed_signature']['node_oas']}"
    assert signing.sign_voice_v2_callback(*call, *credentials) == node
    assert signing.voice_v2_string_to_sign(*call) == "POST\n\n\nx-timestamp:2026-06-10T21:27:04.1466768Z\n" + (
        "/webhooks/voice-v2/call/answered"
    )
    assert signing.verify_voice_v2_callback(*call, *credentials)  # the Python SDK's form (the vector)
    assert signing.verify_voice_v2_callback(
        "POST", vector["path"], {**vector["headers"], "Authorization": node}, b"", *credentials
    )  # the OAS/Node form
    forged = {**vector["headers"], "Authorization": f"service {vector['service_id']}:{'A' * 43}="}
    assert not signing.verify_voice_v2_callback("POST", vector["path"], forged, b"", *credentials)


def _sdk_authorization(path: str, headers: dict[str, str], body: bytes, service: str, secret: str) -> str:
    """An Authorization made with the SDK's own signing functions (it has no public signer)."""
    string = build_string_to_sign(
        "POST", compute_content_md5(body), headers["content-type"], headers["x-timestamp"], path
    )
    return f"service {service}:{compute_signature(string, secret)}"


BODIES = [raw_body(fixture(name)) for name in EVENT_FILES]


@pytest.mark.parametrize("body", BODIES, ids=EVENT_FILES)
def test_signatures_sinch_nb_makes_pass_the_sdk_and_the_sdks_pass_sinch_nb(body: bytes) -> None:
    path = "/webhook/voice"
    headers = signing.voice_v2_signing_headers(path, body, SERVICE, SECRET)
    assert SDK.validate_authentication_header("POST", path, headers, body, SERVICE, SECRET)
    assert signing.verify_voice_v2_callback("POST", path, headers, body, SERVICE, SECRET)
    for content_type in ("application/json", "application/json; charset=utf-8"):
        theirs = {"content-type": content_type, "x-timestamp": "2026-04-01T12:00:00.0000000Z"}
        theirs["authorization"] = _sdk_authorization(path, theirs, body, SERVICE, SECRET)
        assert signing.verify_voice_v2_callback("POST", path, theirs, body, SERVICE, SECRET)
        assert signing.sign_voice_v2_callback("POST", path, theirs, body, SERVICE, SECRET) == theirs["authorization"]


def test_the_signing_headers_are_as_sinch_writes_them() -> None:
    body = b'{"event":"call.incoming","call":{"callId":"c"}}'
    headers = signing.voice_v2_signing_headers("/", body, SERVICE, SECRET)
    assert headers["content-type"] == "application/json; charset=utf-8"
    stamp = headers["x-timestamp"]
    assert len(stamp) == len("2026-04-01T12:00:00.0000000Z") and stamp.endswith("Z")
    assert abs((datetime.fromisoformat(stamp.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()) < 5
    assert headers["authorization"].startswith(f"service {SERVICE}:")
    digest = hmac.new(
        base64.b64decode(SECRET), signing.voice_v2_string_to_sign("POST", "/", headers, body).encode(), hashlib.sha256
    )
    assert headers["authorization"].endswith(base64.b64encode(digest.digest()).decode())


@pytest.mark.parametrize(
    "change",
    ["secret", "body", "timestamp", "service", "header service", "path", "method", "content type", "scheme", "v1"],
)
def test_a_wrong_secret_body_timestamp_or_service_id_is_invalid(change: str) -> None:
    path, body = "/webhook/voice", raw_body(fixture("v2-call.incoming.oas.json"))
    headers = signing.voice_v2_signing_headers(path, body, SERVICE, SECRET)
    method, service, secret = "POST", SERVICE, SECRET
    assert signing.verify_voice_v2_callback(method, path, headers, body, service, secret)
    if change == "secret":
        secret = base64.b64encode(b"another 16 bytes").decode()
    elif change == "body":
        body = body.replace(b"INBOUND", b"OUTBOUND")
    elif change == "timestamp":
        stamp = headers["x-timestamp"]
        headers["x-timestamp"] = stamp[:-2] + ("2" if stamp[-2] == "1" else "1") + "Z"
    elif change == "service":
        service = "6e124178-c29d-46a5-943c-5c2ae544aade"
    elif change == "header service":
        headers["authorization"] = headers["authorization"].replace(SERVICE, "6e124178-c29d-46a5-943c-5c2ae544aade")
    elif change == "path":
        path = "/webhook/voice2"
    elif change == "method":
        method = "PUT"
    elif change == "content type":
        headers["content-type"] = "application/json"
    elif change == "scheme":
        headers["authorization"] = headers["authorization"].replace("service ", "Application ")
    elif change == "v1":  # a v1 signature over the same request is no v2 signature
        headers["authorization"] = signing.sign_voice_callback(method, path, headers, body, SERVICE, SECRET)
    assert not signing.verify_voice_v2_callback(method, path, headers, body, service, secret)
    assert not SDK.validate_authentication_header(method, path, headers, body, service, secret)


def test_the_query_is_not_signed_and_names_and_scheme_are_case_blind() -> None:
    body = b'{"event":"call.hangup","call":{"callId":"c"}}'
    headers = signing.voice_v2_signing_headers("/webhook/voice", body, SERVICE, SECRET)
    assert signing.verify_voice_v2_callback("post", "/webhook/voice?ce=1#x", headers, body, SERVICE, SECRET)
    shouted = {key.upper(): value.replace("service ", "SERVICE ") for key, value in headers.items()}
    assert signing.verify_voice_v2_callback("POST", "/webhook/voice", shouted, body, SERVICE, SECRET)
    for broken in ("", "service", f"service {SERVICE}", f"service  {SERVICE}:x", f"service {SERVICE}:a:b"):
        assert not signing.verify_voice_v2_callback(
            "POST", "/webhook/voice", {**headers, "authorization": broken}, body, SERVICE, SECRET
        )
    assert not signing.verify_voice_v2_callback("POST", "/webhook/voice", headers, body, "", SECRET)


def test_v1_application_vectors_never_pass_as_v2() -> None:
    vectors = json.loads((FIXTURES / "signature-vectors.json").read_text())["voice_application_signed"]
    assert not any("service " in str(v["request"]["headers"]).lower() for v in vectors)  # no v2 vectors there
    for vector in vectors:
        request = vector["request"]
        assert not signing.verify_voice_v2_callback(
            request["method"],
            request["path"],
            request["headers"],
            str(request.get("body", "")).encode(),
            vector["application_key"],
            vector["application_secret"],
        )


# --- CloudEvent headers -------------------------------------------------------------------------


def test_cloudevent_headers_of_the_oas_example_are_complete() -> None:
    event = read_cloudevent(fixture("v2-call.incoming.oas.json")["headers"])
    assert event.complete and event.missing == () and event.problems == ()
    assert event.id == "cb0c6a68-53de-4590-94a1-6e95df89fbac"
    assert event.source == "projects/5c5bf2b1-35ae-4825-ab89-457e07bb60e6/services/6e124178-c29d-46a5-943c-5c2ae544aade"
    assert event.type == "com.sinch.voice.call.control.v1"
    assert event.time == datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert event.specversion == "1.0"
    assert event.dedupe_key == f"{event.source} {event.id}"


@pytest.mark.parametrize("name", ["v2-call.incoming.tutorials-2.1.json", "v2-call.answered.tutorials-3.5.json"])
def test_the_tutorials_ce_type_is_not_a_problem(name: str) -> None:
    event = read_cloudevent(fixture(name)["headers"])
    assert event.type == "com.sinch.voice.webhook.v2"
    assert event.complete and event.problems == ()
    assert event.time == datetime(2026, 4, 1, 12, tzinfo=UTC)


def test_missing_cloudevent_headers_are_named() -> None:
    signed = read_cloudevent(fixture("v2-call.incoming.oas-signing-example.json")["headers"])
    assert signed.type == "com.sinch.voice.call.control.v1"
    assert signed.missing == ("ce-id", "ce-source", "ce-time", "ce-specversion")
    assert not signed.complete and signed.dedupe_key is None
    nothing = read_cloudevent({"content-type": "application/json"})
    assert nothing.missing == ("ce-id", "ce-source", "ce-type", "ce-time", "ce-specversion")
    assert (nothing.id, nothing.source, nothing.type, nothing.time, nothing.specversion) == (None,) * 5
    blank = read_cloudevent({"ce-id": "  ", "CE-SOURCE": "projects/p/services/s"})
    assert blank.id is None and blank.source == "projects/p/services/s" and "ce-id" in blank.missing


def test_cloudevent_headers_that_are_off_are_problems_not_errors() -> None:
    event = read_cloudevent(
        {"CE-ID": "1", "Ce-Source": "svc", "ce-type": "x", "ce-time": "yesterday", "ce-specversion": "0.3"}
    )
    assert event.complete and event.id == "1" and event.time is None
    assert len(event.problems) == 3
    assert any("ce-time 'yesterday'" in p for p in event.problems)
    assert any("ce-specversion is '0.3'" in p for p in event.problems)
    assert any("ce-source 'svc'" in p for p in event.problems)


def test_two_deliveries_of_one_event_share_a_dedupe_key() -> None:
    headers = fixture("v2-call.hangup.oas.json")["headers"]
    again = {**headers, "x-timestamp": "2026-04-01T12:00:03.0000000Z", "ce-time": "2026-04-01T12:00:03+00:00"}
    assert read_cloudevent(headers).dedupe_key == read_cloudevent(again).dedupe_key is not None
    other_service = {**headers, "ce-source": "projects/p/services/other"}
    assert read_cloudevent(other_service).dedupe_key != read_cloudevent(headers).dedupe_key
    assert read_cloudevent({"ce-id": "1"}).dedupe_key == "- 1"
