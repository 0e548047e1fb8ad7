"""The deployed Function's clients (``functions/sinch_api.py``) against the simulated platform, over urllib on loopback.

The Function sends through Node's ``fetch``; here a stdlib urllib transport stands in for it (urllib is
not in Pyodide, so it stays in the tests). Every request is checked where it lands: the simulated
platform's callouts and v2 calls, and the journal rows it writes for Conversation and SMS requests,
compared with what the notebook's clients (the ``sinch`` SDK, sinch_nb's ``VoiceClient``) send.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sinch_nb.functions.clients import MissingClient, UnavailableClient
from sinch_nb.functions.errors import CredentialsError, PlatformError
from sinch_nb.functions.messaging_api import BatchResponse, ConversationClient, SendMessageResponse, SmsClient
from sinch_nb.functions.secret import Secret
from sinch_nb.functions.signing import verify_voice_callback
from sinch_nb.functions.sinch_api import build_function_clients
from sinch_nb.functions.voice_api import VoiceClient
from sinch_nb.platform import voice_calls
from sinch_nb.platform.clients import simulated_clients
from sinch_nb.simulate.local_platform import PREFIX, VOICE_KEY

CALLEE = "+15557654321"
CONTACT = [{"channel": "SMS", "identity": "+15551234567"}]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only: never a proxy


def urllib_transport(
    method: str, url: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, dict[str, str], bytes]:
    """A ``Transport`` over urllib: what Node's ``fetch`` is to the deployed Function."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # a 4xx/5xx is an answer: the clients judge it
        with error:
            return error.code, dict(error.headers), error.read()


class Recorder:
    """A transport that answers from a script and keeps each request: for what the loopback platform does not serve."""

    def __init__(self, answer: Callable[[str, str], tuple[int, bytes]]) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        self.sent.append((method, url, headers, body))
        status, content = self.answer(method, url)
        return status, {"content-type": "application/json"}, content


@pytest.fixture
def simulated(sn: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The runtime's simulated platform, and a Function environment whose every host and credential is its own."""
    server = sn.start()
    platform = sn.get_session().app.platform
    base = server.url + PREFIX
    env = {
        "PROJECT_ID": "sinch-nb-simulator",
        "PROJECT_ID_API_KEY": platform.key_id,
        "PROJECT_ID_API_SECRET": platform.key_secret,
        "VOICE_APPLICATION_KEY": VOICE_KEY,
        "VOICE_APPLICATION_SECRET": platform.voice_secret,
        "CONVERSATION_APP_ID": "sim-app",
        "SMS_SERVICE_PLAN_ID": "sim-plan",
        **{f"SINCH_{api}_URL": base for api in ("VOICE", "VOICE_V2", "AUTH", "CONVERSATION", "SMS")},
    }
    yield platform, env
    platform.wait_quiet(10)


def outbound(sn: Any) -> list[tuple[str, Any]]:
    """The Conversation and SMS requests the simulated platform journaled: (path, body as JSON), oldest first."""
    journal = sn.get_session().journal
    journal.flush()
    rows = journal.rows("WHERE kind = 'outbound'")
    return [(row["path"], json.loads(row["request_body"])) for row in rows]


def notebook_sdk(platform: Any, env: dict[str, str]) -> Any:
    """The notebook's clients on simulated traffic (the ``sinch`` SDK), against the same platform."""
    return simulated_clients(env["SINCH_AUTH_URL"], platform.key_id, platform.key_secret, platform.voice_secret)


# Voice ---------------------------------------------------------------------------------------------


def test_a_tts_callout_is_signed_taken_and_the_same_request_as_the_notebooks(
    simulated: tuple[Any, dict[str, str]],
) -> None:
    platform, env = simulated
    voice = build_function_clients(env, urllib_transport).voice
    assert isinstance(voice, VoiceClient) and voice
    call_id = voice.tts_callout(CALLEE, "Your code is 1234", cli="+15550000000", enable_dice=True)
    assert len(call_id) == 32 and platform.callouts[-1].call_id == call_id
    assert platform.callouts[-1].request == {
        "method": "ttsCallout",
        "ttsCallout": {
            "cli": "+15550000000",
            "destination": {"type": "number", "endpoint": CALLEE},
            "locale": "en-US",
            "text": "Your code is 1234",
            "enableDice": True,
        },
    }
    notebook = notebook_sdk(platform, env).voice
    notebook.tts_callout(CALLEE, "Your code is 1234", cli="+15550000000", enable_dice=True)
    assert platform.callouts[-1].request == platform.callouts[-2].request
    assert type(notebook).__mro__[1] is VoiceClient  # the notebook's is the same class, over httpx


def test_a_v2_call_reaches_the_platform_with_a_token_and_its_flow_runs(simulated: tuple[Any, dict[str, str]]) -> None:
    platform, env = simulated
    voice = build_function_clients({**env, "VOICE_SERVICE_ID": "svc-1"}, urllib_transport).voice
    answer = voice.call("+15557770000", on_answer=lambda b: b.say("This is your reminder").hangup())
    assert answer["projectId"] == "sinch-nb-simulator" and answer["serviceId"] == "svc-1"
    assert len(answer["sessionId"]) == 26
    assert platform.wait_quiet(10)
    said = [(step.party, step.action, step.text) for step in platform.calls_v2[-1].steps]
    assert ("callee", "answer", "+15557770000: answered") in said
    assert ("app", "say", "This is your reminder") in said


def test_voice_signs_every_v1_request_and_sends_no_body_without_one() -> None:
    secret = "BeIukql3pTKJ8RGL5zo0DA=="
    answers = {"GET": (200, b'{"callId": "c1", "status": "ONGOING"}'), "PATCH": (200, b""), "DELETE": (204, b"")}
    transport = Recorder(lambda method, url: answers[method])
    env = {"VOICE_APPLICATION_KEY": VOICE_KEY, "VOICE_APPLICATION_SECRET": secret, "VOICE_REGION": "euc1"}
    voice = build_function_clients(env, transport).voice
    assert voice.get_call("c1") == {"callId": "c1", "status": "ONGOING"}
    voice.update_call("c1", {"instructions": [], "action": {"name": "hangup"}})
    voice.kick_all("room-1")
    voice.manage_participant("room-1", "c1", "mute")
    urls = [(method, url) for method, url, _, _ in transport.sent]
    assert urls == [
        ("GET", "https://calling-euc1.api.sinch.com/calling/v1/calls/id/c1"),
        ("PATCH", "https://calling-euc1.api.sinch.com/calling/v1/calls/id/c1"),
        ("DELETE", "https://calling-euc1.api.sinch.com/calling/v1/conferences/id/room-1"),
        ("PATCH", "https://calling-euc1.api.sinch.com/calling/v1/conferences/id/room-1/c1"),
    ]
    for method, url, headers, body in transport.sent:
        path = url.removeprefix("https://calling-euc1.api.sinch.com")
        assert verify_voice_callback(method, path, headers, body or b"", VOICE_KEY, secret), (method, path)
    assert [body is None for _, _, _, body in transport.sent] == [True, False, True, False]  # fetch: no body on GET


# Conversation and SMS ------------------------------------------------------------------------------


def test_a_conversation_text_message_is_sent_as_the_sdk_sends_it_and_read_back(
    sn: Any, simulated: tuple[Any, dict[str, str]]
) -> None:
    platform, env = simulated
    conversation = build_function_clients(env, urllib_transport).conversation
    assert isinstance(conversation, ConversationClient)
    sent = conversation.messages.send_text_message(app_id="sim-app", text="Thanks!", recipient_identities=CONTACT)
    assert isinstance(sent, SendMessageResponse) and len(sent.message_id) == 26
    assert isinstance(sent.accepted_time, datetime) and sent.accepted_time.tzinfo is not None
    sdk = notebook_sdk(platform, env).conversation
    expected = sdk.messages.send_text_message(app_id="sim-app", text="Thanks!", recipient_identities=CONTACT)
    assert sent.message_id != expected.message_id
    options = {"ttl": 30, "correlation_id": "order-7", "message_metadata": "m", "channel_priority_order": ["SMS"]}
    choice = {
        "text_message": {"text": "Pick"},
        "choices": [{"text_message": {"text": "Pizza"}, "postback_data": "pizza"}],
    }
    conversation.messages.send(app_id="sim-app", message={"choice_message": choice}, recipient_identities=CONTACT)
    sdk.messages.send(app_id="sim-app", message={"choice_message": choice}, recipient_identities=CONTACT)
    conversation.messages.send_text_message("sim-app", "Later", recipient_identities=CONTACT, **options)
    sdk.messages.send_text_message("sim-app", "Later", recipient_identities=CONTACT, **options)
    platform.wait_quiet(10)
    rows = outbound(sn)
    assert len(rows) == 6
    path = f"{PREFIX}/v1/projects/sinch-nb-simulator/messages:send"
    assert {row_path for row_path, _ in rows} == {path}
    ours, theirs = [body for _, body in rows[::2]], [body for _, body in rows[1::2]]
    assert ours == theirs  # the Function's requests are the SDK's, field for field
    assert ours[0] == {
        "app_id": "sim-app",
        "recipient": {"identified_by": {"channel_identities": CONTACT}},
        "message": {"text_message": {"text": "Thanks!"}},
    }
    assert ours[2]["ttl"] == "30s" and ours[2]["correlation_id"] == "order-7"


def test_an_sms_batch_is_sent_as_the_sdk_sends_it_and_read_back(sn: Any, simulated: tuple[Any, dict[str, str]]) -> None:
    platform, env = simulated
    sms = build_function_clients(env, urllib_transport).sms
    assert isinstance(sms, SmsClient)
    batch = sms.batches.send_sms(to=["+15551234567"], from_="+15550000000", body="Your link")
    assert isinstance(batch, BatchResponse) and len(batch.id) == 26
    assert (batch.to, batch.from_, batch.body, batch.type, batch.canceled) == (
        ["+15551234567"],
        "+15550000000",
        "Your link",
        "mt_text",
        False,
    )
    assert isinstance(batch.created_at, datetime)
    sdk = notebook_sdk(platform, env).sms
    sdk.batches.send_sms(to=["+15551234567"], from_="+15550000000", body="Your link")
    sms.batches.send(to=["+15551234567"], body="No sender", client_reference="r-1")  # as test_debugging's handler
    sdk.batches.send(to=["+15551234567"], body="No sender", client_reference="r-1")
    rows = outbound(sn)
    assert [path for path, _ in rows] == [f"{PREFIX}/xms/v1/sinch-nb-simulator/batches"] * 4
    assert (
        rows[0][1]
        == rows[1][1]
        == {"to": ["+15551234567"], "from": "+15550000000", "body": "Your link", "type": "mt_text"}
    )
    assert rows[2][1] == rows[3][1]


def test_sms_fields_and_batches_by_id_go_where_the_sdk_sends_them() -> None:
    batch = {"id": "B1", "to": ["+1555"], "canceled": True, "callback_url": "https://cb"}
    batch["send_at"] = "2025-01-02T03:04:05.1234567Z"  # as Sinch writes it: seven digits

    def answer(method: str, url: str) -> tuple[int, bytes]:
        if url.endswith("/oauth2/token"):
            return 200, b'{"access_token": "t", "expires_in": 3599}'
        return (201 if method == "POST" else 200), json.dumps(batch).encode()

    transport = Recorder(answer)
    env = {"PROJECT_ID": "p 1", "PROJECT_ID_API_KEY": "k-sms-fields", "PROJECT_ID_API_SECRET": "key-secret"}
    sms = build_function_clients({**env, "SMS_SERVICE_PLAN_ID": "x", "SMS_REGION": "eu"}, transport).sms
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    sent = sms.batches.send_sms(["+1555"], "+1666", "hi", send_at=when, event_destination_target="https://cb")
    got, cancelled = sms.batches.get("B1"), sms.batches.cancel("B1")
    assert sent.event_destination_target == "https://cb" and cancelled.canceled is True and got.id == "B1"
    assert sent.send_at == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    token, post, get, delete = transport.sent
    assert token[:2] == ("POST", "https://auth.sinch.com/oauth2/token") and token[3] == b"grant_type=client_credentials"
    assert post[:2] == ("POST", "https://zt.eu.sms.api.sinch.com/xms/v1/p%201/batches")
    assert json.loads(post[3]) == {
        "to": ["+1555"],
        "from": "+1666",
        "body": "hi",
        "send_at": "2025-01-02T03:04:05Z",
        "callback_url": "https://cb",
        "type": "mt_text",
    }
    assert get[:2] == ("GET", "https://zt.eu.sms.api.sinch.com/xms/v1/p%201/batches/B1") and get[3] is None
    assert delete[0] == "DELETE" and {post[2]["Authorization"], delete[2]["Authorization"]} == {"Bearer t"}  # one token
    with pytest.raises(ValueError, match=r"to \(a list of numbers.*\) and body are required"):
        sms.batches.send(to=["+1555"])
    assert len(transport.sent) == 4


def test_one_oauth_token_serves_every_request_of_the_instance_until_it_nearly_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bridge builds the clients per request over that request's transport; the token outlives them."""
    from types import SimpleNamespace

    from sinch_nb.functions import rest, sinch_api

    monkeypatch.setattr(sinch_api, "TOKENS", {})
    clock = [1000.0]
    monkeypatch.setattr(rest, "time", SimpleNamespace(monotonic=lambda: clock[0]))  # rest's clock only

    issued: list[str] = []

    def answer(method: str, url: str) -> tuple[int, bytes]:
        if url.endswith("/oauth2/token"):
            issued.append(f"t{len(issued)}")
            return 200, json.dumps({"access_token": issued[-1], "expires_in": 3599}).encode()
        return 201, b'{"projectId": "p1", "serviceId": "s", "sessionId": "S"}'

    def one_request(env: dict[str, str]) -> list[str]:
        """A request's clients, built over its own transport, place a call: what that transport sent."""
        transport = Recorder(answer)
        build_function_clients(env, transport).voice.call(CALLEE)
        return [f"{url.rsplit('/', 1)[-1]} {headers.get('Authorization', '')}" for _, url, headers, _ in transport.sent]

    env = {"PROJECT_ID": "p1", "PROJECT_ID_API_KEY": "k-cache", "PROJECT_ID_API_SECRET": "key-secret"}
    assert one_request(env) == ["token ", "calls Bearer t0"]
    assert one_request(env) == ["calls Bearer t0"]  # the first request's token
    clock[0] += 3599 - 59  # within a minute of expiry: a new one
    assert one_request(env) == ["token ", "calls Bearer t1"]
    assert one_request({**env, "PROJECT_ID_API_KEY": "k-other"}) == ["token ", "calls Bearer t2"]  # its own


# Missing credentials and refusals -----------------------------------------------------------------


def test_without_credentials_every_client_is_a_missing_client_naming_its_variables() -> None:
    transport = Recorder(lambda method, url: (500, b""))
    clients = build_function_clients({"PROJECT_ID": "", "ENABLE_NUMBERS_API": "true"}, transport)
    assert all(isinstance(client, MissingClient) and not client for client in clients)
    with pytest.raises(
        CredentialsError, match=r"context\.voice\.tts_callout: .*VOICE_APPLICATION_KEY, VOICE_APPLICATION_SECRET"
    ):
        clients.voice.tts_callout(CALLEE, "hi")
    with pytest.raises(
        CredentialsError, match=r"context\.conversation\.messages: .*PROJECT_ID_API_SECRET, CONVERSATION_APP_ID"
    ):
        clients.conversation.messages.send_text_message(app_id="a", text="hi", recipient_identities=CONTACT)
    with pytest.raises(CredentialsError, match=r"context\.sms\.batches: .*SMS_SERVICE_PLAN_ID"):
        clients.sms.batches.send_sms(to=[CALLEE], from_="+1555", body="hi")
    project = {"PROJECT_ID": "p1", "PROJECT_ID_API_KEY": "k", "PROJECT_ID_API_SECRET": "key-secret"}
    only_v2 = build_function_clients(project, transport)
    assert isinstance(only_v2.voice, VoiceClient) and only_v2.voice.v2 is not None
    with pytest.raises(CredentialsError, match=r"context\.voice\.custom_callout: .*VOICE_APPLICATION_KEY"):
        only_v2.voice.custom_callout(CALLEE, ice="https://example.com/ice")
    assert isinstance(only_v2.conversation, MissingClient) and isinstance(only_v2.sms, MissingClient)
    only_v1 = build_function_clients(
        {"VOICE_APPLICATION_KEY": VOICE_KEY, "VOICE_APPLICATION_SECRET": "c2VjcmV0"}, transport
    )
    with pytest.raises(
        CredentialsError, match=r"context\.voice\.call: Voice API v2 calls have no credentials; they need PROJECT_ID"
    ):
        only_v1.voice.call(CALLEE, on_answer=[{"command": "hangup"}])
    numbers = build_function_clients({**project, "ENABLE_NUMBERS_API": "TRUE"}, transport).numbers
    assert isinstance(numbers, UnavailableClient) and not numbers
    with pytest.raises(
        PlatformError, match=r"context\.numbers\.available_numbers: the deployed Function has no Numbers"
    ):
        numbers.available_numbers.search_for_number(region_code="US")
    assert transport.sent == []  # nothing left for Sinch
    for client in (*only_v2, *only_v1):
        assert "key-secret" not in repr(client) and "c2VjcmV0" not in repr(client)


def test_a_refused_voice_request_is_the_notebooks_error_word_for_word(simulated: tuple[Any, dict[str, str]]) -> None:
    platform, env = simulated
    wrong = "AAAAAAAAAAAAAAAAAAAAAA=="
    function_voice = build_function_clients({**env, "VOICE_APPLICATION_SECRET": wrong}, urllib_transport).voice
    notebook_voice = voice_calls.VoiceClient(env["SINCH_VOICE_URL"], VOICE_KEY, Secret(wrong))
    errors = []
    for voice in (function_voice, notebook_voice):
        with pytest.raises(
            PlatformError, match=r"^POST /calling/v1/callouts failed: HTTP 401 .*credentials were refused"
        ) as error:
            voice.tts_callout(CALLEE, "hi")
        errors.append(str(error.value))
    assert errors[0] == errors[1] and wrong not in errors[0]
    assert list(platform.callouts) == []


def test_refused_project_credentials_and_a_refused_message_name_the_call_and_the_status(
    simulated: tuple[Any, dict[str, str]],
) -> None:
    _, env = simulated
    refused = build_function_clients({**env, "PROJECT_ID_API_SECRET": "wrong-secret"}, urllib_transport)
    with pytest.raises(
        PlatformError, match=r"^getting an OAuth token failed: HTTP 401 .*credentials were refused"
    ) as error:
        refused.voice.call(CALLEE, on_answer=[{"command": "hangup"}])
    assert "wrong-secret" not in str(error.value)
    with pytest.raises(PlatformError, match=r"^getting an OAuth token failed: HTTP 401"):
        refused.sms.batches.send(to=[CALLEE], body="hi")
    conversation = build_function_clients(env, urllib_transport).conversation
    fax = [{"channel": "FAX", "identity": CALLEE}]
    with pytest.raises(
        PlatformError,
        match=r"^sending a Conversation message \(POST /v1/projects/\{projectId\}/messages:send\) failed: "
        r"HTTP 400 .*channel FAX is not simulated",
    ):
        conversation.messages.send_text_message(app_id="sim-app", text="hi", recipient_identities=fax)
    with pytest.raises(ValueError, match="Must provide either 'contact_id' or 'recipient_identities'"):
        conversation.messages.send_text_message(app_id="sim-app", text="hi")


def test_the_notebook_and_the_function_send_sms_with_the_same_variables(
    sn: Any, simulated: tuple[Any, dict[str, str]], tmp_path: Any
) -> None:
    """``SMS_REGION`` / ``SINCH_SMS_URL`` give the notebook's SDK client its host too (without one it sent nothing)."""
    from sinch_nb.platform.clients import build_clients
    from sinch_nb.platform.credentials import CredentialStore

    _, env = simulated
    store = CredentialStore(tmp_path, environ=env)
    notebook = build_clients(store.credentials(), store.lookup).sms
    function = build_function_clients(env, urllib_transport).sms
    for sms in (notebook, function):
        assert sms.batches.send_sms(to=["+15551234567"], from_="+15550000000", body="Same").id
    (_, first), (_, second) = outbound(sn)
    assert first == second == {"to": ["+15551234567"], "from": "+15550000000", "body": "Same", "type": "mt_text"}


# In Pyodide, as shipped ----------------------------------------------------------------------------

#: Run in CPython and in Pyodide alike: every client over a scripted transport; what was sent, as JSON.
#: Its credentials are its own (it is written to a file; test_zz_no_secret_leaks scans files for the suite's).
PYODIDE_SCRIPT = r"""
import json, sys
sys.path.insert(0, "/home/pyodide")
from sinch_nb.functions.signing import verify_voice_callback
from sinch_nb.functions.sinch_api import build_function_clients

ANSWERS = {
    "/oauth2/token": (200, b'{"access_token": "t", "expires_in": 3599}'),
    "/calling/v1/callouts": (200, b'{"callId": "c1"}'),
    "/v2/projects/p1/calls?serviceId=svc": (201, b'{"projectId": "p1", "serviceId": "svc", "sessionId": "S1"}'),
    "/v1/projects/p1/messages:send": (200, b'{"message_id": "M1", "accepted_time": "2025-01-02T03:04:05.678Z"}'),
    "/xms/v1/p1/batches": (201, b'{"id": "B1", "to": ["+15551234567"], "type": "mt_text", "canceled": false}'),
}
sent = []

def transport(method, url, headers, body):
    sent.append((method, url, headers, body))
    path = url.split("example.test", 1)[1]
    status, answer = ANSWERS.get(path, (404, b'{"error": "no such thing"}'))
    return status, {"content-type": "application/json"}, answer

env = {
    "PROJECT_ID": "p1", "PROJECT_ID_API_KEY": "k", "PROJECT_ID_API_SECRET": "script-key", "VOICE_SERVICE_ID": "svc",
    "VOICE_APPLICATION_KEY": "app", "VOICE_APPLICATION_SECRET": "c2NyaXB0LXNlY3JldA==",
    "CONVERSATION_APP_ID": "a1", "SMS_SERVICE_PLAN_ID": "plan",
    **{f"SINCH_{api}_URL": "https://example.test" for api in ("VOICE", "VOICE_V2", "AUTH", "CONVERSATION", "SMS")},
}
voice, conversation, sms, numbers = build_function_clients(env, transport)
contact = [{"channel": "SMS", "identity": "+1555"}]
out = {
    "call_id": voice.tts_callout("+15557654321", "Your code is 1234", enable_ace=True),
    "session": voice.call("+15557654321", on_answer=[{"command": "hangup"}])["sessionId"],
    "message": conversation.messages.send_text_message("a1", "Hi", recipient_identities=contact).message_id,
    "accepted": conversation.messages.send("a1", {"text_message": {"text": "Yo"}}, "C1").accepted_time.isoformat(),
    "batch": sms.batches.send_sms(["+15551234567"], "+15550000000", "Bye").id,
    "numbers": bool(numbers),
}
try:
    voice.get_call("nope")
except Exception as error:
    out["error"] = [type(error).__name__, str(error)]
method, url, headers, body = sent[0]
out["signed"] = verify_voice_callback(method, "/calling/v1/callouts", headers, body, "app", "c2NyaXB0LXNlY3JldA==")
out["sent"] = [[m, u, json.loads(b) if b and b[:1] == b"{" else (b or b"").decode()] for m, u, _, b in sent]
print(json.dumps(out, sort_keys=True))
"""

NODE_RUNNER = r"""
const fs = require("fs");
const path = require("path");
const { loadPyodide } = require(path.join(process.argv[2], "pyodide"));
(async () => {
  const pyodide = await loadPyodide();
  const files = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  for (const [name, text] of Object.entries(files)) {
    pyodide.FS.mkdirTree("/home/pyodide/" + path.dirname(name));
    pyodide.FS.writeFile("/home/pyodide/" + name, text);
  }
  pyodide.setStdout({ batched: (line) => console.log(line) });
  pyodide.runPython(fs.readFileSync(process.argv[4], "utf8"));
})().catch((error) => { console.error(error); process.exit(1); });
"""


def test_the_shipped_clients_run_in_pyodide_as_in_cpython(pyodide: Any, tmp_path: Any) -> None:
    """The Function's package (as ``%sinch export`` ships it) builds the same requests under Pyodide: stdlib only."""
    import subprocess
    import sys

    from sinch_nb.deployment.export import _package_files

    files = _package_files()
    assert {"sinch_nb/functions/sinch_api.py", "sinch_nb/functions/voice_api.py"} <= set(files)
    (tmp_path / "files.json").write_text(json.dumps(files))
    (tmp_path / "script.py").write_text(PYODIDE_SCRIPT)
    (tmp_path / "run.cjs").write_text(NODE_RUNNER)
    for name, text in files.items():
        (tmp_path / "cpython" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cpython" / name).write_text(text)
    script = PYODIDE_SCRIPT.replace('"/home/pyodide"', repr(str(tmp_path / "cpython")))
    cpython = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert cpython.returncode == 0, cpython.stderr
    node = ["node", str(tmp_path / "run.cjs"), str(pyodide), str(tmp_path / "files.json"), str(tmp_path / "script.py")]
    ran = subprocess.run(node, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    in_pyodide, in_cpython = json.loads(ran.stdout.strip().splitlines()[-1]), json.loads(cpython.stdout)
    assert in_pyodide == in_cpython
    assert in_pyodide["signed"] is True and in_pyodide["numbers"] is False
    assert (in_pyodide["call_id"], in_pyodide["session"], in_pyodide["message"], in_pyodide["batch"]) == (
        "c1",
        "S1",
        "M1",
        "B1",
    )
    assert in_pyodide["accepted"] == "2025-01-02T03:04:05.678000+00:00"
    assert in_pyodide["error"][0] == "PlatformError"
    assert in_pyodide["error"][1].startswith("GET /calling/v1/calls/id/nope failed: HTTP 404")
    assert [f"{method} {url}" for method, url, _ in in_pyodide["sent"]] == [
        "POST https://example.test/calling/v1/callouts",
        "POST https://example.test/oauth2/token",  # once: the token is kept for the v2 call, Conversation and SMS
        "POST https://example.test/v2/projects/p1/calls?serviceId=svc",
        "POST https://example.test/v1/projects/p1/messages:send",
        "POST https://example.test/v1/projects/p1/messages:send",
        "POST https://example.test/xms/v1/p1/batches",
        "GET https://example.test/calling/v1/calls/id/nope",
    ]
    assert in_pyodide["sent"][4][2] == {
        "app_id": "a1",
        "recipient": {"contact_id": "C1"},
        "message": {"text_message": {"text": "Yo"}},
    }
