"""SVAML builders against the wire tables of reference/sinch-wire.md §1."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from sinch_nb import svaml
from sinch_nb.contract import ContractError, validate_answer
from sinch_nb.functions import rules
from sinch_nb.functions.svaml import SvamlBuilder, SvamlError, SvamlWarning

MAIN = svaml.menu("main").prompt("Press 1").option("1", "return(one)")

#: One call per SVAML item, with every field the builder takes.
ITEMS: dict[str, Callable[[SvamlBuilder], Any]] = {
    "say": lambda b: b.say("Hello", locale="en-US"),
    "playFiles": lambda b: b.play_files(["https://x.example/a.wav", "#tts[Hi]"], locale="en-US"),
    "sendDtmf": lambda b: b.send_dtmf("12w#"),
    "setCookie": lambda b: b.set_cookie("step", "1"),
    "answer": lambda b: b.answer(),
    "startRecording": lambda b: b.start_recording(
        "s3://bucket/a.mp3", "key:secret", format="mp3", notification_events=True, transcription_locale="en-US"
    ),
    "stopRecording": lambda b: b.stop_recording(),
    "hangup": lambda b: b.hangup(),
    "continue": lambda b: b.continue_(),
    "connectPstn": lambda b: b.connect_pstn(
        "+15550001111",
        cli="private",
        locale="en-US",
        max_duration=3000,
        dial_timeout=30,
        suppress_callbacks=True,
        dtmf="1w2",
        indications="se",
        amd=True,
    ),
    "connectMxp": lambda b: b.connect_mxp("alice", call_headers={"k": "v"}),
    "connectConf": lambda b: b.connect_conf(
        "room-1", dtmf_mode="forward", dtmf_max_digits=2, dtmf_timeout_mills=3000, moh="music1"
    ),
    "connectSip": lambda b: b.connect_sip(
        "sip:alice@sip.example.com",
        cli="+15550001111",
        max_duration=600,
        transport="tls",
        suppress_callbacks=False,
        call_headers=[{"key": "x", "value": "y"}],
        moh="ring",
    ),
    "connectStream": lambda b: b.connect_stream(
        "wss://stream.example.com/ws", version=1, sample_rate=16000, max_duration=600, call_headers={"a": "b"}
    ),
    "runMenu": lambda b: b.run_menu(MAIN, barge=False, locale="en-US", enable_voice=True),
    "park": lambda b: b.park(
        intro_prompt="Please hold", hold_prompt="#href[https://x.example/moh.wav]", max_duration=60
    ),
}

BUILDERS = {"ice": svaml.ice, "ace": svaml.ace, "pie": svaml.pie}


def test_every_action_and_instruction_has_a_builder_method() -> None:
    assert set(ITEMS) == set(rules.ACTIONS) | set(rules.INSTRUCTIONS)


@pytest.mark.parametrize("event", sorted(BUILDERS))
@pytest.mark.parametrize("item", sorted(ITEMS))
def test_each_item_is_allowed_refused_or_warned_as_the_wire_table_says(event: str, item: str) -> None:
    builder = BUILDERS[event]()
    if item in rules.ALLOWED[event]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ITEMS[item](builder)
    elif item in rules.DISPUTED[event]:
        with pytest.warns(SvamlWarning, match=item):
            ITEMS[item](builder)
    else:
        with pytest.raises(SvamlError) as refused:
            ITEMS[item](builder)
        message = str(refused.value)
        assert item in message
        assert event.upper() in message
        assert all(allowed in message for allowed in rules.allowed_items(event))
        return
    built = builder.build()
    # The contract agrees with the builder: disputed items come back as warnings.
    assert bool(validate_answer(event, built)) == (item in rules.DISPUTED[event])
    names = [i["name"] for i in built.get("instructions", [])] + [built.get("action", {}).get("name")]
    assert item in names


def test_the_matrix_matches_reference_table_1_4() -> None:
    # Spot checks straight from the table: ✔ and ✘ cells, and the disputed ones.
    assert "continue" not in rules.ALLOWED["ice"]
    assert "answer" in rules.ALLOWED["ice"] and "answer" not in rules.ALLOWED["pie"]
    assert "park" in rules.ALLOWED["ice"] and "park" not in rules.ALLOWED["pie"]
    assert "connectMxp" not in rules.ALLOWED["ace"] and "connectConf" in rules.ALLOWED["ace"]
    assert "sendDtmf" in rules.ALLOWED["pie"] and "sendDtmf" not in rules.ALLOWED["ace"]
    assert "connectPstn" in rules.ALLOWED["pie"] and not rules.DISPUTED["pie"]  # the platform spec decides (§6.2)
    assert set(rules.DISPUTED["ice"]) == {"stopRecording"} == set(rules.DISPUTED["ace"])


def test_wire_names_are_exactly_sinchs() -> None:
    ice = svaml.ice()
    ITEMS["connectPstn"](ice)
    assert ice.build()["action"] == {
        "name": "connectPstn",
        "number": "+15550001111",
        "locale": "en-US",
        "maxDuration": 3000,
        "dialTimeout": 30,
        "cli": "private",
        "suppressCallbacks": True,
        "dtmf": "1w2",
        "indications": "se",
        "amd": {"enabled": True},
    }
    mxp = svaml.ice().connect_mxp("alice", call_headers={"k": "v"}).build()["action"]
    assert mxp == {
        "name": "connectMxp",
        "destination": {"type": "username", "endpoint": "alice"},
        "callHeaders": [{"key": "k", "value": "v"}],
    }
    legacy = svaml.ice().connect_mxp("alice", call_headers={"k": "v"}, header_key="callheaders").build()["action"]
    assert "callheaders" in legacy and "callHeaders" not in legacy
    menu = svaml.ice().run_menu(MAIN, barge=False).build()["action"]
    assert menu["barge"] is False and "badge" not in menu
    park = svaml.ice().park(intro_prompt="Hi").build()["action"]
    assert park["introPrompt"] == "#tts[Hi]" and "introPromt" not in park
    conf = svaml.ice().connect_conf("r", dtmf_timeout_mills=2000).build()["action"]
    assert conf["conferenceDtmfOptions"] == {"timeoutMills": 2000}
    recording = svaml.ice().start_recording("s3://b/x", "c", transcription_locale="sv-SE").build()
    assert recording["instructions"][0]["options"]["transcriptionOptions"] == {"enabled": True, "locale": "sv-SE"}


def test_envelope_omits_empty_instructions_and_keeps_order() -> None:
    assert svaml.ace().continue_().build() == {"action": {"name": "continue"}}
    built = svaml.ice().say("one").set_cookie("a", 1).say("two").hangup().build()  # type: ignore[arg-type]
    assert [i["name"] for i in built["instructions"]] == ["say", "setCookie", "say"]
    assert built["instructions"][1] == {"name": "setCookie", "key": "a", "value": "1"}


def test_one_action_only() -> None:
    with pytest.raises(SvamlError, match=r"one action.*already ends with hangup"):
        svaml.ice().hangup().connect_pstn("+1555")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: svaml.menu("m").max_digits(0), "maxDigits must be an integer from 1 to 20"),
        (lambda: svaml.menu("m").max_digits(21), "from 1 to 20"),
        (lambda: svaml.menu("m").timeout_mills(999), "timeoutMills must be an integer from 1000 to 30000"),
        (lambda: svaml.menu("m").timeout_mills(30001), "from 1000 to 30000"),
        (lambda: svaml.menu("m").repeats(6), "repeats must be an integer from 0 to 5"),
        (lambda: svaml.menu("m").option("x", "return(a)"), "keys 0-9"),
        (lambda: svaml.menu("m").option("1", "goto(a)"), "'return\\(value\\)' or 'menu\\(id\\)'"),
        (lambda: svaml.menu("m").option("1", "return(a)").option(1, "return(b)"), "already has an option"),
        (lambda: svaml.ice().run_menu(svaml.menu("other")), "needs a menu with id 'main'"),
        (lambda: svaml.ice().run_menu(svaml.menu("main").option("1", "menu(missing)")), "does not include"),
        (lambda: svaml.ice().run_menu([svaml.menu("main"), svaml.menu("main")]), "several menus"),
        (lambda: svaml.ice().run_menu(MAIN, enable_voice=True), "needs a locale"),
        (lambda: svaml.ice().send_dtmf("12a"), "digits, # or w"),
        (lambda: svaml.ice().connect_conf("x" * 65), "1 to 64 characters"),
        (lambda: svaml.ice().connect_pstn("+1", max_duration=14401), "from 1 to 14400"),
        (lambda: svaml.ice().connect_pstn("+1", indications="xx"), "indications must be one of"),
        (lambda: svaml.ice().connect_sip("sip:a@b", transport="SCTP"), "transport must be one of"),
        (lambda: svaml.ice().connect_stream("https://not-a-socket"), "WebSocket URL"),
        (lambda: svaml.ice().play_files("#tts[hi]"), "needs a locale"),
        (lambda: svaml.ice().say(""), "non-empty text"),
    ],
)
def test_limits_are_checked_when_built(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(SvamlError, match=message):
        build()


def test_menus_can_jump_between_each_other() -> None:
    main = svaml.menu("main").prompt("Press 1 for more").option("1", svaml.to_menu("more"))
    more = svaml.menu("more").prompt(svaml.ssml("<speak>More</speak>")).option("9", svaml.return_("done"))
    action = svaml.ice().run_menu([more, main]).build()["action"]
    assert action["mainMenu"] == "main"
    assert [m["id"] for m in action["menus"]] == ["more", "main"]
    assert action["menus"][0]["mainPrompt"] == "#ssml[<speak>More</speak>]"
    assert validate_answer("ice", svaml.ice().run_menu([more, main]).build()) == []


def test_prompt_helpers() -> None:
    assert svaml.tts("Hi") == "#tts[Hi]"
    assert svaml.href("https://x/a.wav") == "#href[https://x/a.wav]"
    assert svaml.prompts("Hello", "#ssml[<speak>x</speak>]", "https://x/a.wav") == (
        "#tts[Hello];#ssml[<speak>x</speak>];https://x/a.wav"
    )


def test_long_say_warns_but_is_sent() -> None:
    with pytest.warns(SvamlWarning, match="600"):
        built = svaml.ice().say("x" * 601).hangup().build()
    assert built["instructions"][0]["text"] == "x" * 601


@pytest.mark.parametrize(
    ("event", "answer", "field"),
    [
        ("ice", {"action": {"name": "dance"}}, "action"),
        ("ice", {"action": {"name": "hangup", "extra": 1}}, "action.hangup.extra"),
        ("ice", {"instructions": [{"name": "say"}], "action": {"name": "hangup"}}, "instructions.0.say.text"),
        ("pie", {"action": {"name": "park"}}, "action"),
        ("ice", {"action": {"name": "connectConf", "conferenceId": "x" * 65}}, "action.connectConf.conferenceId"),
        ("ice", {"action": {"name": "runMenu", "menus": [{"id": "main", "maxDigits": 30}]}}, "maxDigits"),
        ("ice", {"action": {"name": "runMenu", "menus": [{"id": "start"}]}}, "action.mainMenu"),
    ],
)
def test_the_contract_refuses_bad_answers_naming_the_field(event: str, answer: dict[str, Any], field: str) -> None:
    with pytest.raises(ContractError) as refused:
        validate_answer(event, answer)
    assert field in str(refused.value)


def test_the_contract_accepts_numeric_dtmf_from_sinchs_skills() -> None:
    answer = {"action": {"name": "runMenu", "menus": [{"id": "main", "options": [{"dtmf": 1, "action": "return(a)"}]}]}}
    assert validate_answer("ice", answer) == []
