"""The simulated Voice API v2 platform, rule by rule (docs/simulation.md rows V1–V9), through sn.dial."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sinch_nb.contract.voice_v2 import parse_v2_event

SERVICE_ID, SERVICE_SECRET = "a74b1566-0f18-4f8e-9c23-8e6b5df8fd3e", "F5wrP9SKYU6w8sbZXkp7GA=="


def ivr(builder: Any) -> Any:
    return (
        builder.answer()
        .say("Welcome")
        .menu(
            "main",
            lambda m: (
                m.prompt("Press 1 for sales, 2 to leave, 3 for your PIN")
                .option("1", lambda b: b.say("Sales").dial_phone("+15550001111"))
                .option("2", lambda b: b.say("Bye").hangup())
                .option("3", lambda b: b.goto_menu("pin"))
                .submenu(
                    "pin",
                    lambda p: p.prompt("Your PIN").max_length(4).match("[0-9]{4}", lambda b: b.say("Thanks").hangup()),
                )
                .on_fail(lambda b: b.say("Sorry").hangup())
            ),
        )
    )


def steps(transcript: Any) -> list[Any]:
    """The transcript's rows as (at, callback, party, action, text) tuples."""
    return list(transcript.itertuples(index=False))


def bodies(sn: Any) -> list[dict[str, Any]]:
    return [json.loads(body) for body in sn.callbacks(bodies=True)["request_body"]]


def test_v1_sn_dial_speaks_v2_when_only_v2_handlers_exist_and_the_events_are_complete(sn: Any) -> None:
    sn.configure(voice_service_id=SERVICE_ID, voice_service_secret=SERVICE_SECRET)
    sn.on_call(incoming=lambda context, call, builder: ivr(builder), completed=lambda context, call, builder: None)
    call = sn.dial("+15551234567", "+15559876543", press=["2"])
    assert call.outcome == "hangup"
    assert sn.callbacks()["kind"].astype(str).tolist() == ["call.incoming", "call.hangup"]
    assert set(sn.callbacks()["signature"].astype(str)) == {"valid"}  # signed as Sinch signs, with the service secret
    for body in bodies(sn):
        assert parse_v2_event(body, complete=True).missing_fields() == []  # every field the OAS requires
    assert sn.callbacks()["ce_id"].notna().all()


def test_v2_messages_play_in_order_and_a_hangup_on_finish_waits_for_them(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: builder.answer().say("x" * 140).pause(2000).say("Bye").hangup())
    timed = [(s.action, s.at) for s in steps(sn.dial("+1555", "+1666"))]
    assert [a for a, _ in timed][:5] == ["answer", "say", "pause", "say", "hangup"]
    at = dict(timed)
    assert at["pause"] == pytest.approx(10, abs=0.1) and at["hangup"] >= 12  # 140 chars ≈ 10 s, then 2 s


def test_v3_a_menu_on_a_call_never_answered_ends_it(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: builder.menu("main", lambda m: m.prompt("Hi").option("1", [])))
    sn.dial("+1555", "+1666")
    assert sn.callbacks()["reason"].astype(str).tolist()[-1] == "INVALID_SCRIPT"


@pytest.mark.parametrize(
    ("callee", "event", "reason"),
    [
        ("answer", "call.answered", "CALLER_HANGUP"),
        ("busy", "call.busy", "MANAGER_HANGUP"),
        ("no-answer", "call.timeout", "MANAGER_HANGUP"),
    ],
)
def test_v4_a_dial_without_events_sends_the_webhook_its_outcome_replaces(
    sn: Any, callee: str, event: str, reason: str
) -> None:
    dial = {"command": "dial", "to": {"type": "PHONE", "phone": {"number": "+15550001111"}}}
    sn.on_call(
        incoming=lambda context, call, builder: {"commands": [{"command": "answer"}, dial]},
        answered=lambda context, call, builder: builder.say("connected"),
        fallback=lambda context, call, builder: builder.say("nobody there").hangup(),
    )
    sn.dial("+1555", "+1666", callee=callee)
    kinds = sn.callbacks()["kind"].astype(str).tolist()
    assert kinds == ["call.incoming", event, "call.hangup"]
    assert sn.callbacks()["reason"].astype(str).tolist()[-1] == reason


def test_v4_a_dial_with_events_runs_them_and_sends_no_webhook(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: ivr(builder))
    busy = sn.dial("+1555", "+1666", press=["1"], callee="busy")
    assert "call.busy" not in sn.callbacks()["kind"].astype(str).tolist()
    assert busy.outcome == "dial +15550001111 → busy"


def test_v5_silence_repeats_the_prompt_then_runs_on_fail(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: ivr(builder))
    call = sn.dial("+1555", "+1666")
    silences = [s for s in steps(call) if s.action == "silence"]
    assert len(silences) == 3 and silences[0].text == "no key for 5 s"  # repeatCount 2, inputTimeout 5 s
    assert [s.text for s in steps(call) if s.action == "say"][-1] == "Sorry"


def test_v6_matches_literal_then_regex_with_the_input_collected_to_its_maximum(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: ivr(builder))
    call = sn.dial("+1555", "+1666", press=["3", "123456"])
    texts = [s.text for s in steps(call)]
    assert "pin: 1234" in texts and "1234 (56 cut)" in texts and "Thanks" in texts


def test_v7_an_item_without_matches_or_on_fail_asks_the_app_with_call_menu(sn: Any) -> None:
    seen: list[Any] = []

    def manage(context: Any, call: Any, builder: Any) -> Any:
        seen.append((call.menu.menu_name, call.menu.input))
        return builder.say(f"You typed {call.menu.input}").hangup()

    sn.on_call(
        incoming=lambda context, call, builder: builder.answer().menu("ask", lambda m: m.prompt("Type").max_length(3)),
        manage=manage,
    )
    call = sn.dial("+1555", "+1666", press=["42"])
    assert seen == [("ask", "42")]  # the timeout ended the input at two digits
    assert "You typed 42" in [s.text for s in steps(call)]
    assert sn.callbacks()["kind"].astype(str).tolist() == ["call.incoming", "call.menu", "call.hangup"]


def test_v8_a_webhook_command_blocks_on_its_handler_and_the_caller_hangs_up(sn: Any) -> None:
    def incoming(context: Any, call: Any, builder: Any) -> Any:
        return builder.answer().webhook("lookup").say("after the webhook")

    sn.on_call(
        incoming=incoming,
        webhooks={"lookup": lambda context, call, builder: builder.say("from the webhook")},
    )
    call = sn.dial("+1555", "+1666")
    says = [s.text for s in steps(call) if s.action == "say"]
    assert says == ["from the webhook", "after the webhook"]
    assert sn.callbacks()["kind"].astype(str).tolist() == ["call.incoming", "call.webhook.lookup", "call.hangup"]
    assert sn.callbacks()["reason"].astype(str).tolist()[-1] == "CALLER_HANGUP"


def test_v9_an_answer_the_platform_cannot_use_disconnects_and_the_failure_is_said(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: 1 / 0)
    call = sn.dial("+1555", "+1666")
    texts = [s.text for s in steps(call)]
    assert any(t.startswith("the app failed: ZeroDivisionError") for t in texts)
    assert "Sorry, something went wrong. Goodbye." in texts  # the v2 fallback the runtime answered


def test_the_explorer_and_the_dial_pad_work_on_v2(sn: Any) -> None:
    sn.on_call(incoming=lambda context, call, builder: ivr(builder))
    paths = sn.explore().paths()
    finals = dict(zip(paths["path"], paths["final"], strict=True))
    assert finals["1"] == "dial +15550001111 → answered" and finals["2"] == "hangup"
    assert finals["3 → 1234"] == "hangup" and finals["(invalid)"] == "hangup"
    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    pad.keys["2"].click()
    assert "Bye" in pad.text() and pad.call.state == "ended"


def test_calls_fold_v2_calls_with_their_reason_and_menu_inputs(sn: Any) -> None:
    sn.on_call(
        incoming=lambda context, call, builder: builder.answer().menu("ask", lambda m: m.prompt("Type").max_length(2)),
        manage=lambda context, call, builder: builder.say("ok").hangup(),
    )
    placed = sn.dial("+1555", "+1666", press=["42"])
    row = sn.calls().loc[placed.attrs["call_id"]]
    assert (row["kinds"], row["menu_path"], row["reason"], row["result"]) == (
        "call.incoming → call.menu → call.hangup",
        "42",
        "MANAGER_HANGUP",
        "COMPLETED",
    )


def test_v10_the_app_calls_out_on_simulated_traffic_and_the_callee_answers(sn: Any) -> None:
    from sinch_nb import get_session

    def incoming(context: Any, call: Any, builder: Any) -> Any:
        placed = context.voice.call("+15557770000", on_answer=lambda b: b.say("This is your reminder").hangup())
        context.log.info("session %s", placed["sessionId"])
        return builder.answer().say("Calling you back").hangup()

    sn.on_call(incoming=incoming)
    sn.dial("+1555", "+1666")
    platform = get_session().app.platform
    assert platform.wait_quiet(10)
    transcript = platform.calls_v2[-1]
    said = [(s.party, s.action, s.text) for s in transcript.steps]
    assert ("callee", "answer", "+15557770000: answered") in said and ("app", "say", "This is your reminder") in said
    hangups = sn.callbacks(kind="call.hangup")
    assert len(hangups) == 2 and (hangups["result"].astype(str) == "COMPLETED").all()
    assert "session " in sn.callback(int(sn.callbacks(kind="call.incoming").index[0]))["logs"][0]["message"]


def pin_menu(builder: Any) -> Any:
    """One menu that collects up to four keys: two literal options, a PIN by regex that asks a webhook, on_fail."""
    return (
        builder.answer()
        .say("Welcome")
        .menu(
            "main",
            lambda m: (
                m.prompt("Press 1 or 2, or type your PIN")
                .max_length(4)
                .option("1", lambda b: b.say("Sales").dial_phone("+15550001111"))
                .option("2", lambda b: b.say("Bye").hangup())
                .match("[0-9]{4}", lambda b: b.webhook("pin"))
                .on_fail(lambda b: b.say("Sorry").hangup())
            ),
        )
    )


def test_v8_a_webhook_raised_from_a_match_carries_the_menu_and_its_input(sn: Any) -> None:
    seen: list[Any] = []

    def pin(context: Any, call: Any, builder: Any) -> Any:
        seen.append((call.menu.menu_name, call.menu.input))
        return builder.say("Known" if call.menu.input == "1234" else "Unknown").hangup()

    sn.on_call(incoming=lambda context, call, builder: pin_menu(builder), webhooks={"pin": pin})
    call = sn.dial("+1555", "+1666", press=["1234"])
    assert seen == [("main", "1234")]  # as the platform's (NODE fixture v2-call.webhook.menu-selection)
    assert "Known" in [s.text for s in steps(call)]


def test_the_explorer_takes_one_key_in_a_menu_collecting_more_at_the_input_timeout(sn: Any) -> None:
    sn.on_call(
        incoming=lambda context, call, builder: pin_menu(builder),
        webhooks={"pin": lambda context, call, builder: builder.say(f"PIN {call.menu.input}").hangup()},
    )
    paths = sn.explore().paths()
    finals = dict(zip(paths["path"], paths["final"], strict=True))
    heard = dict(zip(paths["path"], paths["heard"], strict=True))
    assert finals["1"] == "dial +15550001111 → answered" and finals["2"] == "hangup"  # not a loop back
    assert heard["1234"] == "PIN 1234"
    assert heard["*#"].endswith("Sorry") and heard["(timeout)"].endswith("Sorry")  # retyped at each repeat: on_fail
    assert not [final for final in finals.values() if final.startswith("loop")]


def test_calls_folds_v2_calls_with_their_end_and_menu_input(sn: Any) -> None:
    sn.on_call(
        incoming=lambda context, call, builder: pin_menu(builder),
        webhooks={"pin": lambda context, call, builder: builder.hangup()},
    )
    sn.dial("+1555", "+1666", press=["1234"])
    sn.dial("+1555", "+1666", press=["1"])
    rows = sn.calls()
    assert rows["reason"].astype(str).tolist() == ["MANAGER_HANGUP", "CALLER_HANGUP"]
    assert rows["result"].astype(str).tolist() == ["COMPLETED", "COMPLETED"]
    assert rows["menu_path"].astype(str).tolist()[0] == "1234"  # what call.webhook.pin carried
