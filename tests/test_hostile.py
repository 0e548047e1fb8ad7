"""Hostile input, over real HTTP: each gets a clear answer, is journaled, and the next callback still is."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from typing import Any

import httpx
import pytest
from conftest import payload

from sinch_nb import svaml
from sinch_nb.runtime.session import Session
from sinch_nb.runtime.settings import DEFAULT_FALLBACK

DEEP = b"[" * 100_000 + b"]" * 100_000


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


#: name → (path, headers, body): each from the kinds of request an attacker or a broken client sends.
HOSTILE: dict[str, tuple[str, dict[str, Any], bytes]] = {
    "replay header of 20 digits": ("/ice", {"x-sinch-nb-replay-of": "9" * 20}, _json(payload("voice-ice"))),
    "replay header of 5,000 digits": ("/ice", {"x-sinch-nb-replay-of": "9" * 5000}, _json(payload("voice-ice"))),
    "replay header of a superscript digit": (
        "/ice",
        {"x-sinch-nb-replay-of": b"\xb2"},  # '²' in Latin-1, as HTTP headers are read
        _json(payload("voice-ice")),
    ),
    "DiCE duration of 10^20": ("/dice", {}, _json({**payload("voice-dice"), "duration": 10**20})),
    "cli that is an object": ("/ice", {}, _json({**payload("voice-ice"), "cli": {"x": 1}})),
    "reason that is a list": ("/dice", {}, _json({**payload("voice-dice"), "reason": ["a"]})),
    "lone surrogate in cli": ("/ice", {}, b'{"event": "ice", "callid": "c", "cli": "\\ud800", "to": {}}'),
    "lone surrogate in a DiCE reason": (
        "/dice",
        {},
        _json(payload("voice-dice")).replace(b'"reason": "', b'"reason": "\\udfff'),
    ),
    "JSON nested 100,000 deep on /": ("/", {}, DEEP),
    "JSON nested 100,000 deep on /ice": ("/ice", {}, DEEP),
    "event in capitals on /": ("/", {}, _json({**payload("voice-ice"), "event": "ICE"})),
    "1 MiB of invalid UTF-8": ("/ice", {}, b"\xff" * (1024 * 1024 - 1)),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_request_is_answered_journaled_and_the_next_callback_too(
    session: Session, client: httpx.Client, name: str
) -> None:
    session.registry.register("ice", lambda c, e: svaml.ice().say("Hi").hangup(), "ice")
    path, headers, body = HOSTILE[name]
    hostile = client.post(path, content=body, headers={"content-type": "application/json", **headers})
    assert hostile.status_code < 500, hostile.text
    if hostile.status_code >= 400:
        assert hostile.json()["error"], "a refusal names the fix"
    normal = client.post("/ice", json={**payload("voice-ice"), "callid": "the-next-one"})
    assert normal.status_code == 200 and normal.json()["action"] == {"name": "hangup"}
    rows = list(session.journal.rows())
    assert len(rows) == 2, "one record per request"
    assert rows[0]["status"] == hostile.status_code
    assert rows[1]["call_id"] == "the-next-one" and rows[1]["outcome"] == "ok"
    assert session.journal.problem is None


def test_deep_nesting_is_refused_naming_the_limit(client: httpx.Client) -> None:
    response = client.post("/", content=DEEP)
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["error"]


def test_the_event_name_is_read_the_same_by_the_router_and_the_contract(client: httpx.Client) -> None:
    response = client.post("/", json={**payload("voice-ice"), "event": "ICE"})
    assert response.status_code == 400
    assert "'ICE'" in response.json()["error"] and "ice, ace, pie, dice or notify" in response.json()["error"]


def test_a_refused_body_is_stored_cut_to_the_limit(session: Session, client: httpx.Client) -> None:
    client.post("/ice", content=b"x" * (900 * 1024))
    (row,) = session.journal.rows()
    assert row["outcome"] == "rejected"
    assert len(row["request_body"]) < 70 * 1024 and row["request_body"].endswith("[cut: 921600 characters, 65536 kept]")


def test_a_blocking_async_handler_times_out_and_delays_no_other_callback(
    session: Session, client: httpx.Client
) -> None:
    async def blocks(context: Any, event: Any) -> Any:
        time.sleep(3)  # a synchronous client inside an async handler
        return svaml.ice().hangup()

    session.configure(handler_timeout=0.5)
    session.registry.register("ice", blocks, "ice")
    session.registry.register("pie", lambda c, e: svaml.pie().hangup(), "pie")
    blocked: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: blocked.update(response=client.post("/ice", json=payload("voice-ice"))))
    thread.start()
    time.sleep(0.1)  # the ICE handler is blocking now
    with httpx.Client(base_url=str(client.base_url)) as other:
        sent = time.perf_counter()
        pie = other.post("/pie", json=payload("voice-pie"))
        waited = time.perf_counter() - sent
    thread.join()
    assert pie.json() == {"action": {"name": "hangup"}}
    assert waited < 0.4, f"an unrelated PIE waited {waited:.2f} s behind a blocking async handler"
    assert blocked["response"].json() == DEFAULT_FALLBACK
    (ice,) = (row for row in session.journal.rows() if row["kind"] == "ice")
    assert ice["outcome"] == "fallback" and "took longer than 0.5 s" in ice["error"]


def test_stuck_sync_handlers_do_not_starve_the_next_callback(session: Session, client: httpx.Client) -> None:
    release = threading.Event()

    def stuck(context: Any, request: Any) -> Any:
        release.wait(30)
        return "late"

    session.configure(handler_timeout=0.3)
    session.registry.register("http", stuck, "stuck", key="POST /stuck")
    session.registry.register("ice", lambda c, e: svaml.ice().say("fast").hangup(), "ice")
    try:
        with concurrent.futures.ThreadPoolExecutor(20) as senders:
            outcomes = list(senders.map(lambda _: client.post("/stuck").status_code, range(20)))
        assert outcomes == [500] * 20  # each timed out: its thread is still stuck in the handler
        fast = client.post("/ice", json=payload("voice-ice"))
        assert fast.json()["instructions"][0]["text"] == "fast", "answered by its handler, not the fallback"
        session.stop()
        server = session.start()  # stop/start keeps working too
        assert httpx.post(f"{server.url}/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "fast"
    finally:
        release.set()


def test_internal_marks_from_the_network_are_not_believed(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", lambda c, e: svaml.ice().hangup(), "ice")
    first = client.post("/ice", json=payload("voice-ice"))
    assert first.status_code == 200
    forged = {"x-sinch-nb-simulated": "1", "x-sinch-nb-replay-of": "1"}
    assert client.post("/ice", json=payload("voice-ice"), headers=forged).status_code == 200
    rows = list(session.journal.rows())
    assert (rows[-1]["simulated"], rows[-1]["replay_of"]) == (0, None)
    assert "***" in rows[-1]["request_headers"]  # the marks are masked in the journal either way


def test_the_simulator_and_replay_still_mark_their_requests(sn: Any) -> None:
    sn.ice(lambda context, event: svaml.ice().say("Hi").hangup())
    sn.dial("+15551234567", "+15559876543")
    first = sn.callbacks()
    assert set(first["simulated"]) == {1}
    again = sn.replay(int(first.index[0]))
    row = sn.callback(again.record_id)
    assert (row["replay_of"], row["simulated"]) == (int(first.index[0]), 1)


@pytest.mark.parametrize(
    "path",
    ["/", "/voice", "/ice", "/ace", "/pie", "/dice", "/notify", "/webhook/conversation", "/webhook/x", "/health"],
)
def test_a_custom_endpoint_cannot_take_over_a_signed_route(session: Session, path: str) -> None:
    from sinch_nb import RouteError

    with pytest.raises(RouteError, match=f"POST {path} cannot be a custom endpoint: .*Use another path"):
        session.registry.register("http", lambda c, r: "mine", "cell [1]", key=f"POST {path}")
    assert session.registry.custom_keys() == frozenset()


def test_decorated_handlers_are_keyed_by_route_not_by_name(sn: Any) -> None:
    @sn.ice
    def handle(context: Any, event: Any) -> Any:
        return svaml.ice().hangup()

    @sn.pie  # the same function name
    def handle(context: Any, event: Any) -> Any:  # noqa: F811
        return svaml.pie().hangup()

    assert [h.key for h in sn.handlers()] == ["ice", "pie"]


def test_through_a_tunnel_health_and_404_name_no_handler_or_route(session: Session, client: httpx.Client) -> None:
    session.registry.register("http", lambda c, r: "ok", "cell [1]", key="GET /api/secret-admin")
    tunnelled = {"x-forwarded-for": "203.0.113.9"}
    assert client.get("/health", headers=tunnelled).json() == {"status": "ok"}
    missing = client.get("/nope", headers=tunnelled).json()
    assert "known_routes" not in missing and "secret-admin" not in json.dumps(missing)
    assert "GET /api/secret-admin v1 (cell [1])" in json.dumps(client.get("/health").json())  # local: all of it
    assert "GET /api/secret-admin" in client.get("/nope").json()["known_routes"]


def test_status_says_what_is_checked_per_family_of_routes(sn: Any) -> None:
    sn.configure(application_key="app-key", application_secret="BeIukql3pTKJ8RGL5zo0DA==")
    assert sn.status()["signatures"] == {
        "voice": "checked",
        "webhook": "not checked (no CONVERSATION_WEBHOOK_SECRET)",
        "custom endpoints": "open: your handler checks what it needs",
    }
