"""Every route and every bad input, over real HTTP on loopback; each one journaled."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest
from conftest import free_port, payload, port_is_free

from sinch_nb import PortInUseError, svaml
from sinch_nb.runtime.session import Session
from sinch_nb.runtime.settings import DEFAULT_FALLBACK


def last(session: Session) -> dict[str, Any]:
    rows = list(session.journal.rows())
    return rows[-1]


def greet(context: Any, event: Any) -> Any:
    return svaml.ice().say(f"Hi {event.cli}").hangup()


def test_ice_route_answers_validated_svaml_and_journals_the_callback(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", greet, "test")
    response = client.post("/ice", json=payload("voice-ice"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"instructions": [{"name": "say", "text": "Hi cli number"}], "action": {"name": "hangup"}}
    row = last(session)
    assert (row["kind"], row["call_id"], row["cli"], row["destination"]) == (
        "ice",
        "a call id",
        "cli number",
        "+123456879",
    )
    assert (row["status"], row["outcome"], row["svaml_action"], row["svaml_instructions"]) == (
        200,
        "ok",
        "hangup",
        "say",
    )
    assert row["handler"] == "ice v1 (test)" and row["handler_version"] == 1
    assert json.loads(row["response_body"]) == response.json()
    assert json.loads(row["request_body"]) == payload("voice-ice")
    assert row["latency_ms"] > 0 and row["simulated"] == 0


@pytest.mark.parametrize("path", ["/", "/voice", "/webhook/voice", "/sinch/callback/pie"])
def test_one_callback_url_dispatches_on_the_event(session: Session, client: httpx.Client, path: str) -> None:
    session.registry.register("pie", lambda c, e: svaml.pie().say(e.menu_result.value).hangup(), "test")
    response = client.post(path, json=payload("voice-pie"))
    assert response.json()["instructions"][0]["text"] == "1452"
    row = last(session)
    assert (row["kind"], row["menu_result_type"], row["menu_result_value"], row["menu_id"]) == (
        "pie",
        "sequence",
        "1452",
        "confirm",
    )


def test_dice_and_notify_answer_200_with_an_empty_body(session: Session, client: httpx.Client) -> None:
    seen: list[str] = []
    session.registry.register("dice", lambda c, e: seen.append(e.reason) or {"ignored": True}, "test")
    dice = client.post("/dice", json=payload("voice-dice"))
    notify = client.post("/notify", json=payload("voice-notify"))
    assert (dice.status_code, dice.content, notify.status_code, notify.content) == (200, b"", 200, b"")
    assert seen == ["MANAGERHANGUP"]
    rows = list(session.journal.rows())
    assert (rows[0]["reason"], rows[0]["result"], rows[0]["duration"]) == ("MANAGERHANGUP", "ANSWERED", 1)
    assert "not read by Sinch" in rows[0]["warnings"]
    assert rows[1]["outcome"] == "default"


def test_ace_without_a_handler_continues(session: Session, client: httpx.Client) -> None:
    response = client.post("/ace", json={"event": "ace", "callid": "c1"})
    assert response.json() == {"action": {"name": "continue"}}
    assert last(session)["outcome"] == "default"


def test_ice_without_a_handler_gets_the_fallback_and_says_how_to_define_one(
    session: Session, client: httpx.Client
) -> None:
    response = client.post("/ice", json=payload("voice-ice"))
    assert response.json() == DEFAULT_FALLBACK
    assert "%%sinch ice" in last(session)["error"]


def test_conversation_webhook(session: Session, client: httpx.Client) -> None:
    texts: list[str | None] = []
    session.registry.register("conversation", lambda c, e: texts.append(e.text), "test")
    response = client.post("/webhook/conversation", json=payload("conversation-message-inbound"))
    assert (response.status_code, response.content) == (200, b"")
    assert texts == ["This is a text message."]
    row = last(session)
    assert (row["kind"], row["trigger"], row["cli"], row["destination"]) == (
        "conversation",
        "MESSAGE_INBOUND",
        "an identity",
        "MESSENGER",
    )


def test_custom_endpoints_get_the_request_and_answer_plain_values(session: Session, client: httpx.Client) -> None:
    session.registry.register(
        "http", lambda c, r: {"q": r.query.get("q"), "m": r.method}, "t1", key="GET /status", defined_in="a"
    )
    session.registry.register(
        "http", lambda c, r: {"statusCode": 201, "body": r.json()}, "t2", key="POST /api/v1/orders", defined_in="b"
    )
    session.registry.register("http", lambda c, r: None, "t3", key="DELETE /api/v1/orders", defined_in="c")
    assert client.get("/status?q=1").json() == {"q": "1", "m": "GET"}
    created = client.post("/api/v1/orders", json={"id": 7})
    assert (created.status_code, created.json()) == (201, {"id": 7})
    assert client.delete("/api/v1/orders").status_code == 204
    wrong = client.put("/api/v1/orders")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, POST"


def test_health_needs_nothing(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", greet, "test")
    response = client.get("/health")
    assert response.json() == {"status": "ok", "handlers": ["ice v1 (test)"]}


def test_async_handlers(session: Session, client: httpx.Client) -> None:
    async def ice(context: Any, event: Any) -> Any:
        await asyncio.sleep(0.01)
        return svaml.ice().say("async").hangup()

    session.registry.register("ice", ice, "test")
    assert client.post("/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "async"


def test_context_reaches_the_handler_and_logs_land_in_the_journal(session: Session, client: httpx.Client) -> None:
    def ice(context: Any, event: Any) -> Any:
        count = context.cache.get("calls", 0) + 1
        context.cache.set("calls", count)
        context.storage.write(f"calls/{event.call_id}.json", json.dumps(event.raw))
        context.log.info("call number %d", count)
        assert context.database.endswith("data/function.db")
        assert not context.voice and not context.conversation
        return svaml.ice().say(f"call {count}").hangup()

    session.registry.register("ice", ice, "test")
    client.post("/ice", json=payload("voice-ice"))
    second = client.post("/ice", json=payload("voice-ice"))
    assert second.json()["instructions"][0]["text"] == "call 2"
    assert (session.settings.base_dir / "storage" / "calls" / "a call id.json").is_file()
    assert json.loads(last(session)["logs"])[0]["message"] == "call number 2"


# -- bad input ---------------------------------------------------------------


def test_malformed_json_is_400_and_journaled(session: Session, client: httpx.Client) -> None:
    response = client.post("/ice", content=b'{"event": "ice",', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    row = last(session)
    assert (row["status"], row["outcome"], row["request_body"]) == (400, "rejected", '{"event": "ice",')


def test_a_payload_sinch_would_never_send_is_400_naming_the_field(session: Session, client: httpx.Client) -> None:
    response = client.post("/pie", json={"event": "pie", "callid": "x", "menuResult": {"type": "guess"}})
    assert response.status_code == 400
    assert "menuResult.type" in response.json()["error"]
    no_event = client.post("/", json={"callid": "x"})
    assert no_event.status_code == 400 and "'event'" in no_event.json()["error"]
    assert len(list(session.journal.rows())) == 2


def test_unknown_path_is_404_naming_the_known_routes(session: Session, client: httpx.Client) -> None:
    session.registry.register("http", lambda c, r: "ok", "t", key="GET /status")
    response = client.post("/icee", json={})
    assert response.status_code == 404
    assert "POST /ice" in response.json()["error"] and "GET /status" in response.json()["known_routes"]
    assert last(session)["status"] == 404


def test_wrong_method_is_405(session: Session, client: httpx.Client) -> None:
    response = client.get("/ice")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert last(session)["outcome"] == "rejected"


def test_body_over_one_mib_is_413(session: Session, client: httpx.Client) -> None:
    response = client.post("/ice", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    chunked = client.post("/ice", content=iter([b"x" * 700_000, b"x" * 700_000]))
    assert chunked.status_code == 413
    assert [row["status"] for row in session.journal.rows()] == [413, 413]


def test_a_handler_that_raises_still_answers_valid_svaml(session: Session, client: httpx.Client) -> None:
    def broken(context: Any, event: Any) -> Any:
        return {"menu": 1 / 0}

    session.registry.register("ice", broken, "test")
    response = client.post("/ice", json=payload("voice-ice"))
    assert (response.status_code, response.json()) == (200, DEFAULT_FALLBACK)
    row = last(session)
    assert row["outcome"] == "fallback" and "ZeroDivisionError" in row["error"]
    assert "broken" in row["traceback"] and "1 / 0" in row["traceback"]
    assert "runtime/app.py" not in row["traceback"]
    error = session.last_error()
    assert error is not None and error.record_id == row["id"] and "ZeroDivisionError" in repr(error)


def test_a_slow_handler_gets_the_fallback_in_time(session: Session, client: httpx.Client) -> None:
    session.configure(handler_timeout=0.2)
    release = threading.Event()
    session.registry.register("ice", lambda c, e: release.wait(10) and svaml.ice().hangup(), "test")
    response = client.post("/ice", json=payload("voice-ice"))
    release.set()
    assert response.json() == DEFAULT_FALLBACK
    assert "took longer than 0.2 s" in last(session)["error"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "returned NoneType"),
        ("hangup", "returned str"),
        ({"action": {"name": "continue"}}, "continue is not allowed"),
        ({"action": {"name": "hangup", "typo": 1}}, "action.hangup.typo"),
        (svaml.pie().hangup(), "returned a PIE builder"),
    ],
)
def test_an_invalid_answer_is_replaced_by_the_fallback(
    session: Session, client: httpx.Client, answer: Any, message: str
) -> None:
    session.registry.register("ice", lambda c, e: answer, "test")
    assert client.post("/ice", json=payload("voice-ice")).json() == DEFAULT_FALLBACK
    assert message in last(session)["error"]


def test_the_fallback_is_configurable_and_checked(session: Session, client: httpx.Client) -> None:
    session.configure(fallback=svaml.ice().say("Back soon").hangup())
    assert client.post("/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "Back soon"
    with pytest.raises(ValueError, match="valid for ICE, ACE and PIE"):
        session.configure(fallback=svaml.ice().answer().hangup())


def test_a_failing_custom_endpoint_is_500_without_internals(session: Session, client: httpx.Client) -> None:
    session.registry.register("http", lambda c, r: {}["secret-key"], "t", key="GET /boom")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret-key" not in response.text and "sn.last_error()" in response.text
    assert "KeyError" in last(session)["error"]


def test_credentials_are_masked_in_the_journal(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", greet, "test")
    client.post("/ice", json=payload("voice-ice"), headers={"Authorization": "Application key:c2VjcmV0c2lnbg=="})
    headers = json.loads(last(session)["request_headers"])
    assert headers["authorization"] == "Application ***"
    assert "c2VjcmV0c2lnbg" not in json.dumps(list(session.journal.rows()))


# -- lifecycle ---------------------------------------------------------------


def test_start_is_idempotent_and_stop_frees_the_port(session: Session) -> None:
    port = free_port()
    first = session.start(port=port)
    assert session.start() is first and session.start(port=port) is first
    assert not port_is_free(port)
    assert session.stop()
    assert port_is_free(port)
    assert not session.stop()


def test_a_port_in_use_is_named(session: Session) -> None:
    port = free_port()
    other = Session()
    other.configure(journal=session.settings.base_dir / "other.db")
    other.start(port=port)
    try:
        with pytest.raises(PortInUseError, match=f"port {port} .* in use.*--port"):
            session.start(port=port)
    finally:
        other.shutdown()


def test_re_registering_swaps_atomically_and_calls_in_flight_finish_on_the_old_handler(
    session: Session, client: httpx.Client
) -> None:
    entered, release = threading.Event(), threading.Event()

    def old(context: Any, event: Any) -> Any:
        entered.set()
        release.wait(10)
        return svaml.ice().say("old").hangup()

    session.registry.register("ice", old, "cell [1]", defined_in="cell-a")
    results: list[str] = []
    caller = threading.Thread(target=lambda: results.append(client.post("/ice", json=payload("voice-ice")).text))
    caller.start()
    assert entered.wait(10)
    new = session.registry.register(
        "ice", lambda c, e: svaml.ice().say("new").hangup(), "cell [2]", defined_in="cell-a"
    )
    assert new.version == 2
    with httpx.Client(base_url=client.base_url) as second:
        assert second.post("/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "new"
    release.set()
    caller.join(10)
    assert json.loads(results[0])["instructions"][0]["text"] == "old"
    versions = {row["handler"] for row in session.journal.rows()}
    assert versions == {"ice v1 (cell [1])", "ice v2 (cell [2])"}


def test_a_cell_that_changes_kind_gives_up_its_old_route(session: Session) -> None:
    session.registry.register("ice", greet, "cell [1]", defined_in="cell-a")
    session.registry.register("pie", greet, "cell [2]", defined_in="cell-a")
    assert [h.key for h in session.registry.handlers()] == ["pie"]


def test_callbacks_are_answered_while_the_main_thread_is_busy(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", greet, "test")
    answered: list[float] = []

    def call() -> None:
        with httpx.Client(base_url=client.base_url) as http:
            http.post("/ice", json=payload("voice-ice"))
            answered.append(time.monotonic())

    caller = threading.Thread(target=call)
    busy_until = time.monotonic() + 1.0
    caller.start()
    while time.monotonic() < busy_until:  # a CPU-bound "cell" holding the GIL as much as it can
        sum(range(1000))
    caller.join(10)
    assert answered and answered[0] < busy_until


def test_a_simulated_text_reaches_the_conversation_handler(sn: Any) -> None:
    texts: list[str | None] = []
    sn.conversation(lambda context, event: texts.append(event.text))
    exchange = sn.text("Are you open?", from_="+15550001111", channel="WHATSAPP")
    assert texts == ["Are you open?"]
    record = sn.callback(exchange.record_id)
    assert (record["trigger"], record["cli"], record["destination"], record["status"]) == (
        "MESSAGE_INBOUND",
        "+15550001111",
        "WHATSAPP",
        200,
    )


def test_the_runtime_shortens_the_switch_interval_while_it_serves_and_restores_it(session: Session) -> None:
    import sys

    sys.setswitchinterval(0.004)  # the user's own
    session.start()
    assert sys.getswitchinterval() == pytest.approx(0.0005)
    session.stop()
    assert sys.getswitchinterval() == pytest.approx(0.004)
    sys.setswitchinterval(0.005)


def test_the_journal_is_bounded_by_a_setting(session: Session) -> None:
    session.configure(journal_max_rows=1500)
    for number in range(3000):
        session.journal.append({"kind": "ice", "call_id": f"c{number}"})
    session.journal.append({"kind": "ice", "call_id": "last"})
    session.journal.flush()
    count = session.journal.count()
    assert 1500 <= count < 2600, count  # pruned to the bound (checked every thousand rows written)
    assert list(session.journal.rows())[-1]["call_id"] == "last"


def test_sn_stop_restores_the_users_switch_interval_too(sn: Any) -> None:
    import sys

    sys.setswitchinterval(0.004)
    sn.start()
    assert sys.getswitchinterval() == pytest.approx(0.0005)
    sn.stop()
    assert sys.getswitchinterval() == pytest.approx(0.004)
    sys.setswitchinterval(0.005)
