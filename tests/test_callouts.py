"""Outbound voice on the simulated platform: a handler's ``context.voice`` callout places a simulated call
(docs/simulation.md R17–R20), through the public face, over real HTTP on loopback only."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sinch_nb import svaml
from sinch_nb.signing import voice_signing_headers
from sinch_nb.simulate.local_platform import PREFIX

KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
CALLEE = "+15557654321"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every connection this process opens must stay on this machine: nothing reaches Sinch (or anyone)."""
    outside: list[Any] = []
    connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            outside.append(address)
            raise OSError(f"test_callouts: no connections off this machine ({address})")
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield outside
    assert outside == []


def rows(sn: Any, call_id: str) -> list[dict[str, Any]]:
    journal = sn.get_session().journal
    journal.flush()
    return list(journal.rows("WHERE call_id = ?", (call_id,)))


def test_r17_a_tts_callout_from_a_simulated_text_rings_the_ace_handler_then_the_dice(sn: Any) -> None:
    sn.configure(application_key=KEY, application_secret=SECRET)  # callbacks are signed with the runtime's own
    placed: list[str] = []
    answered: list[dict[str, Any]] = []
    ended: list[tuple[str | None, str | None]] = []

    @sn.conversation
    def reply(context: Any, event: Any) -> None:
        if event.trigger == "MESSAGE_INBOUND":
            code = "Your code is 1234"
            placed.append(context.voice.tts_callout(CALLEE, code, cli="+1555000", enable_ace=True, enable_dice=True))

    @sn.ace
    def on_ace(context: Any, event: Any) -> Any:
        answered.append({"call_id": event.call_id, "custom": event.custom})
        return svaml.ace().say("Goodbye").hangup()

    @sn.dice
    def on_dice(context: Any, event: Any) -> None:
        ended.append((event.reason, event.result))

    sn.text("Call me with the code", from_="+15551234567")  # waits for the callout's call to finish
    (call_id,) = placed
    assert len(call_id) == 32
    assert answered == [{"call_id": call_id, "custom": ""}]
    assert ended == [("MANAGERHANGUP", "ANSWERED")]
    found = rows(sn, call_id)
    assert [row["kind"] for row in found] == ["ace", "dice"]
    assert {row["signature"] for row in found} == {"valid"}
    assert {row["simulated"] for row in found} == {1}
    assert sn.calls().loc[call_id, "kinds"] == "ace → dice"
    transcript = sn.callout(call_id)
    said = list(transcript["text"])
    assert said.index("Your code is 1234") < said.index("Goodbye")  # the callout's text, then the ACE's answer
    assert transcript.outcome == f"ttsCallout {CALLEE} → ACE hangup"
    summary = sn.callouts()
    assert list(summary.index) == [call_id]
    assert (summary.loc[call_id, "method"], summary.loc[call_id, "to"]) == ("ttsCallout", CALLEE)


def test_r17_a_callout_sends_no_callbacks_it_did_not_enable_unless_the_model_says_so(sn: Any) -> None:
    placed: list[str] = []
    sn.conversation(lambda context, event: placed.append(context.voice.tts_callout(CALLEE, "Hello")))
    sn.ace(lambda context, event: svaml.ace().continue_())
    sn.text("Ring me", from_="+15551234567")
    assert rows(sn, placed[0]) == []
    steps = list(sn.callout(placed[0])["text"])
    assert "no ACE: enableAce is not set (off)" in steps
    assert any(step.startswith("no DiCE: enableDice is not set (off)") for step in steps)
    sn.simulation(callout_callbacks=True)
    sn.text("Ring me again", from_="+15551234567")
    assert [row["kind"] for row in rows(sn, placed[1])] == ["ace", "dice"]
    assert sn.calls().loc[placed[1], "reason"] == "MANAGERHANGUP"


def test_r17_a_busy_callee_brings_no_ace_and_a_busy_dice(sn: Any) -> None:
    placed: list[str] = []
    sn.conversation(
        lambda context, event: placed.append(
            context.voice.tts_callout(CALLEE, "Hello", enable_ace=True, enable_dice=True)
        )
    )
    sn.simulation(callout_callee="busy")
    sn.text("Ring me", from_="+15551234567")
    found = rows(sn, placed[0])
    assert [row["kind"] for row in found] == ["dice"]
    assert json.loads(found[0]["request_body"])["result"] == "BUSY"


MENU = svaml.menu("main").prompt("Press 1 to confirm your booking").option("1", "return(confirmed)")


def test_r18_a_custom_callout_with_inline_ice_svaml_runs_a_menu_and_the_pie_reaches_the_app(sn: Any) -> None:
    placed: list[str] = []
    inputs: list[tuple[str | None, str | None, str | None]] = []

    @sn.ice
    def incoming(context: Any, event: Any) -> Any:
        placed.append(context.voice.custom_callout(CALLEE, ice=svaml.ice().run_menu(MENU)))
        return svaml.ice().say("We will call the guest").hangup()

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        inputs.append((event.call_id, event.menu_result.type, event.menu_result.value))
        return svaml.pie().say("Booked, thank you").hangup()

    sn.simulation(callout_press=["1"])
    sn.dial("+15551234567", "+15559876543")
    transcript = sn.callout()  # the last callout, once its call is over
    (call_id,) = placed
    assert inputs == [(call_id, "return", "confirmed")]
    assert [row["kind"] for row in rows(sn, call_id)] == ["pie", "dice"]  # the inline SVAML was the ICE
    assert sn.calls().loc[call_id, "reason"] == "MANAGERHANGUP"
    assert transcript.call_id == call_id
    steps = transcript.to_dict("records")
    assert {"party": "callee", "action": "press", "text": "1"} in [
        {k: step[k] for k in ("party", "action", "text")} for step in steps
    ]
    assert "Booked, thank you" in list(transcript["text"])


def test_r18_a_silent_callee_times_out_and_a_url_callback_is_posted_to_the_runtime(sn: Any) -> None:
    placed: list[str] = []
    inputs: list[str | None] = []
    sn.ice(lambda context, event: svaml.ice().run_menu(MENU))
    sn.pie(lambda context, event: inputs.append(event.menu_result.type) or svaml.pie().hangup())

    @sn.conversation
    def reply(context: Any, event: Any) -> None:
        if event.trigger == "MESSAGE_INBOUND":
            placed.append(context.voice.custom_callout(CALLEE, ice="https://app.example.com/ice"))

    sn.text("Call me", from_="+15551234567")
    found = rows(sn, placed[0])
    assert [(row["kind"], row["path"]) for row in found] == [("ice", "/ice"), ("pie", "/"), ("dice", "/")]
    assert json.loads(found[0]["request_body"])["to"] == {"type": "number", "endpoint": CALLEE}
    assert inputs == ["timeout"]  # the prompt, two repeats (R9), then a PIE timeout
    assert sum(step == "no key for 8 s" for step in sn.callout(placed[0])["text"]) == 3


def test_r19_a_conference_callout_joins_the_conference_and_the_callee_hangs_up(sn: Any) -> None:
    placed: list[str] = []
    sn.conversation(
        lambda context, event: placed.append(
            context.voice.conference_callout(CALLEE, "room-1", greeting="Joining", enable_ace=True, enable_dice=True)
        )
    )
    sn.text("Add me to the call", from_="+15551234567")  # no ACE handler: the runtime's default continue
    transcript = sn.callout(placed[0])
    assert transcript.outcome == "connectConf room-1"
    assert "the callee joins conference room-1" in list(transcript["text"])
    assert [row["kind"] for row in rows(sn, placed[0])] == ["ace", "dice"]
    assert sn.calls().loc[placed[0], "reason"] == "CALLEEHANGUP"


def test_an_unsigned_or_forged_callout_is_refused_and_places_no_call(sn: Any) -> None:
    server = sn.start()
    platform = sn.get_session().app.platform
    url = f"{server.url}{PREFIX}/calling/v1/callouts"
    body = json.dumps({"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": CALLEE}}})
    path = "/calling/v1/callouts"
    forged = voice_signing_headers("POST", path, body, "sinch-nb-simulator", "c2VjcmV0LXNlY3JldA==")
    other_key = voice_signing_headers("POST", path, body, "someone-else", platform.voice_secret)
    with httpx.Client(timeout=10) as http:
        for headers in ({"content-type": "application/json"}, forged, other_key):
            refused = http.post(url, content=body, headers=headers)
            assert refused.status_code == 401, refused.text
        unknown = json.dumps({"method": "smsCallout", "smsCallout": {}})
        signed = voice_signing_headers("POST", path, unknown, "sinch-nb-simulator", platform.voice_secret)
        assert http.post(url, content=unknown, headers=signed).status_code == 400
        assert list(platform.callouts) == []
        signed = voice_signing_headers("POST", path, body, "sinch-nb-simulator", platform.voice_secret)
        accepted = http.post(url, content=body, headers=signed)  # the same request, signed: taken
    assert accepted.status_code == 200
    assert [c.call_id for c in platform.callouts] == [accepted.json()["callId"]]


def post_callout(sn: Any, body: dict[str, Any]) -> httpx.Response:
    """A callout as the simulated Voice App signs it (what ``context.voice`` sends), straight to the platform."""
    server = sn.start()
    content = json.dumps(body)
    secret = sn.get_session().app.platform.voice_secret
    headers = voice_signing_headers("POST", "/calling/v1/callouts", content, "sinch-nb-simulator", secret)
    return httpx.post(f"{server.url}{PREFIX}/calling/v1/callouts", content=content, headers=headers, timeout=10)


def test_r19_an_in_app_destination_gets_no_ace_and_no_dice(sn: Any) -> None:
    destination = {"type": "username", "endpoint": "alice"}
    fields = {"destination": destination, "conferenceId": "room-2", "enableAce": True, "enableDice": True}
    answer = post_callout(sn, {"method": "conferenceCallout", "conferenceCallout": fields})
    call_id = answer.json()["callId"]
    transcript = sn.callout(call_id)
    assert rows(sn, call_id) == []
    assert "no ACE: an in-app (username) destination" in list(transcript["text"])
    assert transcript.outcome == "connectConf room-2"


def test_r20_a_handler_that_calls_out_from_its_own_callbacks_is_stopped(sn: Any) -> None:
    refused: list[str] = []

    def again(context: Any, event: Any) -> Any:
        try:
            context.voice.tts_callout(CALLEE, "Again", enable_ace=True)
        except sn.PlatformError as error:
            refused.append(str(error))
        return svaml.ace().hangup()

    sn.ace(again)
    sn.conversation(lambda context, event: context.voice.tts_callout(CALLEE, "First", enable_ace=True))
    sn.simulation(callout_limit=5)
    sn.text("Call me", from_="+15551234567")  # waits until the chain stops
    assert len(sn.callouts()) == 5
    assert len(refused) == 1 and "HTTP 429" in refused[0]
