"""The simulated platform, rule by rule: one test per row of docs/simulation.md (R1…R16), over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sinch_nb import svaml
from sinch_nb.runtime.session import Session
from sinch_nb.simulate import HANGUP
from sinch_nb.simulate.caller import dial
from sinch_nb.simulate.model import PlatformModel

MAIN = (
    svaml.menu("main")
    .prompt("Press 1 for sales, 2 for more")
    .repeat_prompt("Sorry, try again")
    .option("1", "return(sales)")
    .option("2", "menu(more)")
    .repeats(1)
)
MORE = svaml.menu("more").prompt("Press 3 for billing").option("3", "return(billing)")
PIN = svaml.menu("pin").prompt("Enter your PIN").max_digits(4)


def ivr(session: Session, sales: Any = None) -> list[dict[str, Any]]:
    """A two-level IVR: 1 → sales (``sales``, a connect by default), 2 → more (3 → billing: collect a 4-digit PIN)."""
    results: list[dict[str, Any]] = []

    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Welcome").run_menu([MAIN, MORE])

    def on_pie(context: Any, event: Any) -> Any:
        results.append(dict(event.menu_result.raw))
        if event.menu_result.value == "billing":
            return svaml.pie().run_menu(PIN, main_menu="pin")
        if event.menu_result.type == "sequence":
            return svaml.pie().say(f"PIN {event.menu_result.value} accepted").hangup()
        if event.menu_result.value == "sales":
            return sales or svaml.pie().connect_pstn("+15550001111")
        return svaml.pie().say("Goodbye").hangup()

    session.registry.register("ice", on_ice, "test ice")
    session.registry.register("pie", on_pie, "test pie")
    return results


def answer_ice(session: Session, answer: Any, ace: Any = None) -> None:
    session.registry.register("ice", lambda c, e: answer, "test ice")
    if ace is not None:
        session.registry.register("ace", lambda c, e: ace, "test ace")


def rows(session: Session) -> list[dict[str, Any]]:
    session.journal.flush()
    return list(session.journal.rows())


@pytest.fixture
def url(session: Session, client: httpx.Client) -> str:
    return str(client.base_url)


def test_r1_every_callback_goes_to_the_one_callback_url_unless_asked(session: Session, url: str) -> None:
    ivr(session)
    dial(url, "+1555", "+1666", press=["2", "3"], marker=session.app.marker)
    assert {row["path"] for row in rows(session)} == {"/"}
    dial(url, "+1555", "+1666", press=["2", "3"], model=PlatformModel(per_event_paths=True))
    assert [row["path"] for row in rows(session)][-4:] == ["/ice", "/pie", "/pie", "/dice"]


def test_r2_callbacks_carry_the_documented_fields_and_a_valid_signature(session: Session, url: str) -> None:
    session.configure(application_key="app-key", application_secret="c2VjcmV0LXNlY3JldA==")
    ivr(session)
    dial(url, "+1555", "+1666", press=["1"], application_key="app-key", application_secret="c2VjcmV0LXNlY3JldA==")
    found = rows(session)
    assert {row["signature"] for row in found} == {"valid"}
    bodies = {row["kind"]: json.loads(row["request_body"]) for row in found}
    assert {"callid", "cli", "to", "domain", "originationType", "timestamp", "applicationKey"} <= set(bodies["ice"])
    assert set(bodies["pie"]["menuResult"]) == {"type", "value", "menuId", "inputMethod"}
    assert {"reason", "result", "duration", "from", "to"} <= set(bodies["dice"])


def test_r3_a_continue_in_ace_bridges_and_the_connect_is_the_outcome(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+15551234567", "+15559876543", press=["1"], marker=session.app.marker)
    assert results == [{"type": "return", "value": "sales", "menuId": "main", "inputMethod": "dtmf"}]
    actions = transcript.to_frame()["action"].tolist()
    assert actions == ["say", "prompt", "press", "pie", "connectPstn", "answer", "continue", "hangup", "disconnect"]
    assert transcript.final_action == "connectPstn"  # not the ACE's continue
    assert transcript.outcome == "connectPstn +15550001111 → ACE continue"
    assert [row["kind"] for row in rows(session)] == ["ice", "pie", "ace", "dice"]
    assert (rows(session)[-1]["reason"], rows(session)[-1]["result"]) == ("CALLERHANGUP", "ANSWERED")


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (svaml.ice().connect_conf("room-b"), "connectConf room-b"),
        (svaml.ice().park(hold_prompt="#tts[Please hold]"), "park"),
        (svaml.ice().connect_stream("wss://example.com/stream"), "connectStream wss://example.com/stream"),
    ],
)
def test_r4_a_connect_without_a_callee_sends_no_ace(session: Session, url: str, answer: Any, outcome: str) -> None:
    answer_ice(session, answer)
    transcript = dial(url, "+1555", "+1666")
    assert [row["kind"] for row in rows(session)] == ["ice", "dice"]
    assert transcript.outcome == outcome and transcript.final_action == outcome.split()[0]
    assert (rows(session)[-1]["reason"], rows(session)[-1]["result"]) == ("CALLERHANGUP", "ANSWERED")


def test_r4_a_stream_yields_an_ace_when_the_model_says_so(session: Session, url: str) -> None:
    answer_ice(session, svaml.ice().connect_stream("wss://example.com/s"), ace=svaml.ace().continue_())
    dial(url, "+1555", "+1666", model=PlatformModel(stream_ace=True))
    assert [row["kind"] for row in rows(session)] == ["ice", "ace", "dice"]


def test_r5_the_ace_carries_amd_only_when_the_connect_asked_for_it(session: Session, url: str) -> None:
    answer_ice(session, svaml.ice().connect_pstn("+15550001111"), ace=svaml.ace().continue_())
    dial(url, "+1555", "+1666")
    plain = json.loads(rows(session)[1]["request_body"])
    assert "amd" not in plain
    answer_ice(session, {"action": {"name": "connectPstn", "number": "+15550001111", "amd": {"enabled": True}}})
    dial(url, "+1555", "+1666")
    asked = json.loads(rows(session)[4]["request_body"])
    assert asked["event"] == "ace" and asked["amd"]["status"] == "human"


@pytest.mark.parametrize(
    ("callee", "result", "reason"),
    [("busy", "BUSY", "CALLEEHANGUP"), ("no-answer", "NOANSWER", "TIMEOUT"), ("failed", "FAILED", "GENERALERROR")],
)
def test_r6_a_callee_that_does_not_answer_ends_the_call_with_its_result(
    session: Session, url: str, callee: Any, result: str, reason: str
) -> None:
    answer_ice(session, {"action": {"name": "connectPstn", "number": "+15550001111", "dialTimeout": 20}})
    transcript = dial(url, "+1555", "+1666", callee=callee)
    assert [row["kind"] for row in rows(session)] == ["ice", "dice"]  # no ACE: nobody answered
    dice = rows(session)[-1]
    assert (dice["result"], dice["reason"]) == (result, reason)
    assert transcript.outcome == f"connectPstn +15550001111 → {result}"
    if callee == "no-answer":  # it rang for the connect's dialTimeout
        assert transcript.steps[-2].at >= 20


def test_r7_suppress_callbacks_suppresses_the_ace_and_the_dice(session: Session, url: str) -> None:
    connect = {"action": {"name": "connectPstn", "number": "+15550001111", "suppressCallbacks": True}}
    answer_ice(session, connect, ace=svaml.ace().hangup())
    transcript = dial(url, "+1555", "+1666")
    assert [row["kind"] for row in rows(session)] == ["ice"]
    actions = [step.action for step in transcript.steps]
    assert actions[-3:] == ["suppressed", "hangup", "suppressed"]  # no ACE; the caller hangs up; no DiCE


def test_r8_a_menu_answers_the_call_and_plays_the_main_prompt(session: Session, url: str) -> None:
    ivr(session)
    transcript = dial(url, "+1555", "+1666", press=[HANGUP])
    assert [(s.party, s.action, s.text) for s in transcript.steps][:2] == [
        ("app", "say", "Welcome"),
        ("app", "prompt", "Press 1 for sales, 2 for more"),
    ]
    assert rows(session)[-1]["result"] == "ANSWERED"


def test_r9_silence_repeats_the_prompt_then_sends_a_timeout_pie(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666")
    assert [(r["type"], r["value"]) for r in results] == [("timeout", "")]
    prompts = [s.text for s in transcript.steps if s.action == "prompt"]
    assert prompts == ["Press 1 for sales, 2 for more", "Sorry, try again"]  # repeats(1): one repeat
    silences = [s for s in transcript.steps if s.action == "silence"]
    assert len(silences) == 2 and silences[0].text == "no key for 8 s"  # the MenuBuilder's 8000 ms default


def test_r9_the_model_s_defaults_apply_when_the_menu_leaves_them_out(session: Session, url: str) -> None:
    plain = {"action": {"name": "runMenu", "menus": [{"id": "main", "mainPrompt": "#tts[Hi]", "options": []}]}}
    answer_ice(session, plain)
    transcript = dial(url, "+1555", "+1666", model=PlatformModel(menu_repeats=0, menu_timeout_ms=3000))
    assert [s.text for s in transcript.steps if s.action == "silence"] == ["no key for 3 s"]


def test_r9_hanging_up_in_a_menu_sends_a_hangup_pie_then_the_dice(session: Session, url: str) -> None:
    results = ivr(session)
    dial(url, "+1555", "+1666", press=[HANGUP])
    assert [r["type"] for r in results] == ["hangup"]
    assert [(row["kind"], row["reason"]) for row in rows(session)][-1] == ("dice", "CALLERHANGUP")


def test_r10_a_key_that_is_not_an_option_repeats_then_sends_invalidinput(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666", press=["9", "8"])
    assert [(r["type"], r["value"]) for r in results] == [("invalidinput", "8")]
    assert "Sorry, try again" in [s.text for s in transcript.steps]
    assert "silence" not in [s.action for s in transcript.steps]  # an invalid key is not silence


def test_r10_one_press_per_prompt_and_only_the_first_key_counts(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666", press=["12"])
    assert [(r["type"], r["value"]) for r in results] == [("return", "sales")]
    assert any("2 ignored" in s.text for s in transcript.steps)
    results.clear()
    dial(url, "+1555", "+1666", press=["9", "1"])
    assert results[0]["value"] == "sales"


def test_r11_digit_sequences_end_at_hash_or_max_digits_and_are_cut(session: Session, url: str) -> None:
    results = ivr(session)
    dial(url, "+1555", "+1666", press=["2", "3", "12#"])
    dial(url, "+1555", "+1666", press=["2", "3", "123456"])
    dial(url, "+1555", "+1666", press=["2", "3", "12"])
    sequences = [(r["value"], r["menuId"]) for r in results if r["type"] == "sequence"]
    assert sequences == [("12", "pin"), ("1234", "pin"), ("12", "pin")]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (svaml.ace().continue_(), "is not usable"),  # continue is not an ICE action
        ({"action": {"name": "runMenu", "mainMenu": "nope", "menus": [{"id": "main"}]}}, "is not usable"),
    ],
)
def test_r12_an_answer_sinch_cannot_use_ends_the_call_with_callbackerror(
    session: Session, url: str, answer: Any, why: str
) -> None:
    from sinch_nb.simulate.caller import Call, Reply

    body = json.dumps(answer.build() if hasattr(answer, "build") else answer).encode()

    def platform(path: str, payload: bytes, headers: dict[str, str]) -> Reply:
        event = json.loads(payload)["event"]
        return Reply(200, body if event == "ice" else b"", {})

    call = Call(platform, "+1555", "+1666").start()
    assert call.state == "ended" and why in call.transcript.outcome
    assert call.transcript.steps[-1].text.startswith("CALLBACKERROR, N/A")
    not_json = Call(lambda p, b, h: Reply(200, b"<html>oops</html>", {}), "+1555", "+1666").start()
    assert "is not JSON" in not_json.transcript.outcome
    refused = Call(lambda p, b, h: Reply(503, b"", {}), "+1555", "+1666").start()
    assert "answered HTTP 503" in refused.transcript.outcome


def test_r13_the_dice_reports_seconds_on_the_simulated_clock(session: Session, url: str) -> None:
    answer_ice(session, svaml.ice().say("x" * 140).hangup())  # 140 characters: 10 s of speech
    transcript = dial(url, "+1555", "+1666")
    dice = rows(session)[-1]
    assert (dice["reason"], dice["result"], dice["duration"]) == ("MANAGERHANGUP", "N/A", 0)  # say alone never answers
    answer_ice(session, svaml.ice().answer().say("x" * 140).hangup())
    dial(url, "+1555", "+1666")
    assert rows(session)[-1]["duration"] == 10 and rows(session)[-1]["result"] == "ANSWERED"
    assert transcript.steps[-1].at == pytest.approx(10, abs=0.1)


def test_r13_a_menu_that_loops_on_itself_is_stopped(session: Session, url: str) -> None:
    answer_ice(session, svaml.ice().run_menu([MAIN, MORE]))
    session.registry.register("pie", lambda c, e: svaml.pie().run_menu([MAIN, MORE]), "loop")
    transcript = dial(url, "+1555", "+1666", model=PlatformModel(max_callbacks=8))
    assert any("callbacks (a menu loop?)" in s.text for s in transcript.steps)
    assert rows(session)[-1]["reason"] == "CALLBACKERROR"


def test_r14_payload_timestamps_follow_the_simulated_clock(session: Session, url: str) -> None:
    from datetime import datetime

    ivr(session)
    dial(url, "+1555", "+1666")  # two 8 s silences before the timeout PIE
    found = rows(session)
    ice, pie = (datetime.fromisoformat(json.loads(found[i]["request_body"])["timestamp"]) for i in (0, 1))
    assert (pie - ice).total_seconds() >= 16


def test_r15_a_failed_handler_is_said_in_the_transcript(session: Session, url: str) -> None:
    session.registry.register("ice", lambda c, e: 1 / 0, "test")
    transcript = dial(url, "+1555", "+1666", marker=session.app.marker)
    texts = [s.text for s in transcript.steps]
    assert any(t.startswith("the app failed: ZeroDivisionError") and t.endswith("sn.last_error()") for t in texts)
    assert "Sorry, something went wrong" in " ".join(texts)
    assert rows(session)[-1]["reason"] == "MANAGERHANGUP"


def test_r15_a_missing_handler_says_which_to_define(session: Session, url: str) -> None:
    transcript = dial(url, "+1555", "+1666", marker=session.app.marker)
    assert any("no ICE handler: define one with %%sinch ice" in s.text for s in transcript.steps)


def test_r15_a_network_caller_never_gets_the_error_text(session: Session, url: str) -> None:
    session.registry.register("ice", lambda c, e: 1 / 0, "test")
    response = httpx.post(f"{url}/", json={"event": "ice", "callid": "x", "cli": "+1", "to": {"endpoint": "+2"}})
    assert "x-sinch-nb-error" not in response.headers and "ZeroDivision" not in response.text


def test_r11_collected_digits_that_match_an_option_pick_it(session: Session, url: str) -> None:
    extension = svaml.menu("main").prompt("Dial an extension").max_digits(3).option("12", "return(sales)")
    answer_ice(session, svaml.ice().run_menu(extension))
    results: list[dict[str, Any]] = []
    session.registry.register("pie", lambda c, e: results.append(dict(e.menu_result.raw)) or svaml.pie().hangup(), "t")
    dial(url, "+1555", "+1666", press=["12#"])
    dial(url, "+1555", "+1666", press=["123"])
    assert [(r["type"], r["value"]) for r in results] == [("return", "sales"), ("sequence", "123")]
