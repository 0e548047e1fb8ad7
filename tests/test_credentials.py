"""Credentials from the environment, .env and the keychain; %sinch secrets; secrets never shown."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from conftest import payload
from kernel import Kernel

from sinch_nb import svaml
from sinch_nb.functions.secret import Secret
from sinch_nb.platform.credentials import CredentialStore, NoKeychainError, is_secret_name

TESTS = Path(__file__).resolve().parent
VOICE_SECRET = "BeIukql3pTKJ8RGL5zo0DA=="


@pytest.fixture
def keychain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The file-backed test keychain, selected for this process as keyring selects any backend."""
    from fakes.file_keyring import FileKeyring

    previous = keyring.get_keyring()  # chosen before the fake is viable, so it cannot be picked
    path = tmp_path / "keychain.json"
    monkeypatch.setenv("SINCH_NB_TEST_KEYRING", str(path))
    keyring.set_keyring(FileKeyring())
    yield path
    keyring.set_keyring(previous)


def test_lookup_order_is_environment_then_dotenv_then_keychain(tmp_path: Path, keychain: Path) -> None:
    store = CredentialStore(tmp_path, environ={"PROJECT_ID": "from-env"})
    (tmp_path / ".env").write_text("PROJECT_ID=from-dotenv\nVOICE_APPLICATION_KEY=app-key\nEMPTY=\n")
    store.add("VOICE_APPLICATION_SECRET", VOICE_SECRET)
    store.add("PROJECT_ID", "from-keychain")
    assert store.lookup("PROJECT_ID") == ("from-env", "environment")
    assert store.lookup("VOICE_APPLICATION_KEY") == ("app-key", ".env")
    assert store.lookup("VOICE_APPLICATION_SECRET") == (VOICE_SECRET, "keychain")
    assert store.lookup("EMPTY") == (None, None)
    credentials = store.credentials()
    assert credentials.application_secret == Secret(VOICE_SECRET)
    assert VOICE_SECRET not in repr(credentials)
    assert store.sources()["VOICE_APPLICATION_SECRET"] == "keychain"
    assert store.stored() == ["PROJECT_ID", "VOICE_APPLICATION_SECRET"]
    assert store.delete("PROJECT_ID") and not store.delete("PROJECT_ID")
    assert store.stored() == ["VOICE_APPLICATION_SECRET"]


def test_without_a_keychain_add_names_the_alternatives(tmp_path: Path) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = CredentialStore(tmp_path, environ={})
        assert store.keychain()[0] is False
        with pytest.raises(NoKeychainError, match=r"environment variable or in .*\.env"):
            store.add("VOICE_APPLICATION_SECRET", VOICE_SECRET)
        assert store.lookup("VOICE_APPLICATION_SECRET") == (None, None)
    finally:
        keyring.set_keyring(previous)


def test_secret_names_follow_the_cli_rule() -> None:
    assert is_secret_name("VOICE_APPLICATION_SECRET") and is_secret_name("NGROK_AUTHTOKEN")
    assert is_secret_name("OPENAI_API_KEY") and is_secret_name("SMTP_PASS")
    assert not is_secret_name("PROJECT_ID_API_KEY") and not is_secret_name("VOICE_APPLICATION_KEY")
    assert not is_secret_name("MAX_TOKENS") and not is_secret_name("PUBLIC_KEY") and not is_secret_name("TOKEN_URL")


def test_secret_values_never_show() -> None:
    secret = Secret(VOICE_SECRET)
    assert VOICE_SECRET not in repr(secret) + str(secret) + f"{secret}" + repr([secret])
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_secrets_magic_in_a_kernel_prompts_and_never_echoes(tmp_path: Path) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": "fakes.file_keyring.FileKeyring",
        "SINCH_NB_TEST_KEYRING": str(tmp_path / "keychain.json"),
        "PYTHONPATH": str(TESTS),
        "VOICE_APPLICATION_KEY": "669E367E-6BBA-48AB-AF15-266871C28135",
    }
    kernel = Kernel(tmp_path, env=env)
    try:
        kernel.run("%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml")
        added = kernel.run("%sinch secrets add VOICE_APPLICATION_SECRET", answers=[VOICE_SECRET])
        assert kernel.prompts == ["VOICE_APPLICATION_SECRET: "]
        assert "stored in the keychain" in added.stdout
        listed = kernel.run("%sinch secrets list").stdout
        assert "VOICE_APPLICATION_SECRET" in listed and "keychain" in listed
        kernel.run("%%sinch ice\nreturn svaml.ice().hangup()")
        started = kernel.run("%sinch start")
        assert "Signature checks: on" in started.stdout
        url = started.stdout.split("runtime at ")[1].split()[0]
        import httpx

        unsigned = httpx.post(f"{url}/ice", json=payload("voice-ice"))
        assert unsigned.status_code == 401
        dialled = kernel.run('print(sn.dial("+1555", "+1666")["action"].tolist())')
        assert "disconnect" in dialled.stdout  # the simulated caller signs with the same secret
        shown = kernel.run("sn.status()\nprint(sn.configure())").text
        every_output = added.text + listed + started.text + dialled.text + shown
        assert VOICE_SECRET not in every_output
        assert VOICE_SECRET not in (tmp_path / ".sinch_nb" / "journal.db").read_bytes().decode("latin-1")
        deleted = kernel.run("%sinch secrets delete VOICE_APPLICATION_SECRET")
        assert "deleted" in deleted.stdout
        assert "VOICE_APPLICATION_SECRET" not in json.loads((tmp_path / "keychain.json").read_text())
    finally:
        kernel.shutdown()


def test_no_secret_in_the_repr_of_anything_a_handler_or_cell_reaches(sn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "VOICE_APPLICATION_SECRET": VOICE_SECRET,
        "PROJECT_ID_API_SECRET": "key-secret",
        "CONVERSATION_WEBHOOK_SECRET": "foo_secret1234",
        "NGROK_AUTHTOKEN": "test-token",
    }
    plain = {"VOICE_APPLICATION_KEY": "app-key", "PROJECT_ID": "project-1", "PROJECT_ID_API_KEY": "key-id"}
    for name, value in {**secrets, **plain, "CONVERSATION_APP_ID": "app-1"}.items():
        monkeypatch.setenv(name, value)
    reached: dict[str, Any] = {}

    def handler(context: Any, event: Any) -> Any:
        reached["context"] = context
        context.log.info("%r | %s | %r | %r | %r", context, context.env, context.config, context.voice, event)
        return svaml.ice().hangup()

    sn.ice(handler)
    server = sn.start(insecure=True)
    assert httpx.post(f"{server.url}/ice", json=payload("voice-ice")).status_code == 200
    session = sn.get_session()
    context = reached["context"]
    assert context.env["VOICE_APPLICATION_SECRET"] == VOICE_SECRET  # a handler still reads it
    shown = [context, context.env, context.config, session, session.settings, session.app, server]
    shown += [sn.clients(), sn.clients().voice, sn.clients().conversation, sn.status(), sn.handlers()]
    texts = [repr(item) for item in shown] + [str(item) for item in shown]
    texts += [json.dumps(row, default=str) for row in sn.get_session().journal.rows()]
    assert "VOICE_APPLICATION_SECRET" in " ".join(texts)  # the names show, the values do not
    for text in texts:
        for name, value in secrets.items():
            assert value not in text, f"{name}'s value in {text[:200]}"
