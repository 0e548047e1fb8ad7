"""Voice API v2 in the runtime (issue 18, items 1, 3, 5): CloudEvent webhooks on POST /, slots, signatures, journal."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from kernel import Kernel, started_kernel

from sinch_nb.functions.signing import voice_v2_signing_headers

V2 = Path(__file__).resolve().parent / "fixtures" / "sinch" / "v2"
SERVICE_ID, SERVICE_SECRET = "a74b1566-0f18-4f8e-9c23-8e6b5df8fd3e", "F5wrP9SKYU6w8sbZXkp7GA=="


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((V2 / f"{name}.json").read_text())
    return data


def cloud_headers(body: dict[str, Any], event_id: str | None = None) -> dict[str, str]:
    return {
        "content-type": "application/json; charset=utf-8",
        "ce-specversion": "1.0",
        "ce-type": "com.sinch.voice.call.control.v1",
        "ce-source": f"projects/p/services/{SERVICE_ID}",
        "ce-id": event_id or str(uuid.uuid4()),
        "ce-time": "2026-04-01T12:00:00+00:00",
    }


def post(url: str, body: dict[str, Any], path: str = "/", **headers: str) -> httpx.Response:
    return httpx.post(url + path, content=json.dumps(body), headers={**cloud_headers(body), **headers})


@pytest.mark.parametrize(
    ("name", "slot"),
    [
        ("v2-call.incoming.oas", "incoming"),
        ("v2-call.incoming.node-sdk", "incoming"),
        ("v2-call.answered.oas", "answered"),
        ("v2-call.menu.java-sdk", "manage"),
        ("v2-call.webhook.menu-selection.oas", "webhook menu-selection"),
        ("v2-call.webhook.on-answer.java-sdk", "manage"),  # no handler of that name: manage takes it
        ("v2-call.hangup.oas", "completed"),
        ("v2-call.failed.oas", "completed"),
        ("v2-call.busy.oas", "fallback"),
        ("v2-call.timeout.oas", "fallback"),
    ],
)
def test_each_event_reaches_its_oncall_slot_and_is_journaled(sn: Any, name: str, slot: str) -> None:
    seen: list[str] = []

    def slot_handler(kind: str) -> Any:
        def handler(context: Any, call: Any, builder: Any) -> Any:
            seen.append(kind)
            return builder.say(f"{kind} {call.event}") if kind != "completed" else None

        return handler

    sn.on_call(
        **{kind: slot_handler(kind) for kind in ("incoming", "answered", "manage", "completed", "fallback")},
        webhooks={"menu-selection": slot_handler("webhook menu-selection")},
    )
    body = fixture(name)["body"]
    response = post(sn.start().url, body)
    assert seen == [slot]
    row = sn.callbacks().iloc[-1]
    assert (str(row["kind"]), row["call_id"], row["status"]) == (
        body["event"],
        body["call"]["callId"],
        response.status_code,
    )
    if slot == "completed":
        assert response.status_code == 204 and response.content == b""
    else:
        commands = response.json()["commands"]
        assert commands[0]["messages"][0]["say"]["text"] == f"{slot} {body['event']}"
    assert row["ce_id"] and str(row["outcome"]) == "ok"
    if body["call"].get("from"):
        assert row["cli"] == (body["call"]["from"].get("phone") or {}).get("number", row["cli"])


def test_a_duplicate_delivery_gets_the_first_answer_without_running_the_handler_again(sn: Any) -> None:
    runs: list[str] = []
    sn.on_call(incoming=lambda context, call, builder: runs.append(call.call_id) or builder.answer().hangup())
    body = fixture("v2-call.incoming.oas")["body"]
    url, event_id = sn.start().url, str(uuid.uuid4())
    first = httpx.post(url + "/", content=json.dumps(body), headers=cloud_headers(body, event_id))
    again = httpx.post(url + "/", content=json.dumps(body), headers=cloud_headers(body, event_id))
    other = httpx.post(url + "/", content=json.dumps(body), headers=cloud_headers(body))
    assert first.content == again.content == other.content and len(runs) == 2
    outcomes = sn.callbacks()["outcome"].astype(str).tolist()
    assert outcomes == ["ok", "repeat", "ok"]
    assert "duplicate delivery" in sn.callbacks()["warnings"].iloc[1]


def test_service_signatures_are_checked_when_the_secret_is_known(sn: Any) -> None:
    sn.configure(voice_service_id=SERVICE_ID, voice_service_secret=SERVICE_SECRET)
    sn.on_call(incoming=lambda context, call, builder: builder.hangup())
    body = fixture("v2-call.incoming.oas")["body"]
    url, raw = sn.start().url, json.dumps(body).encode()
    signed = voice_v2_signing_headers("/", raw, SERVICE_ID, SERVICE_SECRET)
    ok = httpx.post(url + "/", content=raw, headers={**cloud_headers(body), **signed})
    forged = {**signed, "authorization": signed["authorization"][:-6] + "AAAAA="}
    bad = httpx.post(url + "/", content=raw, headers={**cloud_headers(body), **forged})
    unsigned = httpx.post(url + "/", content=raw, headers=cloud_headers(body))
    assert (ok.status_code, bad.status_code, unsigned.status_code) == (200, 401, 401)
    assert sn.callbacks()["signature"].astype(str).tolist() == ["valid", "invalid", "unsigned"]
    assert "VOICE_SERVICE_SECRET" in unsigned.json()["error"]


def test_the_oas_signing_example_verifies_on_its_own_path(sn: Any) -> None:
    vector = fixture("v2-call.incoming.oas-signing-example")
    sn.configure(voice_service_id=SERVICE_ID, voice_service_secret=SERVICE_SECRET, signature_window=None)
    sn.on_call(incoming=lambda context, call, builder: builder.hangup())
    server = sn.start()
    # The runtime serves the webhook on / and /webhook/voice; the vector was signed for /voice-webhooks,
    # so it is valid there only: here it must be refused, proving the path is part of what is checked.
    response = httpx.post(server.url + "/webhook/voice", content=vector["raw_body"], headers=vector["headers"])
    assert response.status_code == 401


def test_without_a_service_secret_v2_is_unchecked_and_says_so(kernel: Kernel) -> None:
    kernel.run("%%sinch incoming\nreturn builder.answer().say('Hi').hangup()")
    started = kernel.run("%sinch start")
    assert "Voice API v2 webhooks: unchecked (no VOICE_SERVICE_SECRET" in started.stdout
    assert "incoming v1 (cell [2]) (v2 incoming)" in started.stdout


def test_a_failing_or_missing_incoming_handler_answers_the_v2_fallback(sn: Any) -> None:
    body = fixture("v2-call.incoming.oas")["body"]
    server = sn.start()
    missing = post(server.url, body)
    assert missing.status_code == 200 and missing.json()["commands"][-1]["events"]["onFinish"] == [
        {"command": "hangup"}
    ]
    assert "no incoming handler: define one with %%sinch incoming" in sn.last_error().error
    sn.on_call(incoming=lambda context, call, builder: 1 / 0)
    broken = post(server.url, body)
    assert broken.json() == missing.json() and "ZeroDivisionError" in sn.last_error().error
    sn.on_call(incoming=lambda context, call, builder: {"commands": [{"command": "nope"}]})
    invalid = post(server.url, body)
    assert invalid.json() == missing.json() and "nope" in sn.last_error().error


def test_v1_callbacks_on_the_same_route_keep_working(sn: Any) -> None:
    from conftest import payload

    from sinch_nb import svaml

    sn.ice(lambda context, event: svaml.ice().say("v1 here").hangup())
    sn.on_call(incoming=lambda context, call, builder: builder.say("v2 here").hangup())
    url = sn.start().url
    v1 = httpx.post(url + "/", json=payload("voice-ice"))
    v2 = post(url, fixture("v2-call.incoming.oas")["body"])
    bare = httpx.post(url + "/", json=fixture("v2-call.incoming.oas")["body"])  # a v2 body without its headers
    assert v1.json()["instructions"][0]["text"] == "v1 here"
    assert "v2 here" in v2.text and "v2 here" in bare.text
    assert sn.callbacks()["kind"].astype(str).tolist() == ["ice", "call.incoming", "call.incoming"]


def test_a_webhook_cell_and_the_builder_in_a_kernel(kernel: Kernel) -> None:
    kernel.run("%%sinch webhook menu-selection\nreturn builder.say(f'Webhook {call.webhook_name}').hangup()")
    kernel.run("%%sinch manage\nreturn builder.hangup()")
    url = kernel.run("server = sn.start(); print(server.url)").stdout.strip()
    answer = post(url, fixture("v2-call.webhook.menu-selection.oas")["body"]).json()
    assert answer["commands"][0]["messages"][0]["say"]["text"] == "Webhook menu-selection"
    listed = kernel.run("%sinch handlers").stdout
    assert "webhook menu-selection" in listed and "manage" in listed


@pytest.fixture
def kernel(tmp_path: Path) -> Any:
    yield from started_kernel(tmp_path)


def test_export_takes_v2_handlers_beside_v1_ones(sn: Any, tmp_path: Path) -> None:
    from sinch_nb import svaml
    from sinch_nb.functions.errors import ExportError

    def ice(context: Any, event: Any) -> Any:
        return svaml.ice().hangup()

    def incoming(context: Any, call: Any, builder: Any) -> Any:
        return builder.hangup()

    sn.ice(ice)
    sn.on_call(incoming=incoming)
    project = sn.export(tmp_path / "fn", "fn")
    assert project.exports == {"ice": ["ice"], "voiceWebhook": ["incoming"]}
    entry = (project.path / "function.js").read_text()
    assert 'export const voiceWebhook = onCall({ incoming: callSlot("incoming") });' in entry
    assert "export default { ice, voiceWebhook };" in entry
    sn.on_call(completed=lambda context, call, builder: None)
    with pytest.raises(ExportError, match=r"the completed handler .* is not a def"):
        sn.export(tmp_path / "fn", "fn")  # a lambda has no source of its own to ship
