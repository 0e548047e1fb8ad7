"""Pre-wired clients on the context: None until configured, then talking to (a fake of) Sinch's API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import payload
from fakes.sinch_api import FakeSinch

from sinch_nb import svaml
from sinch_nb.platform.clients import build_clients
from sinch_nb.platform.credentials import CredentialStore
from sinch_nb.platform.errors import PlatformError
from sinch_nb.runtime.server import Server

KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="


@pytest.fixture
def fake() -> Iterator[tuple[FakeSinch, str]]:
    sinch = FakeSinch(KEY, SECRET)
    server = Server(sinch.app())
    server.start()
    yield sinch, server.url
    server.stop()


def environ(api: str, **extra: str) -> dict[str, str]:
    return {
        "VOICE_APPLICATION_KEY": KEY,
        "VOICE_APPLICATION_SECRET": SECRET,
        "PROJECT_ID": "project-1",
        "PROJECT_ID_API_KEY": "key-id",
        "PROJECT_ID_API_SECRET": "key-secret",
        "CONVERSATION_APP_ID": "APP1",
        "SINCH_VOICE_URL": api,
        "SINCH_AUTH_URL": api,
        "SINCH_CONVERSATION_URL": api,
        **extra,
    }


def test_every_client_is_none_without_credentials(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path, environ={})
    clients = build_clients(store.credentials(), store.lookup)
    assert (clients.voice, clients.conversation, clients.sms, clients.numbers) == (None, None, None, None)


def test_voice_client_sends_signed_callouts_and_updates(tmp_path: Path, fake: tuple[FakeSinch, str]) -> None:
    sinch, api = fake
    store = CredentialStore(tmp_path, environ=environ(api))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None and SECRET not in repr(voice)
    call_id = voice.tts_callout("+15551234567", "Your code is 1234", cli="+15550000000", enable_dice=True)
    assert len(call_id) == 32
    voice.custom_callout("+15551234567", ice=svaml.ice().say("Hi").connect_pstn("+15550001111"))
    voice.conference_callout("+15551234567", "room-1", greeting="Welcome")
    voice.update_call(call_id, svaml.pie().say("Goodbye").hangup())
    tts, custom, conference = sinch.callouts
    assert tts == {
        "method": "ttsCallout",
        "ttsCallout": {
            "cli": "+15550000000",
            "destination": {"type": "number", "endpoint": "+15551234567"},
            "locale": "en-US",
            "text": "Your code is 1234",
            "enableDice": True,
        },
    }
    assert custom["customCallout"]["ice"] == (
        '{"instructions": [{"name": "say", "text": "Hi"}], "action": {"name": "connectPstn", "number": "+15550001111"}}'
    )
    assert conference["conferenceCallout"]["conferenceId"] == "room-1"
    assert sinch.call_updates[0]["action"] == {"name": "hangup"}
    assert sinch.refused == []


def test_a_wrong_secret_is_a_platform_error_naming_the_fix(tmp_path: Path, fake: tuple[FakeSinch, str]) -> None:
    _, api = fake
    store = CredentialStore(tmp_path, environ=environ(api, VOICE_APPLICATION_SECRET="AAAAAAAAAAAAAAAAAAAAAA=="))
    voice = build_clients(store.credentials(), store.lookup).voice
    assert voice is not None
    with pytest.raises(PlatformError, match=r"HTTP 401.*credentials were refused") as error:
        voice.tts_callout("+1555", "hi")
    assert "AAAAAAAAAAAAAAAAAAAAAA==" not in str(error.value)


def test_conversation_client_is_the_official_sdk(tmp_path: Path, fake: tuple[FakeSinch, str]) -> None:
    sinch, api = fake
    store = CredentialStore(tmp_path, environ=environ(api))
    conversation = build_clients(store.credentials(), store.lookup).conversation
    assert type(conversation).__module__.startswith("sinch.")
    sent = conversation.messages.send_text_message(
        app_id="APP1", text="Thanks!", recipient_identities=[{"channel": "SMS", "identity": "+15551234567"}]
    )
    assert sent.message_id
    (message,) = sinch.messages
    assert message["message"]["text_message"]["text"] == "Thanks!"


def test_handlers_get_the_clients_on_their_context(
    tmp_path: Path, fake: tuple[FakeSinch, str], monkeypatch: pytest.MonkeyPatch, sn: Any
) -> None:
    sinch, api = fake
    for name, value in environ(api).items():
        monkeypatch.setenv(name, value)

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        context.voice.tts_callout("+15550009999", f"{event.cli} is calling")
        return svaml.ice().say("One moment").hangup()

    server = sn.start(insecure=True)
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "One moment"
    assert sinch.callouts[0]["ttsCallout"]["text"] == "cli number is calling"
    assert sn.voice and sn.clients().conversation is not None and sn.clients().sms is None
    assert not sn.sms and "SMS_SERVICE_PLAN_ID" in repr(sn.sms)  # not configured: a falsy stand-in naming the fix
