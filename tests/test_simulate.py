"""The simulated caller: the PIEs a real caller pressing keys would produce, over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sinch_nb import svaml
from sinch_nb.runtime.session import Session
from sinch_nb.simulate import HANGUP
from sinch_nb.simulate.caller import dial


def ivr(session: Session) -> list[dict[str, Any]]:
    """A two-level IVR: 1 → sales, 2 → sub-menu (3 → billing, collect 4 digits), else repeat."""
    results: list[dict[str, Any]] = []
    main = (
        svaml.menu("main")
        .prompt("Press 1 for sales, 2 for more")
        .repeat_prompt("Sorry, try again")
        .option("1", "return(sales)")
        .option("2", "menu(more)")
        .repeats(1)
    )
    more = svaml.menu("more").prompt("Press 3 for billing").option("3", "return(billing)")
    pin = svaml.menu("pin").prompt("Enter your PIN").max_digits(4)

    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Welcome").run_menu([main, more])

    def on_pie(context: Any, event: Any) -> Any:
        results.append(dict(event.menu_result.raw))
        if event.menu_result.value == "billing":
            return svaml.pie().run_menu(pin, main_menu="pin")
        if event.menu_result.type == "sequence":
            return svaml.pie().say(f"PIN {event.menu_result.value} accepted").hangup()
        if event.menu_result.value == "sales":
            return svaml.pie().connect_pstn("+15550001111")
        return svaml.pie().say("Goodbye").hangup()

    session.registry.register("ice", on_ice, "test ice")
    session.registry.register("pie", on_pie, "test pie")
    return results


@pytest.fixture
def url(session: Session, client: httpx.Client) -> str:
    return str(client.base_url)


def test_return_option_sends_a_return_pie_then_connect_then_dice(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+15551234567", "+15559876543", press=["1"], marker=session.app.marker)
    assert results == [{"type": "return", "value": "sales", "menuId": "main", "inputMethod": "dtmf"}]
    frame = transcript.to_frame()
    assert frame["action"].tolist() == ["say", "prompt", "press", "connectPstn", "continue", "hangup", "disconnect"]
    assert frame["text"].tolist()[:3] == ["Welcome", "Press 1 for sales, 2 for more", "1"]
    assert transcript.final_action == "continue"
    kinds = [row["kind"] for row in session.journal.rows()]
    assert kinds == ["ice", "pie", "ace", "dice"]
    rows = list(session.journal.rows())
    assert all(row["simulated"] == 1 and row["call_id"] == transcript.call_id for row in rows)
    assert (rows[-1]["reason"], rows[-1]["result"]) == ("CALLERHANGUP", "ANSWERED")


def test_menu_jumps_happen_inside_sinch_and_sequences_collect_digits(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666", press=["2", "3", "1234#"])
    assert [(r["type"], r["value"], r["menuId"]) for r in results] == [
        ("return", "billing", "more"),
        ("sequence", "1234", "pin"),
    ]
    assert "PIN 1234 accepted" in transcript.to_frame()["text"].tolist()


def test_running_out_of_presses_is_a_timeout(session: Session, url: str) -> None:
    results = ivr(session)
    dial(url, "+1555", "+1666")
    assert results[0]["type"] == "timeout"


def test_invalid_keys_repeat_the_menu_then_give_invalidinput(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666", press=["9", "8"])
    assert (results[0]["type"], results[0]["value"]) == ("invalidinput", "8")
    assert "Sorry, try again" in transcript.to_frame()["text"].tolist()


def test_an_invalid_key_then_a_valid_one(session: Session, url: str) -> None:
    results = ivr(session)
    dial(url, "+1555", "+1666", press=["9", "1"])
    assert results[0]["value"] == "sales"


def test_the_caller_can_hang_up_mid_menu(session: Session, url: str) -> None:
    results = ivr(session)
    transcript = dial(url, "+1555", "+1666", press=[HANGUP])
    assert results == []
    assert list(session.journal.rows())[-1]["reason"] == "CALLERHANGUP"
    assert transcript.to_frame()["action"].tolist()[-2] == "hangup"


def test_a_broken_handler_is_heard_as_the_fallback(session: Session, url: str) -> None:
    session.registry.register("ice", lambda c, e: 1 / 0, "test")
    transcript = dial(url, "+1555", "+1666")
    assert "Sorry, something went wrong" in transcript.to_frame()["text"].tolist()[0]
    assert list(session.journal.rows())[-1]["reason"] == "MANAGERHANGUP"
