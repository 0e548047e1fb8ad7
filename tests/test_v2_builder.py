"""The Voice API v2 command builder and call view, against sinch 2.3.0 and Sinch's v2 fixtures.

(a) every builder method's output: the wire the reference's field tables give
    (reference/sinch-voice-v2.md §2–§4), accepted and round-tripped by the SDK's response model;
(b) the builder reproduces Sinch's response fixtures;
(c) each limit, broken, raises ``CommandError`` naming the command, the field and the limit;
(d) the ``call`` view over every v2 request fixture, agreeing with ``SinchEvents().parse_event``.

Two sinch 2.3.0 quirks the SDK checks work around (both in reference §3/§9 or found here): its
model discriminates the ``webhook`` command as ``customEvent`` (it renames it back when it
serializes), and it spells the menu failure handler ``onFailure`` where the platform reads
``onFail`` (which the model passes through as an extra field).
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sinch.domains.voice.api.v2.sinch_events import SinchEvents
from sinch.domains.voice.models.v2.sinch_events.voice_sinch_event_response import VoiceSinchEventResponse

from sinch_nb import svaml
from sinch_nb.functions.calls import Call, EventError, parse_call
from sinch_nb.functions.commands import (
    CommandBuilder,
    CommandError,
    MenuBuilder,
    as_answer,
    check_answer,
    commands,
    webhook_url_for,
)
from sinch_nb.functions.errors import AnswerError, SvamlError

V2 = Path(__file__).parent / "fixtures" / "sinch" / "v2"


def fixture(name: str) -> Any:
    return json.loads((V2 / f"{name}.json").read_text())["body"]


INCOMING = fixture("v2-call.incoming.oas")  # +14155552671 calls the service's +46735224800

# -- the SDK as the oracle -----------------------------------------------------


def _sdk_form(value: Any) -> Any:
    """The wire answer as sinch 2.3.0's model takes it: the ``webhook`` command tagged ``customEvent``."""
    if isinstance(value, dict):
        out = {key: _sdk_form(item) for key, item in value.items()}
        if out.get("command") == "webhook":
            out["command"] = "customEvent"
        return out
    if isinstance(value, list):
        return [_sdk_form(item) for item in value]
    return value


def _extras(model: Any, path: str = "") -> Iterator[str]:
    """Every field the SDK model took without knowing it."""
    if isinstance(model, BaseModel):
        yield from (f"{path}.{key}" for key in model.__pydantic_extra__ or {})
        for key, value in model.__dict__.items():
            yield from _extras(value, f"{path}.{key}")
    elif isinstance(model, list | tuple):
        for index, value in enumerate(model):
            yield from _extras(value, f"{path}[{index}]")
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from _extras(value, f"{path}[{key}]")


def assert_sdk_accepts(answer: dict[str, Any]) -> None:
    """The SDK's response model validates the answer, knows every field, and serializes it back unchanged."""
    model = VoiceSinchEventResponse.model_validate(_sdk_form(answer))
    unknown = [path for path in _extras(model) if not path.endswith(".onFail")]  # 2.3.0 calls it onFailure
    assert unknown == [], f"fields sinch 2.3.0 does not know: {unknown}"
    assert SinchEvents().serialize_response(model) == answer


#: Each command's wire fields, from the reference's tables (§2 commands, §3 menu items, §4 dial).
REFERENCE_FIELDS: dict[str, set[str]] = {
    "answer": set(),
    "hangup": {"callName"},
    "dial": {"to", "from", "callName", "dialTimeoutDurationSeconds", "maxCallDurationSeconds", "events"},
    "messages": {"messages", "messagesName", "events"},
    "stopMessages": {"messagesName"},
    "pause": {"durationMilliseconds"},
    "webhook": {"webhookName", "url", "fallbackUrl"},
    "amd": {"events"},
    "startRecording": {"recordingOptions", "recordingName", "events"},
    "stopRecording": {"recordingName"},
    "bridgeCall": {"bridgeName"},
    "menu": {"startMenu", "menus"},
    "gotoMenu": {"menuName"},
}
MENU_ITEM_FIELDS = {
    "prompt",
    "repeatPrompt",
    "inputTimeoutDurationSeconds",
    "repeatCount",
    "minimumInputLength",
    "maximumInputLength",
    "terminatingSequence",
    "inputMethods",
    "matches",
    "onFail",
}
EVENT_KEYS = {
    "dial": {"onAnswer", "onBusy", "onReject", "onTimeout", "onHangup", "onFailure"},
    "messages": {"onFinish"},
    "amd": {"onHuman", "onMachine", "onBeep", "onUnknown"},
    "startRecording": {"onFinish", "onFailure"},
}


def assert_reference_fields(commands_: list[dict[str, Any]]) -> None:
    """Every command, nested ones too, carries only fields the reference's tables list."""
    for command in commands_:
        name = command["command"]
        assert set(command) - {"command"} <= REFERENCE_FIELDS[name], name
        for key, flow in command.get("events", {}).items():
            assert key in EVENT_KEYS[name], (name, key)
            assert_reference_fields(flow)
        for item in command.get("menus", {}).values():
            assert set(item) <= MENU_ITEM_FIELDS
            for flow in [*item.get("matches", {}).values(), item.get("onFail", [])]:
                assert_reference_fields(flow)


def say(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "SAY", "say": {"text": text, "voiceName": "Emma", **extra}}


def messages(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"command": "messages", **fields, "messages": list(items)}


HANGUP = {"command": "hangup"}
SALES = {"type": "PHONE", "phone": {"number": "+15550001111"}}

# -- (a) every method ----------------------------------------------------------

#: One or more uses of each builder method, and the commands the reference's tables give for it.
METHODS: dict[str, tuple[Callable[[CommandBuilder], Any], list[dict[str, Any]]]] = {
    "answer": (lambda b: b.answer(), [{"command": "answer"}]),
    "say": (lambda b: b.say("Hi"), [messages(say("Hi"))]),
    "say voice": (
        lambda b: b.say("Hej", voice="Astrid"),
        [messages({"type": "SAY", "say": {"text": "Hej", "voiceName": "Astrid"}})],
    ),
    "say ssml": (lambda b: b.say("<speak>Hi</speak>", ssml=True), [messages(say("<speak>Hi</speak>", format="SSML"))]),
    "say name": (lambda b: b.say("Hi", name="greeting"), [messages(say("Hi"), messagesName="greeting")]),
    "say+play join": (
        lambda b: b.say("Hi").play("https://x.example/a.mp3"),
        [messages(say("Hi"), {"type": "PLAY", "play": {"url": "https://x.example/a.mp3"}})],
    ),
    "say, other name": (
        lambda b: b.say("a", name="one").say("b", name="two"),
        [messages(say("a"), messagesName="one"), messages(say("b"), messagesName="two")],
    ),
    "play": (
        lambda b: b.play("https://x.example/a.mp3"),
        [messages({"type": "PLAY", "play": {"url": "https://x.example/a.mp3"}})],
    ),
    "hangup": (lambda b: b.hangup(), [HANGUP]),
    "hangup leg": (lambda b: b.hangup("agent"), [{"command": "hangup", "callName": "agent"}]),
    "hangup after say": (lambda b: b.say("Bye").hangup(), [{**messages(say("Bye")), "events": {"onFinish": [HANGUP]}}]),
    "hangup not after say": (
        lambda b: b.say("Bye").pause(500).hangup(),
        [messages(say("Bye")), {"command": "pause", "durationMilliseconds": 500}, HANGUP],
    ),
    "pause": (lambda b: b.pause(1500), [{"command": "pause", "durationMilliseconds": 1500}]),
    "stop_messages": (lambda b: b.stop_messages("hold"), [{"command": "stopMessages", "messagesName": "hold"}]),
    "amd": (lambda b: b.amd(), [{"command": "amd"}]),
    "amd flows": (
        lambda b: b.amd(
            on_human=lambda h: h.say("Hi"), on_machine=[HANGUP], on_beep=commands().pause(1), on_unknown=[]
        ),
        [
            {
                "command": "amd",
                "events": {
                    "onHuman": [messages(say("Hi"))],
                    "onMachine": [HANGUP],
                    "onBeep": [{"command": "pause", "durationMilliseconds": 1}],
                    "onUnknown": [],
                },
            }
        ],
    ),
    "webhook": (
        lambda b: b.webhook("menu-selection", "https://fn.example/webhook/voice", fallback_url="https://fb.example/"),
        [
            {
                "command": "webhook",
                "webhookName": "menu-selection",
                "url": "https://fn.example/webhook/voice",
                "fallbackUrl": "https://fb.example/",
            }
        ],
    ),
    "start_recording": (
        lambda b: b.start_recording(
            "gs://bucket/calls",
            "service-account",
            name="rec",
            format="wav",
            recording_type="inbound",
            transcription=True,
            on_finish=lambda f: f.hangup(),
            on_failure=[HANGUP],
        ),
        [
            {
                "command": "startRecording",
                "recordingName": "rec",
                "recordingOptions": {
                    "destination": "GCP",
                    "destinationUrl": "gs://bucket/calls",
                    "credentials": "service-account",
                    "format": "WAV",
                    "recordingType": "INBOUND",
                    "transcriptionOptions": {"isEnabled": True},
                },
                "events": {"onFinish": [HANGUP], "onFailure": [HANGUP]},
            }
        ],
    ),
    "stop_recording": (lambda b: b.stop_recording("rec"), [{"command": "stopRecording", "recordingName": "rec"}]),
    "menu": (
        lambda b: b.menu(
            "main",
            lambda m: (
                m.prompt("Press 1", "https://x.example/p.mp3", barge_in=False)
                .repeat_prompt("Again: press 1", voice="Joanna")
                .max_length(2)
                .min_length(1)
                .repeat_count(3)
                .input_timeout(9)
                .terminating_sequence("#")
                .option("1", lambda o: o.say("One").hangup())
                .option("*", [{"command": "gotoMenu", "menuName": "main"}])
                .option(9, lambda o: o.goto_menu("more"))
                .match("^[2-8]{2}$", lambda o: o.pause(10))
                .on_fail(lambda f: f.hangup())
                .submenu("more", lambda s: s.prompt("More").option("0", lambda o: o.goto_menu("main")))
            ),
        ),
        [
            {
                "command": "menu",
                "startMenu": "main",
                "menus": {
                    "main": {
                        "prompt": {
                            "messages": [say("Press 1"), {"type": "PLAY", "play": {"url": "https://x.example/p.mp3"}}],
                            "allowBargeIn": False,
                        },
                        "repeatPrompt": {
                            "messages": [{"type": "SAY", "say": {"text": "Again: press 1", "voiceName": "Joanna"}}]
                        },
                        "inputTimeoutDurationSeconds": 9,
                        "repeatCount": 3,
                        "minimumInputLength": 1,
                        "maximumInputLength": 2,
                        "terminatingSequence": "#",
                        "matches": {
                            "1": [{**messages(say("One")), "events": {"onFinish": [HANGUP]}}],
                            "\\*": [{"command": "gotoMenu", "menuName": "main"}],
                            "9": [{"command": "gotoMenu", "menuName": "more"}],
                            "^[2-8]{2}$": [{"command": "pause", "durationMilliseconds": 10}],
                        },
                        "onFail": [HANGUP],
                    },
                    "more": {
                        "prompt": {"messages": [say("More")]},
                        "matches": {"0": [{"command": "gotoMenu", "menuName": "main"}]},
                    },
                },
            }
        ],
    ),
    "dial_phone": (
        lambda b: b.dial_phone("+15550001111"),
        [
            {"command": "bridgeCall", "bridgeName": "destination"},
            {
                "command": "dial",
                "callName": "destination",
                "to": SALES,
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "destination"}]},
            },
        ],
    ),
    "dial_phone twice": (
        lambda b: b.dial_phone("+15550001111").dial_phone("+15550002222", timeout=20, max_duration=600),
        [
            {"command": "bridgeCall", "bridgeName": "destination"},
            {
                "command": "dial",
                "callName": "destination",
                "to": SALES,
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "destination"}]},
            },
            {"command": "bridgeCall", "bridgeName": "destination-2"},
            {
                "command": "dial",
                "callName": "destination-2",
                "to": {"type": "PHONE", "phone": {"number": "+15550002222"}},
                "dialTimeoutDurationSeconds": 20,
                "maxCallDurationSeconds": 600,
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "destination-2"}]},
            },
        ],
    ),
    "dial_sip": (
        lambda b: b.dial_sip("sip:alice@sip.example.com", transport="tls", headers={"x-id": "7"}, from_="+15550009999"),
        [
            {"command": "bridgeCall", "bridgeName": "destination"},
            {
                "command": "dial",
                "callName": "destination",
                "from": {"type": "PHONE", "phone": {"number": "+15550009999"}},
                "to": {
                    "type": "SIP",
                    "sip": {
                        "endpoint": "sip:alice@sip.example.com",
                        "transport": "TLS",
                        "callHeaders": [{"key": "x-id", "value": "7"}],
                    },
                },
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "destination"}]},
            },
        ],
    ),
    "dial_stream": (
        lambda b: b.dial_stream("wss://ws.example/audio", sample_rate=16000, on_answer=lambda a: a.say("Connected")),
        [
            {"command": "bridgeCall", "bridgeName": "stream"},
            {
                "command": "dial",
                "callName": "stream",
                "to": {
                    "type": "STREAM",
                    "stream": {
                        "endpoint": "wss://ws.example/audio",
                        "streamOptions": {"version": 1, "codec": "PCM", "sampleRate": 16000},
                    },
                },
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "stream"}, messages(say("Connected"))]},
            },
        ],
    ),
    "dial_relay": (
        lambda b: b.dial_relay("wss://relay.example/agent", voice="Emma", language="sv-SE", interruptions=False),
        [
            {"command": "bridgeCall", "bridgeName": "relay"},
            {
                "command": "dial",
                "callName": "relay",
                "to": {
                    "type": "VOICE_RELAY",
                    "voiceRelay": {
                        "endpoint": "wss://relay.example/agent",
                        "ttsVoice": "Emma",
                        "sttLanguage": "sv-SE",
                        "enableInterruptions": False,
                    },
                },
                "events": {"onAnswer": [{"command": "bridgeCall", "bridgeName": "relay"}]},
            },
        ],
    ),
    "bridge_to + on_no_answer": (
        lambda b: b.bridge_to("sip:bob@pbx.example", name="bob", bridge="room").on_no_answer(lambda n: n.say("Sorry")),
        [
            {"command": "bridgeCall", "bridgeName": "room"},
            {
                "command": "dial",
                "callName": "bob",
                "to": {"type": "SIP", "sip": {"endpoint": "sip:bob@pbx.example"}},
                "events": {
                    "onAnswer": [{"command": "bridgeCall", "bridgeName": "room"}],
                    **{key: [messages(say("Sorry"))] for key in ("onBusy", "onReject", "onTimeout", "onFailure")},
                },
            },
        ],
    ),
    "dial": (
        lambda b: b.dial("+15550001111", name="sales", from_="+15550009999", timeout=30, events={"onAnswer": [HANGUP]}),
        [
            {
                "command": "dial",
                "callName": "sales",
                "from": {"type": "PHONE", "phone": {"number": "+15550009999"}},
                "to": SALES,
                "dialTimeoutDurationSeconds": 30,
                "events": {"onAnswer": [HANGUP]},
            }
        ],
    ),
    "bridge_call": (lambda b: b.bridge_call("my_bridge"), [{"command": "bridgeCall", "bridgeName": "my_bridge"}]),
    "goto_menu (in a menu)": (
        lambda b: b.menu("main", lambda m: m.option("0", lambda o: o.goto_menu("main"))),
        [
            {
                "command": "menu",
                "startMenu": "main",
                "menus": {"main": {"matches": {"0": [{"command": "gotoMenu", "menuName": "main"}]}}},
            }
        ],
    ),
    "add": (lambda b: b.add(HANGUP, {"command": "answer"}), [HANGUP, {"command": "answer"}]),
}


@pytest.mark.parametrize("name", METHODS)
def test_each_method_gives_the_reference_wire_and_the_sdk_accepts_it(name: str) -> None:
    use, expected = METHODS[name]
    built = use(commands()).build()
    assert built == {"commands": expected}
    assert_reference_fields(built["commands"])
    assert_sdk_accepts(built)


def test_every_public_method_is_exercised_above() -> None:
    used = " ".join(inspect.getsource(use) for use, _ in METHODS.values())
    answer_level = {"call_name", "on_hangup", "build", "commands"}  # tested below
    for cls in (CommandBuilder, MenuBuilder):
        public = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")} - answer_level
        missing = [n for n in public if f".{n}(" not in used]
        assert missing == [], f"{cls.__name__} methods without a wire test: {missing}"


def test_svaml_commands_is_the_builder_and_takes_the_call() -> None:
    builder = svaml.commands(INCOMING)
    assert isinstance(builder, CommandBuilder)
    assert builder.answer().build() == {"commands": [{"command": "answer"}]}
    assert repr(svaml.commands().answer().say("x")) == "CommandBuilder(answer → messages)"


def test_call_name_and_on_hangup_belong_to_the_answer() -> None:
    built = commands().call_name("incoming").answer().on_hangup([HANGUP]).build()
    assert built == {"commands": [{"command": "answer"}], "callName": "incoming", "events": {"onHangup": [HANGUP]}}
    assert_sdk_accepts(built)
    with pytest.raises(SvamlError, match="not inside a flow"):
        commands().amd(on_human=lambda b: b.call_name("x"))
    with pytest.raises(SvamlError, match="not to a flow"):
        commands().amd(on_human=lambda b: b.on_hangup([HANGUP]))


def test_a_builder_made_for_a_call_fills_names_from_and_teardown() -> None:
    built = commands(INCOMING).answer().dial_phone("+15550001111").build()
    teardown = [{"command": "hangup", "callName": "incoming"}]
    dial = built["commands"][2]
    assert dial["from"] == {"type": "PHONE", "phone": {"number": "+46735224800"}}  # the number called: ours
    assert dial["events"] == {
        "onAnswer": [{"command": "bridgeCall", "bridgeName": "destination"}],
        "onHangup": teardown,
        **dict.fromkeys(("onBusy", "onReject", "onTimeout", "onFailure"), teardown),
    }
    assert built["callName"] == "incoming"
    assert built["events"] == {"onHangup": [{"command": "hangup", "callName": "destination"}]}
    assert_sdk_accepts(built)
    # a later answer (call.answered of an outbound leg named "agent"): teardown by that name, no callName
    answered = {
        **fixture("v2-call.answered.oas"),
        "call": {**fixture("v2-call.answered.oas")["call"], "callName": "agent"},
    }
    later = commands(answered).dial_phone("+15550001111").build()
    assert "callName" not in later and "events" not in later
    assert later["commands"][1]["events"]["onHangup"] == [{"command": "hangup", "callName": "agent"}]
    assert later["commands"][1]["from"] == {"type": "PHONE", "phone": {"number": "+46735224800"}}  # outbound: our from
    with pytest.raises(SvamlError, match="before the dial verbs"):
        commands(INCOMING).dial_phone("+15550001111").call_name("late")


def test_the_issue_example_nests_dials_in_the_answers_teardown() -> None:
    call = Call(INCOMING)
    built = (
        svaml.commands(call)
        .answer()
        .say(f"Hi {call.from_.number}", voice="Emma")  # type: ignore[union-attr]
        .menu(
            "main",
            lambda m: (
                m.prompt("Press 1 for sales, 2 for support")
                .option("1", lambda b: b.say("Sales").dial_phone("+15550001111"))
                .option("2", lambda b: b.say("Bye").hangup())
            ),
        )
        .build()
    )
    option = built["commands"][2]["menus"]["main"]["matches"]["1"]
    assert [c["command"] for c in option] == ["messages", "bridgeCall", "dial"]
    assert built["callName"] == "incoming"
    assert built["events"]["onHangup"] == [{"command": "hangup", "callName": "destination"}]
    assert_sdk_accepts(built)


def test_webhook_without_url_posts_to_the_function() -> None:
    builder = commands().webhook("ask")
    with pytest.raises(CommandError) as missing:
        builder.build()
    assert (missing.value.command, missing.value.field) == ("webhook", "url")
    expected = {"commands": [{"command": "webhook", "webhookName": "ask", "url": "https://fn.example/webhook/voice"}]}
    assert builder.build(webhook_url="https://fn.example/webhook/voice") == expected
    with webhook_url_for("https://fn.example/webhook/voice"):
        assert builder.build() == expected
        assert as_answer({"commands": [{"command": "webhook", "webhookName": "ask"}]}) == expected
    assert_sdk_accepts(expected)


def test_as_answer_takes_what_a_handler_returns() -> None:
    assert as_answer(None) is None
    assert as_answer(commands().answer()) == {"commands": [{"command": "answer"}]}
    assert as_answer({"commands": []}) == {"commands": []}
    with pytest.raises(CommandError):
        as_answer({"commands": [{"command": "pause", "durationMilliseconds": 0}]})
    with pytest.raises(AnswerError, match="returns the builder"):
        as_answer("hangup")


# -- (b) Sinch's response fixtures ---------------------------------------------

GREETING = "Welcome to Acme. Please hold while we connect your call."

#: Response fixture → the builder chain that reproduces it exactly.
RESPONSES: dict[str, Callable[[], CommandBuilder]] = {
    "v2-response-empty-ack.tutorials": lambda: commands(),
    "v2-response-play-and-hangup.oas": lambda: (
        commands().say("Hello! Your verification code is 4 2 7 8. Goodbye.").hangup()
    ),
    "v2-response-welcome-hangup.oas": lambda: commands().say("Welcome to our service!").hangup(),
    "v2-response-incoming-goodbye.tutorials-3.5": lambda: (
        commands().answer().say("Thank you for calling. Goodbye.").hangup().on_hangup(lambda b: b.hangup())
    ),
    "v2-response-from-webhook-server.sdk-e2e": lambda: (
        commands().say("This message came from your local webhook server.", name="from-webhook-server").hangup()
    ),
    "v2-response-static-incoming.oas": lambda: (
        commands()
        .call_name("incoming")
        .answer()
        .say("Your call is working fine! This call will be disconnected.")
        .hangup()
    ),
    "v2-response-incoming-greeting.oas": lambda: (
        commands().call_name("incoming").say("Thank you for calling. Goodbye.").hangup()
    ),
    "v2-response-static-pause-hangup.oas": lambda: commands().call_name("incoming").pause(5000).hangup(),
    "v2-response-hangup-with-events.java-sdk": lambda: (
        commands().call_name("incoming").hangup("origin").on_hangup(lambda b: b.hangup("origin"))
    ),
    "v2-response-messages-hangup.node-sdk": lambda: (
        # the Node SDK test sends the hangup as its own command (it cuts the message): add() keeps it so
        commands().call_name("incoming").say("Thank you for calling. Goodbye.").add(HANGUP)
    ),
    "v2-response-incoming-amd.tutorials-3.2": lambda: (
        commands()
        .answer()
        .amd(
            on_human=lambda b: b.say(
                "Hello! This is a call from Acme Corp. An agent will be with you shortly.", name="human-greeting"
            ).hangup(),
            on_machine=lambda b: b.hangup(),
            on_beep=lambda b: b.say(
                "Hi, this is Acme Corp calling about your recent inquiry. Please call us back at 555-1234. Thank you.",
                name="voicemail-message",
            ).hangup(),
            on_unknown=[HANGUP],
        )
        .on_hangup(lambda b: b.hangup())
    ),
    "v2-response-incoming-recording.tutorials-3.3": lambda: (
        commands()
        .answer()
        .start_recording(
            "s3://my-voice-recordings/recordings/",
            "ACCESS_KEY:SECRET_KEY:REGION",
            name="main-recording",
            format="MP3",
            recording_type="COMBINED",
            transcription="en-US",
        )
        .say("This call may be recorded for quality and compliance purposes.", name="recording-notice")
        .on_hangup(lambda b: b.hangup())
    ),
    "v2-response-incoming-bridge-agent.tutorials-2.1": lambda: (
        commands()
        .call_name("incoming")
        .answer()
        .say(GREETING, name="greeting")
        .bridge_call("inbound-bridge")
        .dial(
            "+14155559876",
            name="agent",
            from_="+14045001000",
            timeout=30,
            events={
                "onAnswer": lambda b: b.bridge_call("inbound-bridge"),
                "onHangup": lambda b: b.hangup("incoming"),
                "onTimeout": lambda b: b.hangup("incoming"),
            },
        )
        .on_hangup(lambda b: b.hangup("agent"))
    ),
}


@pytest.mark.parametrize("name", RESPONSES)
def test_the_builder_reproduces_sinch_response_fixtures(name: str) -> None:
    built = RESPONSES[name]().build()
    assert built == fixture(name)
    assert_sdk_accepts(built)


def _plus_no_answer(answer: dict[str, Any], dial_index: int, leg: str) -> dict[str, Any]:
    """``answer`` with the no-answer teardown dial helpers add (the tutorials set only onTimeout, or none)."""
    out = copy.deepcopy(answer)
    events = out["commands"][dial_index]["events"]
    for key in ("onBusy", "onReject", "onTimeout", "onFailure"):
        events[key] = [{"command": "hangup", "callName": leg}]
    return out


def test_dial_helpers_reproduce_the_tutorials_bridges_plus_their_no_answer_teardown() -> None:
    agent = (
        commands()
        .call_name("incoming")
        .answer()
        .say(GREETING, name="greeting")
        .dial_phone("+14155559876", name="agent", from_="+14045001000", timeout=30, bridge="inbound-bridge")
        .build()
    )
    assert agent == _plus_no_answer(fixture("v2-response-incoming-bridge-agent.tutorials-2.1"), 3, "incoming")
    stream = (
        commands()
        .call_name("inbound")
        .answer()
        .dial_stream(
            "wss://abc123.ngrok-free.app",
            name="stream-leg",
            timeout=10,
            headers={"X-Call-From": "+14155552671"},
            bridge="stream-bridge",
        )
        .build()
    )
    assert stream == _plus_no_answer(fixture("v2-response-incoming-stream-bridge.tutorials-4.2"), 2, "inbound")
    for built in (agent, stream):
        assert_sdk_accepts(built)


def test_the_menu_fixture_with_the_failure_handler_the_platform_reads() -> None:
    built = (
        commands()
        .call_name("incoming")
        .answer()
        .menu(
            "main",
            lambda m: (
                m.prompt("Press 1 for sales, 2 for support.")
                .max_length(1)
                .option("1", lambda b: b.say("Sales.").hangup())
                .option("2", lambda b: b.goto_menu("main"))
                .on_fail(lambda b: b.hangup())
            ),
        )
        .on_hangup(lambda b: b.hangup())
        .build()
    )
    expected = fixture("v2-response-menu.python-sdk-generated")
    main = expected["commands"][1]["menus"]["main"]
    main["onFail"] = main.pop("onFailure")  # sinch 2.3.0's spelling; the OAS and the Java SDK say onFail
    assert built == expected
    assert_sdk_accepts(built)
    with pytest.raises(CommandError, match="onFailure") as refused:
        check_answer(fixture("v2-response-menu.python-sdk-generated"))
    assert refused.value.limit == "write onFail"


#: Single-command fixture → the builder chain that reproduces it.
COMMANDS: dict[str, Callable[[], CommandBuilder]] = {
    "v2-command-messages.oas": lambda: (
        commands()
        .say("Hello! Your call is being connected.", name="greeting-sequence")
        .play("https://example.com/audio/hold-music.mp3")
        .say('<speak><prosody volume="-6dB">Thank you for waiting.</prosody></speak>', ssml=True)
    ),
    "v2-command-webhook.oas": lambda: commands().webhook(
        "my.custom.event", "https://example.com/webhook", fallback_url="https://example.com/fallback"
    ),
    "v2-command-webhook.java-sdk": lambda: commands().webhook(
        "my.custom.event", "https://example.com/events", fallback_url="https://fallback.example.com/events"
    ),
    "v2-command-amd.oas": lambda: commands().amd(
        on_human=lambda b: b.pause(1000).bridge_call("my-bridge"),
        on_beep=lambda b: b.say("Hello, this is a test message", name="my-amd-messages"),
    ),
    "v2-command-start-recording.oas": lambda: commands().start_recording(
        "s3://voice-recordings-prod/calls",
        "accessKeyId:secretAccessKey:eu-central-1",
        name="customer-support-recording",
        format="MP3",
        recording_type="COMBINED",
        transcription="en-US",
        on_finish=lambda b: b.hangup(),
        on_failure=lambda b: b.say("Recording could not be started for this call."),
    ),
    "v2-command-dial-phone.oas": lambda: commands().dial(
        "+15559876543",
        name="destination",
        from_="+15551234567",
        timeout=30,
        max_duration=3600,
        events={"onAnswer": lambda b: b.say("Your call has connected.")},
    ),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_the_builder_reproduces_sinch_command_fixtures(name: str) -> None:
    built = COMMANDS[name]().build()
    assert built == {"commands": [fixture(name)]}
    assert_sdk_accepts(built)


def test_the_builder_reproduces_the_misc_command_examples() -> None:
    built = (
        commands().stop_messages("my-messages").hangup("origin").answer().pause(1500).bridge_call("my_bridge").build()
    )
    assert built == {"commands": fixture("v2-command-misc.oas")}


def test_dial_destinations_match_the_java_fixtures() -> None:
    stream = commands().dial_stream(
        "wss://myapp.example.com/audio", sample_rate=16000, headers={"customer-id": "12345"}
    )
    assert stream.build()["commands"][1]["to"] == fixture("v2-command-dial-stream.java-sdk")["to"]
    relay = commands().dial_relay(
        "wss://relay.example.com/agent",
        voice="Emma",
        language="en-US",
        interruptions=False,
        headers=[{"key": "customer-id", "value": "12345"}],
    )
    assert relay.build()["commands"][1]["to"] == fixture("v2-command-dial-voice-relay.java-sdk")["to"]


def test_the_oas_menu_example_up_to_its_default_input_methods() -> None:
    built = commands().menu(
        "main",
        lambda m: (
            m.prompt("Press 1 for sales or 2 for support.", barge_in=True)
            .repeat_prompt("Invalid option. Press 1 for sales or 2 for support.", barge_in=True)
            .input_timeout(5)
            .repeat_count(2)
            .min_length(1)
            .max_length(1)
            .option("1", lambda b: b.say("Connecting to sales.").dial("+15551234567", name="sales"))
            .option("2", lambda b: b.say("Connecting to support.").dial("+15557654321", name="support"))
            .on_fail(lambda b: b.say("Sorry, no valid selection was received.").add(HANGUP))
        ),
    )
    expected = fixture("v2-command-menu.oas")
    assert expected["menus"]["main"].pop("inputMethods") == ["DTMF"]  # the default and only value; not emitted
    assert built.build() == {"commands": [expected]}
    check_answer({"commands": [fixture("v2-command-menu.oas"), fixture("v2-command-menu.java-sdk")]})


@pytest.mark.parametrize("path", sorted(V2.glob("v2-response-*.json")), ids=lambda p: p.stem)
def test_every_response_fixture_passes_the_check_but_the_sdks_onfailure(path: Path) -> None:
    body = json.loads(path.read_text())["body"]
    if path.stem == "v2-response-menu.python-sdk-generated":
        with pytest.raises(CommandError, match="onFailure"):
            check_answer(body)
    else:
        check_answer(body)
        assert as_answer(body) == body


# -- (c) limits ----------------------------------------------------------------

LONG = "x" * 601
NAME33 = "n" * 33


def _menu(configure: Callable[[MenuBuilder], Any]) -> Callable[[CommandBuilder], Any]:
    return lambda b: b.menu("main", configure)


#: (builder use, command, field, words of the limit)
LIMITS: dict[str, tuple[Callable[[CommandBuilder], Any], str, str, str]] = {
    "11 messages": (lambda b: [b.say(str(i)) for i in range(11)], "messages", "messages", "1–10 messages"),
    "say text": (lambda b: b.say(LONG), "messages", "messages[0].say.text", "1–600 characters"),
    "empty say": (lambda b: b.say(""), "messages", "messages[0].say.text", "1–600 characters"),
    "say format": (
        lambda b: b.add(messages(say("x", format="HTML"))),
        "messages",
        "messages[0].say.format",
        "TEXT, SSML",
    ),
    "messages name": (lambda b: b.say("x", name=NAME33), "messages", "messagesName", "1–32 characters"),
    "prompt messages": (
        _menu(lambda m: m.prompt(*["x"] * 11)),
        "menu",
        "menus.main.prompt.messages",
        "1–10 messages",
    ),
    "prompt text": (
        _menu(lambda m: m.prompt(LONG)),
        "menu",
        "menus.main.prompt.messages[0].say.text",
        "1–600 characters",
    ),
    "51 matches": (
        _menu(lambda m: [m.match(f"^{i}$", [HANGUP]) for i in range(51)]),
        "menu",
        "menus.main.matches",
        "at most 50 patterns",
    ),
    "match length": (
        _menu(lambda m: m.match("1" * 257, [HANGUP])),
        "menu",
        f"menus.main.matches[{'1' * 257!r}]",
        "1–256",
    ),
    "match regex": (
        _menu(lambda m: m.match("([", [HANGUP])),
        "menu",
        "menus.main.matches['([']",
        "a literal or a regex",
    ),
    "option longer than max_length": (
        _menu(lambda m: m.option("12", [HANGUP])),
        "menu",
        "menus.main.matches['12']",
        "maximumInputLength 1",
    ),
    "menu name": (lambda b: b.menu("m" * 17, lambda m: m.prompt("x")), "menu", "startMenu", "1–16 characters"),
    "submenu name": (
        _menu(lambda m: m.submenu("s" * 17, lambda s: s.prompt("x"))),
        "menu",
        f"menus[{'s' * 17!r}]",
        "1–16",
    ),
    "input timeout 0": (
        _menu(lambda m: m.input_timeout(0)),
        "menu",
        "menus.main.inputTimeoutDurationSeconds",
        "1 to 60",
    ),
    "input timeout 61": (
        _menu(lambda m: m.input_timeout(61)),
        "menu",
        "menus.main.inputTimeoutDurationSeconds",
        "1 to 60",
    ),
    "repeat count 11": (_menu(lambda m: m.repeat_count(11)), "menu", "menus.main.repeatCount", "0 to 10"),
    "repeat count -1": (_menu(lambda m: m.repeat_count(-1)), "menu", "menus.main.repeatCount", "0 to 10"),
    "max length 101": (_menu(lambda m: m.max_length(101)), "menu", "menus.main.maximumInputLength", "1 to 100"),
    "min above max": (
        _menu(lambda m: m.min_length(3).max_length(2)),
        "menu",
        "menus.main.minimumInputLength",
        "maximumInputLength",
    ),
    "terminating keys": (
        _menu(lambda m: m.terminating_sequence("a")),
        "menu",
        "menus.main.terminatingSequence",
        "0-9, * and #",
    ),
    "terminating length": (
        _menu(lambda m: m.terminating_sequence("#" * 11)),
        "menu",
        "menus.main.terminatingSequence",
        "1–10",
    ),
    "repeat prompt alone": (
        _menu(lambda m: m.repeat_prompt("x")),
        "menu",
        "menus.main.repeatPrompt",
        "only with a prompt",
    ),
    "call name": (lambda b: b.call_name(NAME33), "answer", "callName", "1–32 characters"),
    "call name space": (lambda b: b.call_name("my leg"), "answer", "callName", "no whitespace"),
    "leg name": (lambda b: b.dial_phone("+15550001111", name="my leg"), "dial", "callName", "no whitespace"),
    "hangup leg name": (lambda b: b.hangup(NAME33), "hangup", "callName", "1–32 characters"),
    "stop messages name": (lambda b: b.stop_messages(""), "stopMessages", "messagesName", "1–32 characters"),
    "recording name": (
        lambda b: b.start_recording("s3://b/k", "a:b:c", name=NAME33),
        "startRecording",
        "recordingName",
        "1–32",
    ),
    "recording format": (
        lambda b: b.start_recording("s3://b/k", "a:b:c", format="ogg"),
        "startRecording",
        "recordingOptions.format",
        "MP3, WAV",
    ),
    "recording url": (
        lambda b: b.add(
            {
                "command": "startRecording",
                "recordingOptions": {"destination": "AWS", "destinationUrl": "gs://b", "credentials": "k"},
            }
        ),
        "startRecording",
        "recordingOptions.destinationUrl",
        "s3://",
    ),
    "stop recording name": (lambda b: b.stop_recording(NAME33), "stopRecording", "recordingName", "1–32 characters"),
    "bridge name": (lambda b: b.bridge_call(NAME33), "bridgeCall", "bridgeName", "1–32 characters"),
    "webhook name": (lambda b: b.webhook("w" * 65, "https://x.example"), "webhook", "webhookName", "1–64 characters"),
    "webhook name space": (lambda b: b.webhook("a b", "https://x.example"), "webhook", "webhookName", "no whitespace"),
    "webhook url": (lambda b: b.webhook("a", "ftp://x"), "webhook", "url", "http(s) URL"),
    "goto name": (_menu(lambda m: m.option("1", lambda o: o.goto_menu("g" * 17))), "gotoMenu", "menuName", "1–16"),
    "goto outside": (lambda b: b.goto_menu("main"), "gotoMenu", "menuName", "only in a menu"),
    "goto unknown": (_menu(lambda m: m.option("1", lambda o: o.goto_menu("other"))), "gotoMenu", "menuName", "main"),
    "dial timeout 0": (
        lambda b: b.dial_phone("+15550001111", timeout=0),
        "dial",
        "dialTimeoutDurationSeconds",
        "1 to 60",
    ),
    "dial timeout 61": (
        lambda b: b.dial_phone("+15550001111", timeout=61),
        "dial",
        "dialTimeoutDurationSeconds",
        "1 to 60",
    ),
    "max duration": (
        lambda b: b.dial_phone("+15550001111", max_duration=14401),
        "dial",
        "maxCallDurationSeconds",
        "14400",
    ),
    "phone number": (lambda b: b.dial_phone("555-0100"), "dial", "to.phone.number", "E.164"),
    "sip uri": (lambda b: b.dial_sip("alice@example.com"), "dial", "to.sip.endpoint", "sip:/sips:"),
    "sample rate": (
        lambda b: b.dial_stream("wss://x.example", sample_rate=11025),
        "dial",
        "to.stream.streamOptions.sampleRate",
        "8000",
    ),
    "call headers": (
        lambda b: b.dial_sip("sip:a@b.example", headers={f"h{i}": "v" for i in range(17)}),
        "dial",
        "to.sip.callHeaders",
        "at most 16",
    ),
    "pause 0": (lambda b: b.pause(0), "pause", "durationMilliseconds", "≥ 1"),
    "pause text": (lambda b: b.pause("500"), "pause", "durationMilliseconds", "an integer"),  # type: ignore[arg-type]
    "unknown command": (lambda b: b.add({"command": "connectPstn"}), "connectPstn", "command", "dial"),
    "unknown field": (lambda b: b.add({"command": "answer", "foo": 1}), "answer", "foo", "command"),
}


def _built(use: Callable[[CommandBuilder], Any]) -> dict[str, Any]:
    builder = commands()
    use(builder)
    return builder.build()


@pytest.mark.parametrize("name", LIMITS)
def test_each_limit_names_the_command_the_field_and_the_limit(name: str) -> None:
    use, command, field, limit = LIMITS[name]
    with pytest.raises(CommandError) as raised:
        _built(use)
    error = raised.value
    assert (error.command, error.field) == (command, field)
    assert limit in error.limit
    assert command in str(error) and field in str(error) and error.limit in str(error)
    assert isinstance(error, SvamlError) and isinstance(error, ValueError)


def test_a_limit_in_a_nested_flow_says_where() -> None:
    builder = commands().menu("main", lambda m: m.option("1", lambda b: b.answer().say(LONG)))
    with pytest.raises(CommandError) as raised:
        builder.build()
    assert raised.value.where == "commands[0].menus.main.matches['1'][1]"
    assert raised.value.where in str(raised.value)


def test_limits_at_the_edges_pass() -> None:
    built = (
        commands()
        .call_name("c" * 32)
        .say("x" * 600)
        .pause(1)
        .webhook("w" * 64, "https://x.example")
        .menu(
            "m" * 16,
            lambda m: (
                m.prompt(*["x"] * 10)
                .input_timeout(60)
                .repeat_count(0)
                .max_length(100)
                .min_length(100)
                .terminating_sequence("*" * 10)
                .match("^" + "1" * 254 + "$", [HANGUP])
            ),
        )
        .menu("n", lambda m: m.input_timeout(1).repeat_count(10).max_length(2).option("12", [HANGUP]))
        .dial_phone("+15550001111", timeout=60, max_duration=14400)
        .build()
    )
    assert_sdk_accepts(built)


def test_option_refuses_non_dtmf_and_repeats() -> None:
    with pytest.raises(CommandError, match="not DTMF"):
        commands().menu("main", lambda m: m.option("1?", [HANGUP]))
    with pytest.raises(CommandError, match="twice"):
        commands().menu("main", lambda m: m.option("1", [HANGUP]).option(1, [HANGUP]))
    with pytest.raises(SvamlError, match="takes a flow"):
        commands().menu("main", lambda m: m.option("1", "hangup"))  # type: ignore[arg-type]
    with pytest.raises(SvamlError, match="follows a dial"):
        commands().on_no_answer([HANGUP])


# -- (d) the call view -----------------------------------------------------------

PARSE_REPORT = json.loads((V2 / "parse-report.json").read_text())
REQUESTS = sorted([*V2.glob("v2-call.*.json"), *V2.glob("derived/v2-call.*.json")])

OAS_ID, JAVA_ID, MOCK_ID = "01AN4Z07BY79KA1307SR9X4MV3", "01ARZ3NDEKTSV4RRFFQ69G5FAA", "01HZXK7QNPMR8VD3JW9YF2C4CA"
CALLER, SERVICE = ("PHONE", "+14155552671"), ("PHONE", "+46735224800")  # the OAS examples' two numbers
ALICE, JAVA_TO = ("SIP", "sip:alice@sip.example.com"), ("PHONE", "+15551234567")
MOCK_A, MOCK_B = ("PHONE", "+12015555555"), ("PHONE", "+12017777777")
Party_ = tuple[str, str] | None

#: fixture → (event, call_id, from (type, number or endpoint), to (type, number), menu (name, input))
EXPECTED: dict[str, tuple[str, str | None, Party_, Party_, tuple[str, str] | None]] = {
    "v2-call.answered.oas": ("call.answered", OAS_ID, SERVICE, CALLER, None),
    "v2-call.answered.tutorials-3.5": ("call.answered", "01ARZ...", None, None, None),
    "v2-call.busy.oas": ("call.busy", OAS_ID, SERVICE, CALLER, None),
    "v2-call.failed.oas": ("call.failed", OAS_ID, SERVICE, CALLER, None),
    "v2-call.hangup.oas": ("call.hangup", OAS_ID, SERVICE, CALLER, None),
    "v2-call.hangup.tutorials-3.5": ("call.hangup", "01ARZ...", None, None, None),
    "v2-call.incoming.node-sdk": ("call.incoming", OAS_ID, CALLER, SERVICE, None),
    "v2-call.incoming.oas-signing-example": ("call.incoming", OAS_ID, None, None, None),
    "v2-call.incoming.oas": ("call.incoming", OAS_ID, CALLER, SERVICE, None),
    "v2-call.incoming.tutorials-2.1-smoketest": (
        "call.incoming", None, ("PHONE", "+15551112222"), ("PHONE", "+14045001000"), None
    ),
    "v2-call.incoming.tutorials-2.1": ("call.incoming", OAS_ID, CALLER, SERVICE, None),
    "v2-call.menu.java-sdk": ("call.menu", JAVA_ID, ALICE, JAVA_TO, ("main", "1234")),
    "v2-call.rejected.oas": ("call.rejected", OAS_ID, SERVICE, CALLER, None),
    "v2-call.timeout.oas": ("call.timeout", OAS_ID, SERVICE, CALLER, None),
    "v2-call.webhook.menu-selection.node-sdk": ("call.webhook.menu-selection", OAS_ID, None, None, ("main", "1")),
    "v2-call.webhook.menu-selection.oas": ("call.webhook.menu-selection", OAS_ID, CALLER, SERVICE, None),
    "v2-call.webhook.on-answer.java-sdk": ("call.webhook.on-answer", JAVA_ID, ALICE, JAVA_TO, None),
    "v2-call.answered.mockserver-derived": ("call.answered", MOCK_ID, MOCK_B, MOCK_A, None),
    "v2-call.incoming.mockserver-derived": ("call.incoming", MOCK_ID, MOCK_A, MOCK_B, None),
    "v2-call.webhook.on-answer.mockserver-derived": ("call.webhook.on-answer", MOCK_ID, MOCK_B, MOCK_A, None),
}  # fmt: skip


def test_every_request_fixture_is_in_the_table() -> None:
    assert {p.stem for p in REQUESTS} == set(EXPECTED)


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.stem)
def test_the_call_view_reads_every_request_fixture(path: Path) -> None:
    body = json.loads(path.read_text())["body"]
    event, call_id, from_, to, menu = EXPECTED[path.stem]
    call = parse_call(body)
    assert call.raw is body
    assert (call.event, call.call_id) == (event, call_id)
    assert (call.from_.type, call.from_.address) == from_ if from_ else call.from_ is None
    assert (call.to.type, call.to.number) == to if to else call.to is None
    assert (call.menu.menu_name, call.menu.input) == menu if menu else call.menu is None
    assert call.webhook_name == (event.removeprefix("call.webhook.") if event.startswith("call.webhook.") else None)
    assert call.direction == body["call"].get("direction")
    assert call.call_result == body["call"].get("callResult")
    assert call.call_reason == body["call"].get("callReason")
    assert call.call_name == body["call"].get("callName")
    assert call.bridge_name == body["call"].get("bridgeName")  # documented, read as None when absent
    assert event in repr(call) and event in call._repr_html_()


def _sdk_event(body: dict[str, Any]) -> Any:
    try:
        return SinchEvents().parse_event(body)
    except ValueError:
        return None


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.stem)
def test_the_call_view_agrees_with_the_sdk_where_it_parses(path: Path) -> None:
    body = json.loads(path.read_text())["body"]
    parsed = _sdk_event(body)
    report = next(e for e in PARSE_REPORT["events"] if e["file"] == str(path.relative_to(V2)))
    assert (parsed is not None) == report["parsed"]  # the SDK still parses exactly what the report says
    if parsed is None:
        return
    call = parse_call(body)
    assert parsed.event == call.event.replace("call.webhook.", "call.customEvent.")  # the SDK renames webhooks
    assert parsed.call.call_id == call.call_id
    for ours, theirs in ((call.from_, parsed.call.from_), (call.to, parsed.call.to)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            details = getattr(theirs, "phone", None) or theirs.sip
            assert ours.type == theirs.type
            assert ours.address == getattr(details, "number", None) or getattr(details, "endpoint", None)
            assert ours.display_name == getattr(details, "display_name", None)
    assert call.direction == parsed.call.direction
    assert call.call_result == parsed.call.call_result
    assert call.call_reason == parsed.call.call_reason
    assert call.call_name == parsed.call.call_name
    assert call.session_id == parsed.call.session_id
    if parsed.menu is None:
        assert call.menu is None
    else:
        assert (call.menu.menu_name, call.menu.input) == (parsed.menu.menu_name, parsed.menu.input)  # type: ignore[union-attr]


def test_unknown_keys_are_kept_and_readable() -> None:
    body = copy.deepcopy(INCOMING)
    body["call"]["recordingStatus"] = "ACTIVE"
    body["traceparent"] = {"id": "00-abc"}
    call = Call(body)
    assert call.recording_status == "ACTIVE"
    assert call.traceparent.id == "00-abc"
    assert call.session_id == "01AN4Z07BY79KA1307SR9X4MV2"
    assert call.call_rate.amount == "0.0060"
    assert "recording_status" in dir(call) and "from_" in dir(call)
    assert call.raw is body and body["call"]["recordingStatus"] == "ACTIVE"
    with pytest.raises(AttributeError, match="no field 'nothing_like_this'"):
        _ = call.nothing_like_this
    with pytest.raises(AttributeError, match="read-only"):
        call.event = "x"  # type: ignore[misc]


BAD: dict[str, tuple[Any, str]] = {
    "not an object": ([1], "the body is a list"),
    "no event": ({"call": {}}, "'event' is missing"),
    "v1 event": ({"event": "ice", "call": {}}, "start with 'call.'"),
    "no call": ({"event": "call.incoming"}, "'call' is missing"),
    "call id number": ({"event": "call.incoming", "call": {"callId": 7}}, "call.callId is a int"),
    "from text": ({"event": "call.incoming", "call": {"from": "+1555"}}, "call.from is a str"),
    "phone number": (
        {"event": "call.incoming", "call": {"to": {"type": "PHONE", "phone": {"number": 1}}}},
        "call.to.phone.number",
    ),
    "menu input": ({"event": "call.menu", "call": {}, "menu": {"menuName": "main"}}, "menu.input is missing"),
    "duration": ({"event": "call.hangup", "call": {"callDurationSeconds": "12"}}, "call.callDurationSeconds"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_bodies_name_what_is_wrong(name: str) -> None:
    body, words = BAD[name]
    with pytest.raises(EventError, match="not a Voice API v2 call event") as raised:
        parse_call(body)
    assert words in str(raised.value)


def test_several_problems_are_named_at_once() -> None:
    with pytest.raises(EventError) as raised:
        parse_call({"event": 3, "call": {"callId": 1, "direction": 2}})
    assert all(w in str(raised.value) for w in ("'event' is a int", "call.callId", "call.direction"))


def test_a_party_without_a_type_reads_its_details() -> None:
    call = parse_call(fixture("v2-call.incoming.tutorials-2.1-smoketest"))
    assert (call.from_.type, call.from_.number, str(call.from_)) == ("PHONE", "+15551112222", "+15551112222")  # type: ignore[union-attr]
    sip = parse_call(fixture("v2-call.menu.java-sdk")).from_
    assert (sip.number, sip.endpoint, sip.display_name) == (None, "sip:alice@sip.example.com", "Alice")  # type: ignore[union-attr]
