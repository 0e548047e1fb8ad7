"""Signed callbacks: with a secret known, forged and unsigned callbacks get 401, journaled with the verdict."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import payload

from sinch_nb import signing, svaml
from sinch_nb.runtime.session import Session
from sinch_nb.simulate.caller import dial

KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
WEBHOOK_SECRET = "foo_secret1234"


@pytest.fixture
def signed(session: Session, client: httpx.Client) -> httpx.Client:
    session.configure(application_key=KEY, application_secret=SECRET, conversation_secret=WEBHOOK_SECRET)
    session.registry.register("ice", lambda c, e: svaml.ice().say("hi").hangup(), "ice")
    session.registry.register("conversation", lambda c, e: None, "conversation")
    return client


def verdicts(session: Session) -> list[tuple[int, str]]:
    return [(row["status"], row["signature"]) for row in session.journal.rows()]


def post_signed(client: httpx.Client, path: str, body: bytes, secret: str = SECRET) -> httpx.Response:
    headers = signing.voice_signing_headers("POST", path, body, KEY, secret)
    return client.post(path, content=body, headers=headers)


def test_a_valid_signature_is_answered(session: Session, signed: httpx.Client) -> None:
    response = post_signed(signed, "/ice", json.dumps(payload("voice-ice")).encode())
    assert response.status_code == 200
    assert verdicts(session) == [(200, "valid")]


def test_a_forged_signature_is_401_and_journaled(session: Session, signed: httpx.Client) -> None:
    forged = post_signed(signed, "/ice", json.dumps(payload("voice-ice")).encode(), secret="AAAAAAAAAAAAAAAAAAAAAA==")
    assert forged.status_code == 401
    assert "invalid signature" in forged.json()["error"]
    assert verdicts(session) == [(401, "invalid")]
    row = next(session.journal.rows())
    assert row["outcome"] == "rejected" and json.loads(row["request_body"])["callid"] == "a call id"


def test_a_tampered_body_fails_the_signature(session: Session, signed: httpx.Client) -> None:
    body = json.dumps(payload("voice-ice")).encode()
    headers = signing.voice_signing_headers("POST", "/ice", body, KEY, SECRET)
    assert signed.post("/ice", content=body.replace(b"cli number", b"+1999"), headers=headers).status_code == 401


def test_unsigned_is_401_unless_insecure(session: Session, signed: httpx.Client) -> None:
    assert signed.post("/ice", json=payload("voice-ice")).status_code == 401
    session.configure(insecure=True)
    assert signed.post("/ice", json=payload("voice-ice")).status_code == 200
    forged = post_signed(signed, "/ice", json.dumps(payload("voice-ice")).encode(), secret="AAAAAAAAAAAAAAAAAAAAAA==")
    assert forged.status_code == 401  # insecure accepts unsigned, never forged
    assert verdicts(session) == [(401, "unsigned"), (200, "unsigned"), (401, "invalid")]


def test_conversation_webhooks_are_checked_by_hmac(session: Session, signed: httpx.Client) -> None:
    body = json.dumps(payload("conversation-message-inbound")).encode()
    good = signing.sign_conversation_webhook(body, WEBHOOK_SECRET)
    bad = signing.sign_conversation_webhook(body, "not the secret")
    assert signed.post("/webhook/conversation", content=body, headers=good).status_code == 200
    assert signed.post("/webhook/conversation", content=body, headers=bad).status_code == 401
    assert verdicts(session) == [(200, "valid"), (401, "invalid")]


def test_health_needs_no_signature(session: Session, signed: httpx.Client) -> None:
    assert signed.get("/health").status_code == 200


def test_without_a_secret_callbacks_are_unchecked(session: Session, client: httpx.Client) -> None:
    session.registry.register("ice", lambda c, e: svaml.ice().hangup(), "ice")
    assert client.post("/ice", json=payload("voice-ice")).status_code == 200
    assert verdicts(session) == [(200, "unchecked")]


def test_the_simulated_caller_signs_so_it_works_with_checks_on(session: Session, signed: httpx.Client) -> None:
    transcript = dial(str(signed.base_url), "+1555", "+1666", application_key=KEY, application_secret=SECRET)
    assert transcript.statuses == [200, 200]
    assert {verdict for _, verdict in verdicts(session)} == {"valid"}


def test_secrets_never_show_in_settings(session: Session) -> None:
    settings: Any = session.configure(application_secret=SECRET)
    assert SECRET not in repr(settings) and "Secret('***')" in repr(settings)


def test_stale_and_future_signed_callbacks_are_refused(session: Session, signed: httpx.Client) -> None:
    body = json.dumps(payload("voice-ice")).encode()
    for stamp in ("2014-09-24T10:59:41Z", "2099-01-01T00:00:00Z"):
        headers = {"content-type": "application/json", "x-timestamp": stamp}
        headers["authorization"] = signing.sign_voice_callback("POST", "/ice", headers, body, KEY, SECRET)
        refused = signed.post("/ice", content=body, headers=headers)
        assert (
            refused.status_code == 401 and "stale signed callback refused: its x-timestamp" in refused.json()["error"]
        )
    webhook = json.dumps(payload("conversation-message-inbound")).encode()
    old = signing.sign_conversation_webhook(webhook, WEBHOOK_SECRET, timestamp="1000000000")
    assert signed.post("/webhook/conversation", content=webhook, headers=old).status_code == 401
    assert post_signed(signed, "/ice", body).status_code == 200  # a fresh one is answered
    session.configure(signature_window=None)
    headers = {"content-type": "application/json", "x-timestamp": "2014-09-24T10:59:41Z"}
    headers["authorization"] = signing.sign_voice_callback("POST", "/ice", headers, body, KEY, SECRET)
    assert signed.post("/ice", content=body, headers=headers).status_code == 200  # the check turned off


def test_an_exact_repeat_gets_the_first_answer_without_running_the_handler(
    session: Session, signed: httpx.Client
) -> None:
    runs: list[str] = []

    def counted(context: Any, event: Any) -> Any:
        runs.append(event.call_id)
        return svaml.ice().say(f"run {len(runs)}").hangup()

    session.registry.register("ice", counted, "ice")
    body = json.dumps(payload("voice-ice")).encode()
    headers = signing.voice_signing_headers("POST", "/ice", body, KEY, SECRET)
    first = signed.post("/ice", content=body, headers=headers)
    repeats = [signed.post("/ice", content=body, headers=headers) for _ in range(3)]
    assert [r.json() for r in repeats] == [first.json()] * 3 and first.json()["instructions"][0]["text"] == "run 1"
    assert len(runs) == 1, "the handler ran once"
    rows = list(session.journal.rows())
    assert [row["outcome"] for row in rows] == ["ok", "repeat", "repeat", "repeat"]
    assert {row["replay_of"] for row in rows[1:]} == {rows[0]["id"]}
    nonce = signing.sign_conversation_webhook(json.dumps(payload("conversation-message-inbound")), WEBHOOK_SECRET)
    webhook = json.dumps(payload("conversation-message-inbound")).encode()
    assert [signed.post("/webhook/conversation", content=webhook, headers=nonce).status_code for _ in range(2)] == [
        200,
        200,
    ]
    assert [row["outcome"] for row in session.journal.rows()][-2:] == ["ok", "repeat"]


def test_a_repeat_of_a_callback_that_failed_runs_again(session: Session, signed: httpx.Client) -> None:
    runs: list[int] = []

    def flaky(context: Any, event: Any) -> Any:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the first try fails")
        return svaml.ice().say("second try").hangup()

    session.registry.register("ice", flaky, "ice")
    body = json.dumps(payload("voice-ice")).encode()
    headers = signing.voice_signing_headers("POST", "/ice", body, KEY, SECRET)
    assert signed.post("/ice", content=body, headers=headers).json() != {}  # the fallback
    again = signed.post("/ice", content=body, headers=headers)
    assert again.json()["instructions"][0]["text"] == "second try" and len(runs) == 2


def test_replay_and_the_simulator_sign_afresh_so_they_are_never_repeats(session: Session, signed: httpx.Client) -> None:
    from sinch_nb.runtime.replay import replay

    runs: list[int] = []
    session.registry.register("ice", lambda c, e: runs.append(1) or svaml.ice().hangup(), "ice")
    assert post_signed(signed, "/ice", json.dumps(payload("voice-ice")).encode()).status_code == 200
    first = next(session.journal.rows())["id"]
    replay(session, first)
    dial(str(signed.base_url), "+1555", "+1666", application_key=KEY, application_secret=SECRET)
    assert len(runs) == 3
