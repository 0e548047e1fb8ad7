"""Voice API v2 against the fake Sinch API: linking a Voice service to the tunnel and back, and v2 callouts.

Issue 18, items 6 and 7. The fake (``fakes/sinch_api.py``) checks what it receives as the reference
documents it (reference/sinch-voice-v2.md §7): bearer tokens, ``PATCH`` bodies that carry only
``callBehavior`` in one of its three shapes, ``POST /calls`` bodies of known commands.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import payload
from fakes.sinch_api import FakeSinch
from kernel import Kernel

from sinch_nb import svaml
from sinch_nb.functions.errors import CredentialsError, PlatformError, SvamlError
from sinch_nb.platform import hosts
from sinch_nb.platform.clients import build_clients
from sinch_nb.platform.credentials import KNOWN_NAMES, CredentialStore, is_secret_name
from sinch_nb.platform.linking import Linker
from sinch_nb.runtime.server import Server
from sinch_nb.runtime.session import Session

TESTS = Path(__file__).resolve().parent
FAKES = TESTS / "fakes"
KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
SERVICE = "a74b1566-0f18-4f8e-9c23-8e6b5df8fd3e"
#: Production URLs: nothing listens on port 9, so "is it a notebook runtime?" is answered at once.
PRODUCTION = "http://127.0.0.1:9/voice"
PRODUCTION_FALLBACK = "http://127.0.0.1:9/fallback"
V1_ORIGINAL = "http://127.0.0.1:9/v1-callbacks"
TUNNEL = "http://127.0.0.1:9/tunnel-of-this-notebook"

WEBHOOK = {"type": "WEBHOOK", "webhook": {"url": PRODUCTION, "fallbackUrl": PRODUCTION_FALLBACK}}
STATIC = {
    "type": "STATIC",
    "static": {
        "commands": [
            {"command": "answer"},
            {"command": "messages", "messages": [{"type": "SAY", "say": {"text": "Closed", "voiceName": "Emma"}}]},
            {"command": "hangup"},
        ]
    },
}
NONE = {"type": "NONE"}
FLOW = {
    "commands": [
        {"command": "messages", "messages": [{"type": "SAY", "say": {"text": "Hello", "voiceName": "Emma"}}]},
        {"command": "webhook", "webhookName": "greeted", "url": "https://example.com/hook"},
        {"command": "hangup"},
    ]
}


@pytest.fixture
def sinch() -> Iterator[tuple[FakeSinch, str]]:
    fake = FakeSinch(KEY, SECRET, callbacks={"primary": V1_ORIGINAL, "fallback": None})
    fake.add_service(SERVICE, copy.deepcopy(WEBHOOK))
    server = Server(fake.app())
    server.start()
    yield fake, server.url
    server.stop()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One user's home: where what a service had before any notebook linked it is kept."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def environ(api: str, *, v1: bool = False, project: bool = True, service: bool = True, **extra: str) -> dict[str, str]:
    env = {"SINCH_VOICE_MANAGEMENT_URL": api, "SINCH_VOICE_URL": api, "SINCH_AUTH_URL": api, "SINCH_VOICE_V2_URL": api}
    if v1:
        env |= {"VOICE_APPLICATION_KEY": KEY, "VOICE_APPLICATION_SECRET": SECRET}
    if project:
        env |= {"PROJECT_ID": "project-1", "PROJECT_ID_API_KEY": "key-id", "PROJECT_ID_API_SECRET": "key-secret"}
    if service:
        env["VOICE_SERVICE_ID"] = SERVICE
    return {**env, **extra}


def linker(folder: Path, env: dict[str, str]) -> Linker:
    """A notebook folder's linker, as ``%sinch start`` makes it."""
    store = CredentialStore(folder, environ=env)
    return Linker(folder / ".sinch_nb", store.credentials(), store.lookup)


def behavior(fake: FakeSinch) -> Any:
    return fake.services[SERVICE].get("callBehavior")


# Linking -----------------------------------------------------------------------------


@pytest.mark.parametrize("original", [WEBHOOK, STATIC, NONE], ids=["webhook", "static", "none"])
def test_link_points_the_service_at_the_tunnel_and_restore_puts_back_exactly_what_it_had(
    tmp_path: Path, home: Path, sinch: tuple[FakeSinch, str], original: dict[str, Any]
) -> None:
    fake, api = sinch
    fake.services[SERVICE]["callBehavior"] = copy.deepcopy(original)
    link = linker(tmp_path, environ(api))
    messages = link.link(TUNNEL)
    fallback = {"fallbackUrl": PRODUCTION_FALLBACK} if original is WEBHOOK else {}
    assert behavior(fake) == {"type": "WEBHOOK", "webhook": {"url": f"{TUNNEL}/", **fallback}}
    assert fake.service_patches == [{"service_id": SERVICE, "callBehavior": behavior(fake)}]  # nothing but it
    assert fake.services[SERVICE]["isDefault"] is False  # never echoed back (the API refuses false)
    assert any(f"Voice service {SERVICE} (API v2) webhook now points here" in m for m in messages), messages
    state = json.loads((tmp_path / ".sinch_nb" / "links.json").read_text())["voice_service"]
    assert state == {"service_id": SERVICE, "original": original, "linked_to": f"{TUNNEL}/", "taken_from": None}
    shared = home / ".sinch_nb" / "voice-services" / f"{SERVICE}.json"
    assert json.loads(shared.read_text()) == original

    restored = link.restore()
    assert behavior(fake) == original  # exactly as GET returned it: STATIC's commands, NONE, the fallback
    assert fake.service_patches[-1] == {"service_id": SERVICE, "callBehavior": original}
    assert any("call behaviour restored to" in m for m in restored), restored
    assert not shared.exists() and "voice_service" not in link.pending()
    assert fake.refused == []


def test_a_killed_kernels_link_is_undone_by_the_next_start(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    fake, api = sinch
    fake.services[SERVICE]["callBehavior"] = copy.deepcopy(STATIC)
    linker(tmp_path, environ(api)).link(TUNNEL)  # then the kernel dies: nothing restored
    assert behavior(fake)["webhook"]["url"] == f"{TUNNEL}/"
    messages = linker(tmp_path, environ(api)).link("http://127.0.0.1:9/next-tunnel")  # the next start
    assert any("restored to a STATIC call flow (3 commands)" in m for m in messages), messages
    assert fake.service_patches[1] == {"service_id": SERVICE, "callBehavior": STATIC}  # before linking anew
    assert behavior(fake)["webhook"]["url"] == "http://127.0.0.1:9/next-tunnel/"


def test_what_to_restore_is_written_before_the_service_changes(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    fake, api = sinch
    fake.lose_next_patch_answer = True  # the PATCH lands, then the notebook hears nothing (or dies)
    with pytest.raises(PlatformError, match="HTTP 504"):
        linker(tmp_path, environ(api)).link(TUNNEL)
    assert behavior(fake)["webhook"]["url"] == f"{TUNNEL}/"
    assert linker(tmp_path, environ(api)).restore() == [
        f"Voice service {SERVICE} call behaviour restored to {PRODUCTION}"
    ]
    assert behavior(fake) == WEBHOOK


def test_a_service_someone_changed_since_is_left_alone_with_a_message(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    link = linker(tmp_path, environ(api))
    link.link(TUNNEL)
    changed = {"type": "WEBHOOK", "webhook": {"url": "http://127.0.0.1:9/set-in-the-dashboard"}}
    fake.services[SERVICE]["callBehavior"] = changed
    patches = len(fake.service_patches)
    messages = link.restore()
    assert messages == [
        f"Voice service {SERVICE} now points at http://127.0.0.1:9/set-in-the-dashboard, not here: left as it is"
    ]
    assert behavior(fake) == changed and len(fake.service_patches) == patches
    assert "voice_service" not in link.pending()  # nothing left to retry


def test_another_notebooks_service_is_taken_only_with_force_and_the_last_to_stop_restores_production(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    first_runtime = Session()
    first_runtime.configure(journal=tmp_path / "first.db", base_dir=tmp_path)
    first_url = first_runtime.start().url  # a live sinch_nb runtime: "another notebook's"
    first, second = linker(tmp_path / "first", environ(api)), linker(tmp_path / "second", environ(api))
    try:
        first.link(first_url)
        with pytest.raises(
            PlatformError, match=rf"already points at another notebook's runtime \({first_url}/\).*--force"
        ):
            second.link(TUNNEL)
        assert behavior(fake)["webhook"]["url"] == f"{first_url}/" and len(fake.service_patches) == 1

        messages = second.link(TUNNEL, force=True)
        assert behavior(fake) == {
            "type": "WEBHOOK",
            "webhook": {"url": f"{TUNNEL}/", "fallbackUrl": PRODUCTION_FALLBACK},
        }
        assert any(f"was {PRODUCTION})" in m for m in messages), messages  # production, read from the user's record
        assert second.pending()["voice_service"]["taken_from"] == f"{first_url}/"

        left = first.restore()
        assert left == [f"Voice service {SERVICE} now points at {TUNNEL}/, not here: left as it is"]
        assert behavior(fake)["webhook"]["url"] == f"{TUNNEL}/"
    finally:
        first_runtime.shutdown()
    restored = second.restore()  # the notebook it took over from has stopped: production comes back
    assert restored == [f"Voice service {SERVICE} call behaviour restored to {PRODUCTION}"]
    assert behavior(fake) == WEBHOOK


def test_force_while_the_other_notebook_still_runs_hands_the_service_back_to_it(
    tmp_path: Path, sinch: tuple[FakeSinch, str], session: Session
) -> None:
    fake, api = sinch
    other = session.start().url
    fake.services[SERVICE]["callBehavior"] = {"type": "WEBHOOK", "webhook": {"url": f"{other}/"}}
    link = linker(tmp_path, environ(api))
    link.link(TUNNEL, force=True)
    assert behavior(fake)["webhook"]["url"] == f"{TUNNEL}/"
    assert link.restore() == [f"Voice service {SERVICE} handed back to the notebook that held it ({other}/)"]
    assert behavior(fake) == {"type": "WEBHOOK", "webhook": {"url": f"{other}/"}}


def test_without_voice_service_id_v2_linking_is_skipped_with_a_message_and_v1_is_unaffected(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    link = linker(tmp_path, environ(api, v1=True, service=False))
    messages = link.link(TUNNEL)
    assert "Voice API v2: no Voice service linked (VOICE_SERVICE_ID is not set)" in " ".join(messages)
    assert f"Voice App {KEY} callback now points here (was {V1_ORIGINAL})" in messages
    assert fake.callbacks["primary"] == TUNNEL and fake.service_patches == [] and behavior(fake) == WEBHOOK
    assert "voice_service" not in link.pending()
    assert link.restore() == [f"Voice App {KEY} callback restored to {V1_ORIGINAL}"]
    assert fake.callbacks["primary"] == V1_ORIGINAL


def test_voice_service_id_without_project_credentials_names_them(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    fake, api = sinch
    messages = linker(tmp_path, environ(api, v1=True, project=False)).link(TUNNEL)
    assert (
        f"Voice API v2: Voice service {SERVICE} not linked: it needs PROJECT_ID, PROJECT_ID_API_KEY and "
        "PROJECT_ID_API_SECRET"
    ) in messages
    assert fake.service_patches == [] and fake.callbacks["primary"] == TUNNEL


def test_refused_before_anything_changes_when_the_service_is_held(
    tmp_path: Path, sinch: tuple[FakeSinch, str], session: Session
) -> None:
    fake, api = sinch
    other = session.start().url
    fake.services[SERVICE]["callBehavior"] = {"type": "WEBHOOK", "webhook": {"url": f"{other}/"}}
    link = linker(tmp_path, environ(api, v1=True))
    with pytest.raises(PlatformError, match="Voice service"):
        link.link(TUNNEL)
    assert fake.callbacks["primary"] == V1_ORIGINAL  # the Voice App was not touched either
    assert link.pending() == {}


def test_start_with_a_tunnel_links_both_apis_and_stop_restores_them_in_a_kernel(
    tmp_path: Path, home: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    fake.services[SERVICE]["callBehavior"] = copy.deepcopy(STATIC)
    env = {
        "HOME": str(home),
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "NGROK_AUTHTOKEN": "test-token",
        **environ(api, v1=True),
    }
    kernel = Kernel(tmp_path, env=env)
    try:
        kernel.run("%load_ext sinch_nb\nimport sinch_nb as sn")
        started = kernel.run("%sinch start --tunnel ngrok")
        assert started.error is None, started.stderr
        url = started.stdout.split("Public URL ", 1)[1].split()[0]
        assert fake.callbacks["primary"] == url
        assert behavior(fake) == {"type": "WEBHOOK", "webhook": {"url": f"{url}/"}}, started.stdout
        assert f"Voice service {SERVICE} (API v2) webhook now points here (was a STATIC call flow (3 commands))" in (
            started.stdout
        )
        assert httpx.get(f"{url}/health").headers["x-sinch-nb-runtime"] == "1"  # the tunnel reaches the runtime
        stopped = kernel.run("%sinch stop")
        assert f"Voice service {SERVICE} call behaviour restored to a STATIC call flow (3 commands)" in stopped.stdout
        assert behavior(fake) == STATIC and fake.callbacks["primary"] == V1_ORIGINAL
        assert "key-secret" not in started.text + stopped.text
    finally:
        kernel.shutdown()


# Outbound calls ----------------------------------------------------------------------


class Builder:
    """What the v2 command builder will be to ``call``: anything whose ``build()`` gives ``{"commands": [...]}``."""

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(FLOW)


@pytest.mark.parametrize("flow", [FLOW, FLOW["commands"], Builder()], ids=["commands-dict", "command-list", "builder"])
def test_call_posts_one_dial_with_the_flow_on_answer_and_the_projects_bearer(
    tmp_path: Path, sinch: tuple[FakeSinch, str], flow: Any
) -> None:
    fake, api = sinch
    store = CredentialStore(tmp_path, environ=environ(api))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None
    answer = voice.call("+15551234567", from_="+15550000000", on_answer=flow, call_name="customer", dial_timeout=30)
    (sent,) = fake.v2_calls
    assert sent["body"] == {
        "commands": [
            {
                "command": "dial",
                "to": {"type": "PHONE", "phone": {"number": "+15551234567"}},
                "from": {"type": "PHONE", "phone": {"number": "+15550000000"}},
                "callName": "customer",
                "dialTimeoutDurationSeconds": 30,
                "events": {"onAnswer": FLOW["commands"]},  # `webhook` as the wire names it, not the SDK's customEvent
            }
        ]
    }
    assert sent["query"] == {"serviceId": SERVICE}  # the linked service gets the call's events
    scheme, token = sent["authorization"].split(" ", 1)
    assert scheme == "Bearer" and token in fake.tokens
    assert 16 <= len(sent["idempotency_key"]) <= 128
    assert answer == {"projectId": "project-1", "serviceId": SERVICE, "sessionId": sent["session_id"]}
    assert fake.refused == []


def test_call_without_flows_leaves_the_events_to_the_webhook_and_takes_sip_and_raw_destinations(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    store = CredentialStore(tmp_path, environ=environ(api, service=False))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None
    voice.call("sip:alice@sip.example.com")
    stream = {"type": "STREAM", "stream": {"endpoint": "wss://media.example/ws"}}
    voice.call(stream, on_hangup=[{"command": "hangup"}], max_duration=600)
    first, second = (sent["body"]["commands"][0] for sent in fake.v2_calls)
    assert first == {"command": "dial", "to": {"type": "SIP", "sip": {"endpoint": "sip:alice@sip.example.com"}}}
    assert "events" not in first  # no `events` key: call.answered, call.hangup … go to the service webhook
    assert second == {
        "command": "dial",
        "to": stream,
        "maxCallDurationSeconds": 600,
        "events": {"onHangup": [{"command": "hangup"}]},
    }
    assert [sent["query"] for sent in fake.v2_calls] == [{}, {}]  # no VOICE_SERVICE_ID: the default service


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"to": "555-1234"}, r"^to: a phone number in E\.164"),
        ({"to": "+15551234567", "on_answer": "say hi"}, r"^on_answer: a Voice API v2 flow is"),
        ({"to": "+15551234567", "on_answer": svaml.ice().hangup()}, r"Voice API v1 SVAML.*custom_callout"),
        ({"to": "+15551234567", "on_busy": [{"text": "hi"}]}, r"^on_busy\[0\]: a Voice API v2 command is a dict"),
        ({"to": "+15551234567", "dial_timeout": 61}, r"dialTimeoutDurationSeconds \(dial_timeout\).* 1 to 60"),
        ({"to": "+15551234567", "call_name": "two words"}, r"callName \(call_name\): 1 to 32 characters"),
    ],
)
def test_a_call_sinch_would_refuse_is_an_svaml_error_before_anything_is_sent(
    tmp_path: Path, sinch: tuple[FakeSinch, str], arguments: dict[str, Any], message: str
) -> None:
    fake, api = sinch
    store = CredentialStore(tmp_path, environ=environ(api))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None
    to = arguments.pop("to")
    with pytest.raises(SvamlError, match=message):
        voice.call(to, **arguments)
    assert fake.v2_calls == []


def test_refused_project_credentials_are_a_platform_error_without_the_secret(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    _, api = sinch
    store = CredentialStore(tmp_path, environ=environ(api, PROJECT_ID_API_SECRET="wrong-secret"))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None
    with pytest.raises(PlatformError, match=r"getting an OAuth token failed: HTTP 401") as error:
        voice.call("+15551234567", on_answer=FLOW)
    assert "wrong-secret" not in str(error.value)


def test_missing_credentials_name_the_variables_each_half_needs(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    _, api = sinch
    only_v1 = CredentialStore(tmp_path, environ=environ(api, v1=True, project=False))
    voice = build_clients(only_v1.credentials(), only_v1.lookup).voice
    assert voice is not None
    with pytest.raises(
        CredentialsError,
        match=r"context\.voice\.call: Voice API v2 calls have no credentials; "
        r"they need PROJECT_ID, PROJECT_ID_API_KEY, PROJECT_ID_API_SECRET\..*%sinch secrets add PROJECT_ID",
    ):
        voice.call("+15551234567", on_answer=FLOW)
    only_v2 = CredentialStore(tmp_path, environ=environ(api))
    voice = build_clients(only_v2.credentials(), only_v2.lookup).voice
    assert voice is not None and voice.v2 is not None
    with pytest.raises(
        CredentialsError, match=r"context\.voice\.tts_callout: .*VOICE_APPLICATION_KEY, VOICE_APPLICATION_SECRET"
    ):
        voice.tts_callout("+15551234567", "hi")
    assert "key-secret" not in repr(voice) and SECRET not in repr(voice)


def test_handlers_and_the_face_place_v2_calls_and_without_credentials_say_which(
    tmp_path: Path, sinch: tuple[FakeSinch, str], monkeypatch: pytest.MonkeyPatch, sn: Any
) -> None:
    fake, api = sinch
    for name in (
        "PROJECT_ID",
        "PROJECT_ID_API_KEY",
        "PROJECT_ID_API_SECRET",
        "VOICE_SERVICE_ID",
        "VOICE_APPLICATION_KEY",
        "VOICE_APPLICATION_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CredentialsError, match="Voice API v2 calls have no credentials; they need PROJECT_ID"):
        sn.voice.call("+15551234567", on_answer=FLOW)  # not configured: falsy, and says what to set
    assert not sn.voice

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        context.voice.call("+15551234567", on_answer=FLOW)
        return svaml.ice().say("Calling you back").hangup()

    server = sn.start(insecure=True)
    httpx.post(f"{server.url}/ice", json=payload("voice-ice"))
    assert "PROJECT_ID, PROJECT_ID_API_KEY, PROJECT_ID_API_SECRET" in sn.last_error().error  # real traffic, no key
    sn.stop()

    for name, value in environ(api).items():
        monkeypatch.setenv(name, value)
    server = sn.start(insecure=True)
    answer = httpx.post(f"{server.url}/ice", json=payload("voice-ice"))
    assert answer.json()["instructions"][0]["text"] == "Calling you back"
    sn.voice.call("+15559876543", on_answer=FLOW["commands"])
    handler_call, face_call = fake.v2_calls
    assert handler_call["body"]["commands"][0]["events"] == {"onAnswer": FLOW["commands"]}
    assert face_call["body"]["commands"][0]["to"] == {"type": "PHONE", "phone": {"number": "+15559876543"}}


# Names and hosts ---------------------------------------------------------------------


def test_the_service_names_are_known_and_the_secret_is_a_secret(tmp_path: Path) -> None:
    assert {"VOICE_SERVICE_ID", "VOICE_SERVICE_SECRET"} <= set(KNOWN_NAMES)
    assert is_secret_name("VOICE_SERVICE_SECRET") and not is_secret_name("VOICE_SERVICE_ID")
    store = CredentialStore(tmp_path, environ={"VOICE_SERVICE_ID": SERVICE, "VOICE_SERVICE_SECRET": "c2VjcmV0"})
    found = store.credentials()
    assert found.voice_service_id == SERVICE and found.voice_service_secret is not None
    assert "c2VjcmV0" not in repr(found)
    assert store.sources() == {"VOICE_SERVICE_ID": "environment", "VOICE_SERVICE_SECRET": "environment"}


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "https://voice.api.sinch.com"),
        ({"VOICE_REGION": "eu1"}, "https://eu1.voice.api.sinch.com"),
        ({"VOICE_REGION": "euc1"}, "https://voice.api.sinch.com"),  # a v1 Calling API region: not a v2 host
        ({"SINCH_VOICE_V2_URL": "http://127.0.0.1:5/", "VOICE_REGION": "eu1"}, "http://127.0.0.1:5"),
    ],
)
def test_the_v2_host_by_region_or_override(tmp_path: Path, env: dict[str, str], url: str) -> None:
    assert hosts.voice_v2_url(CredentialStore(tmp_path, environ=env).lookup) == url
