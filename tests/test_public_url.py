"""A public URL end to end: fake ngrok and cloudflared agents, a fake Sinch API, a real kernel."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import payload
from fakes.sinch_api import FakeSinch
from kernel import Kernel

from sinch_nb import signing
from sinch_nb.platform.credentials import CredentialStore
from sinch_nb.runtime.server import Server
from sinch_nb.tunnel import TunnelError, Tunnels
from sinch_nb.tunnel.doctor import run_doctor

TESTS = Path(__file__).resolve().parent
FAKES = TESTS / "fakes"
KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
ORIGINAL = "https://old.example/cb"
SETUP = "%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml"
ICE = '%%sinch ice\nreturn svaml.ice().say(f"Hello {event.cli}").hangup()'


@pytest.fixture
def sinch() -> Iterator[tuple[FakeSinch, str]]:
    fake = FakeSinch(KEY, SECRET, callbacks={"primary": ORIGINAL, "fallback": "https://old.example/fallback"})
    server = Server(fake.app())
    server.start()
    yield fake, server.url
    server.stop()


def kernel_env(home: Path, api: str, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(home),
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "NGROK_AUTHTOKEN": "test-token",
        "VOICE_APPLICATION_KEY": KEY,
        "VOICE_APPLICATION_SECRET": SECRET,
        "PROJECT_ID": "project-1",
        "PROJECT_ID_API_KEY": "key-id",
        "PROJECT_ID_API_SECRET": "key-secret",
        "CONVERSATION_APP_ID": "APP1",
        "SINCH_VOICE_MANAGEMENT_URL": api,
        "SINCH_AUTH_URL": api,
        "SINCH_CONVERSATION_URL": api,
    }
    return {**env, **extra}


def public_url(output: str) -> str:
    match = re.search(r"Public URL (\S+)", output)
    assert match, output
    return match.group(1)


def agent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status").read_text()
    return "State:\tZ" not in status


def test_start_with_a_tunnel_links_answers_signed_calls_and_stop_restores(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    kernel = Kernel(tmp_path, env=kernel_env(tmp_path, api))
    try:
        kernel.run(SETUP)
        kernel.run(ICE)
        kernel.run("%%sinch conversation\ncontext.log.info(event.text)")
        started = kernel.run("%sinch start --tunnel ngrok")
        assert started.error is None and not started.stderr.strip(), started.stderr
        url = public_url(started.stdout)
        assert f"callback now points here (was {ORIGINAL})" in started.stdout
        assert "Warning: live calls to this Voice App now reach this notebook" in started.stdout
        assert "Signature checks: on" in started.stdout
        assert fake.callbacks == {"primary": url, "fallback": "https://old.example/fallback"}
        (webhook,) = fake.webhooks.values()
        assert webhook["target"] == f"{url}/webhook/conversation"
        assert webhook["triggers"] == ["MESSAGE_INBOUND", "MESSAGE_DELIVERY", "EVENT_INBOUND"]

        body = json.dumps(payload("voice-ice")).encode()
        signed = signing.voice_signing_headers("POST", "/", body, KEY, SECRET)
        answer = httpx.post(f"{url}/", content=body, headers=signed)  # through the tunnel, as Sinch would
        assert answer.status_code == 200 and answer.json()["instructions"][0]["text"] == "Hello cli number"
        forged = signing.voice_signing_headers("POST", "/", body, KEY, "AAAAAAAAAAAAAAAAAAAAAA==")
        assert httpx.post(f"{url}/", content=body, headers=forged).status_code == 401

        message = json.dumps(payload("conversation-message-inbound")).encode()
        good = signing.sign_conversation_webhook(message, webhook["secret"])
        assert httpx.post(f"{url}/webhook/conversation", content=message, headers=good).status_code == 200
        bad = signing.sign_conversation_webhook(message, "guessed")
        assert httpx.post(f"{url}/webhook/conversation", content=message, headers=bad).status_code == 401

        verdicts = kernel.run("print(sn.callbacks()['signature'].astype(str).tolist())").stdout
        assert verdicts.strip() == "['valid', 'invalid', 'valid', 'invalid']"
        again = kernel.run("%sinch start --tunnel ngrok")  # re-running reuses the tunnel
        assert public_url(again.stdout) == url
        pid = json.loads((tmp_path / ".sinch_nb" / "tunnels.json").read_text())[0]["pid"]

        stopped = kernel.run("%sinch stop")
        assert f"restored to {ORIGINAL}" in stopped.stdout
        assert fake.callbacks["primary"] == ORIGINAL
        assert fake.webhooks == {}
        deadline = time.monotonic() + 10
        while agent_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not agent_alive(pid)
        outputs = started.text + again.text + stopped.text + verdicts
        assert SECRET not in outputs and webhook["secret"] not in outputs and "key-secret" not in outputs
    finally:
        kernel.shutdown()


def test_a_killed_kernel_is_undone_by_the_next_start(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    fake, api = sinch
    env = kernel_env(tmp_path, api)
    first = Kernel(tmp_path, env=env)
    first.run(SETUP)
    url = public_url(first.run("%sinch start --tunnel ngrok").stdout)
    pid = json.loads((tmp_path / ".sinch_nb" / "tunnels.json").read_text())[0]["pid"]
    assert fake.callbacks["primary"] == url and len(fake.webhooks) == 1
    first.manager.shutdown_kernel(now=True)  # SIGKILL: no atexit, nothing restored
    first.client.stop_channels()
    assert fake.callbacks["primary"] == url and agent_alive(pid)

    second = Kernel(tmp_path, env=env)
    try:
        second.run(SETUP)
        started = second.run("%sinch start --tunnel ngrok")
        assert f"restored to {ORIGINAL}" in started.stdout  # the crash's link undone first
        assert not agent_alive(pid)  # the orphaned agent reaped
        new_url = public_url(started.stdout)
        assert fake.callbacks["primary"] == new_url and len(fake.webhooks) == 1
        second.run("%sinch stop")
        assert fake.callbacks["primary"] == ORIGINAL and fake.webhooks == {}
    finally:
        second.shutdown()


def test_kernel_shutdown_restores_too(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    fake, api = sinch
    kernel = Kernel(tmp_path, env=kernel_env(tmp_path, api))
    kernel.run(SETUP)
    kernel.run("%sinch start --tunnel ngrok")
    assert fake.callbacks["primary"] != ORIGINAL
    kernel.shutdown()  # a polite shutdown runs atexit
    assert fake.callbacks["primary"] == ORIGINAL and fake.webhooks == {}


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "needs an authtoken"),
        ("rejected-token", r"rejected the authtoken.*ERR_NGROK_107"),
        ("session-limit", r"one agent session at a time.*ERR_NGROK_108"),
    ],
)
def test_ngrok_failures_name_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str, message: str) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    store = CredentialStore(tmp_path, environ={"NGROK_AUTHTOKEN": token} if token else {})
    with pytest.raises(TunnelError, match=message):
        Tunnels().open("ngrok", 9, lookup=store.lookup, state_dir=tmp_path)


def test_no_ngrok_agent_and_no_network_to_download_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # every download refused at once
    from pyngrok import conf

    monkeypatch.setattr(conf, "DEFAULT_NGROK_PATH", str(tmp_path / "ngrok" / "ngrok"))
    store = CredentialStore(tmp_path, environ={"NGROK_AUTHTOKEN": "t"})
    with pytest.raises(TunnelError, match=r"no ngrok agent here, and it could not be downloaded.*PATH"):
        Tunnels().open("ngrok", 9, lookup=store.lookup, state_dir=tmp_path)


def test_cloudflared_quick_tunnel_forwards_and_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session: Any
) -> None:
    from sinch_nb import svaml

    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    session.registry.register("ice", lambda c, e: svaml.ice().hangup(), "ice")
    server = session.start()
    store = CredentialStore(tmp_path, environ={})
    tunnels = Tunnels()
    tunnel = tunnels.open("cloudflared", server.port, lookup=store.lookup, state_dir=tmp_path)
    assert tunnel is not None and tunnel.provider == "cloudflared"
    assert httpx.post(f"{tunnel.public_url}/ice", json=payload("voice-ice")).json() == {"action": {"name": "hangup"}}
    assert tunnels.open("cloudflared", server.port, lookup=store.lookup, state_dir=tmp_path) is tunnel
    tunnel.close()
    assert not agent_alive(tunnel.pid or 0)


@pytest.mark.parametrize(
    ("mode", "message"), [("ratelimit", "rate-limiting quick tunnels"), ("silent", "printed no tunnel URL")]
)
def test_cloudflared_failures_name_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, message: str
) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLOUDFLARED", mode)
    from sinch_nb.tunnel import cloudflared

    with pytest.raises(TunnelError, match=message):
        cloudflared.open_cloudflared(9, tmp_path, timeout=3)


def test_missing_cloudflared_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TunnelError, match="cloudflared is not on PATH"):
        Tunnels().open("cloudflared", 9, lookup=CredentialStore(tmp_path, environ={}).lookup, state_dir=tmp_path)


def test_url_of_your_own(tmp_path: Path) -> None:
    lookup = CredentialStore(tmp_path, environ={}).lookup
    tunnel = Tunnels().open("none", 9, lookup=lookup, state_dir=tmp_path, url="https://my.host/")
    assert tunnel is not None and tunnel.public_url == "https://my.host"
    with pytest.raises(TunnelError, match="full URL"):
        Tunnels().open("none", 10, lookup=lookup, state_dir=tmp_path, url="my.host")


def test_doctor_with_nothing_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb.tunnel import ngrok_sdk

    monkeypatch.setattr(ngrok_sdk, "installed", lambda: False)  # a dependency, so installed unless told
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
    from pyngrok import conf

    monkeypatch.setattr(conf, "DEFAULT_NGROK_PATH", str(tmp_path / "none"))
    report = run_doctor(CredentialStore(tmp_path, environ={}))
    text = repr(report)
    assert not report.ok
    assert "FAIL  tunnel" in text and "--url" in text
    assert "%sinch secrets add NGROK_AUTHTOKEN" in text
    assert "%sinch secrets add VOICE_APPLICATION_SECRET" in text
    assert "cannot serve ICE, ACE or PIE" in text
    assert "<table>" in report._repr_html_()


def test_doctor_magic_in_a_kernel(tmp_path: Path, sinch: tuple[FakeSinch, str]) -> None:
    kernel = Kernel(tmp_path, env=kernel_env(tmp_path, sinch[1]))
    try:
        kernel.run(SETUP)
        text = kernel.run("%sinch doctor").text
        assert "OK    ngrok agent" in text and "from environment" in text
        assert SECRET not in text
    finally:
        kernel.shutdown()


def test_the_ngrok_authtoken_is_never_on_the_agents_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session: Any
) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FAKE_NGROK_ARGV", str(tmp_path / "argv.json"))
    server = session.start()
    store = CredentialStore(tmp_path, environ={"NGROK_AUTHTOKEN": "test-token"})
    tunnel = Tunnels().open("ngrok", server.port, lookup=store.lookup, state_dir=tmp_path / ".sinch_nb")
    try:
        assert tunnel is not None and tunnel.public_url
        argv = json.loads((tmp_path / "argv.json").read_text())
        assert "test-token" not in " ".join(argv) and "--authtoken" not in argv  # what `ps` shows every user
        assert not (tmp_path / ".sinch_nb" / "ngrok.yml").exists()  # read by the agent at start, then removed
    finally:
        assert tunnel is not None
        tunnel.close()
    assert not (tmp_path / ".sinch_nb" / "ngrok.yml").exists()


def test_two_notebooks_one_voice_app_and_each_stop_restores_only_its_own_link(
    tmp_path: Path, sinch: tuple[FakeSinch, str]
) -> None:
    fake, api = sinch
    folders = [tmp_path / "first", tmp_path / "second"]
    kernels = []
    for folder in folders:
        folder.mkdir()
        kernels.append(Kernel(folder, env=kernel_env(tmp_path, api)))  # one user: one HOME
    first, second = kernels
    try:
        for kernel in kernels:
            kernel.run(SETUP)
            kernel.run(ICE)
        url_first = public_url(first.run("%sinch start --tunnel ngrok").stdout)
        refused = second.run("%sinch start --tunnel ngrok")
        assert f"already points at another notebook's runtime ({url_first})" in refused.stdout
        assert "--force" in refused.stdout and fake.callbacks["primary"] == url_first
        url_second = public_url(second.run("%sinch start --tunnel ngrok --force").stdout)
        assert fake.callbacks["primary"] == url_second
        left = first.run("%sinch stop").stdout
        assert f"now points at {url_second}, not here: left as it is" in left
        assert fake.callbacks["primary"] == url_second  # the first notebook took nothing back
        restored = second.run("%sinch stop").stdout
        assert f"callback restored to {ORIGINAL}" in restored  # production, not the first one's dead tunnel
        assert fake.callbacks == {"primary": ORIGINAL, "fallback": "https://old.example/fallback"}
    finally:
        for kernel in kernels:
            kernel.shutdown()


def test_reaping_ends_only_a_dead_kernels_recorded_agent_through_psutil(tmp_path: Path) -> None:
    import subprocess

    from sinch_nb.tunnel import pids

    dead_kernel = 2**22 + 7  # above Linux's largest pid: no kernel runs as it
    orphan = subprocess.Popen(["sleep", "60"], start_new_session=True)
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        pids.record(tmp_path, orphan.pid, "/bin/sleep", owner=dead_kernel)
        pids.record(tmp_path, stranger.pid, "/bin/sleep", owner=dead_kernel)
        entries = json.loads((tmp_path / "tunnels.json").read_text())
        entries[1]["started"] -= 100  # as if the pid had been reused by a process started later
        (tmp_path / "tunnels.json").write_text(json.dumps(entries))
        assert pids.reap(tmp_path) == [orphan.pid]
        assert orphan.wait(timeout=10) is not None
        assert stranger.poll() is None, "a process that merely reuses a recorded pid is never signalled"
    finally:
        for process in (orphan, stranger):
            process.kill()
            process.wait()


def test_without_an_installed_agent_the_ngrok_sdk_opens_the_tunnel_off_the_cells_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import ngrok

    calls: list[dict[str, Any]] = []

    class Listener:  # what the SDK's forward() returns; its network part cannot run offline
        def url(self) -> str:
            return "https://fake-sdk.ngrok.app"

    def forward(addr: str, **options: Any) -> Listener:
        try:
            asyncio.get_running_loop()
            running = True
        except RuntimeError:
            running = False
        calls.append({"addr": addr, "options": options, "loop_running": running})
        return Listener()

    monkeypatch.setenv("PATH", str(tmp_path))  # no ngrok agent installed
    monkeypatch.delenv("PYNGROK_NGROK_PATH", raising=False)
    monkeypatch.setattr(ngrok, "forward", forward)
    monkeypatch.setattr(ngrok, "disconnect", lambda url=None: calls.append({"disconnect": url}))
    store = CredentialStore(tmp_path, environ={"NGROK_AUTHTOKEN": "test-token"})

    async def in_a_cell() -> Any:  # a notebook cell runs inside the kernel's event loop
        return Tunnels().open("ngrok", 8765, lookup=store.lookup, state_dir=tmp_path)

    tunnel = asyncio.run(in_a_cell())
    assert tunnel is not None and (tunnel.provider, tunnel.public_url) == ("ngrok", "https://fake-sdk.ngrok.app")
    assert calls == [
        {"addr": "127.0.0.1:8765", "options": {"proto": "http", "authtoken": "test-token"}, "loop_running": False}
    ]
    tunnel.close()
    assert calls[-1] == {"disconnect": "https://fake-sdk.ngrok.app"}


def test_the_ngrok_sdk_offline_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # pyngrok's download refused at once too
    from pyngrok import conf

    monkeypatch.setattr(conf, "DEFAULT_NGROK_PATH", str(tmp_path / "ngrok" / "ngrok"))
    store = CredentialStore(tmp_path, environ={"NGROK_AUTHTOKEN": "t"})
    with pytest.raises(TunnelError, match=r"the ngrok SDK failed too: the ngrok SDK could not reach ngrok .*network"):
        Tunnels().open("ngrok", 9, lookup=store.lookup, state_dir=tmp_path)


def echo_stream(sn: Any) -> None:
    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()


@pytest.mark.parametrize("tool", ["ngrok", "cloudflared"])
def test_doctor_says_the_tunnel_carries_the_media_streams(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sn: Any
) -> None:
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NGROK_AUTHTOKEN", "test-token")
    echo_stream(sn)
    idle = repr(sn.doctor())  # not running yet: the fix names the tunnels
    assert re.search(r"^INFO +media streams +stream handlers at /echo; the runtime is not running", idle, re.M), idle
    sn.start(tunnel=tool, link=False)
    try:  # the fakes pass WebSocket upgrades as the real edges do: a WebSocket through the public URL is probed
        probed = "probed: a WebSocket opened through it reached this runtime in"
        wanted = f"{sn.ws_url('/echo')} carried by {tool} ({probed}"
        assert f"media streams: {wanted}" in capsys.readouterr().out  # what start prints under the public URL
        report = repr(sn.doctor())
        assert re.search(rf"^OK +media streams +{re.escape(wanted)} \d+ ms\)$", report, re.M), report
        assert sn.status()["streams"].startswith(wanted)
        assert not [r for r in sn.callbacks().itertuples() if "ws-probe" in str(r.path)]  # the probe is not journaled
    finally:
        sn.stop()


def test_a_proxy_that_does_not_pass_websocket_upgrades_fails_the_probe_with_the_fix(sn: Any) -> None:
    """A URL of your own in front of the runtime: probed, so the doctor knows rather than guesses."""
    from fakes._forwarder import forward

    echo_stream(sn)
    server = sn.start(link=False)
    plain, passing = forward(str(server.port), websockets=False), forward(str(server.port))
    try:
        for proxy, status, found in [
            (plain, "FAIL", "cannot work: the WebSocket upgrade got HTTP 404 instead of 101 Switching Protocols"),
            (passing, "OK", "carried by the URL (probed: a WebSocket opened through it reached this runtime in"),
        ]:
            server.public_url = f"http://127.0.0.1:{proxy.server_address[1]}"
            report = sn.doctor()
            line = next(ln for ln in repr(report).splitlines() if "media streams" in ln)
            assert line.startswith(status) and found in line, line
            assert report.ok is (status == "OK")
    finally:
        plain.shutdown()
        passing.shutdown()
        sn.stop()


def test_the_probe_answers_only_its_own_nonce(sn: Any) -> None:
    """The probe path is no open echo: another nonce is an ordinary upgrade with no handler (1008, journaled)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    server = sn.start(link=False)
    try:
        with connect(server.url.replace("http", "ws") + "/_sinch_nb/ws-probe?nonce=guess") as ws:
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
            assert ws.close_code == 1008
        time.sleep(0.3)
        assert "/_sinch_nb/ws-probe" in set(sn.callbacks()["path"])
    finally:
        sn.stop()


@pytest.mark.parametrize(
    ("url", "status", "found", "fix"),
    [
        ("https://smee.io/abc123", "FAIL", "wss://smee.io/abc123/echo cannot work: smee.io is a webhook relay", True),
        ("https://x.hkdk.events/in", "FAIL", "Hookdeck is a webhook relay; it forwards HTTP POSTs", True),
        ("https://webhook.site/u-1", "FAIL", "webhook.site is a webhook relay", True),
        ("https://my.host", "WARN", "wss://my.host/echo through a URL of your own (--url)", True),
        ("https://ab12.ngrok-free.app", "OK", "wss://ab12.ngrok-free.app/echo carried by ngrok", False),
        ("https://a-b.trycloudflare.com", "OK", "wss://a-b.trycloudflare.com/echo carried by cloudflared", False),
    ],
)
def test_doctor_names_a_url_that_cannot_carry_media_streams(
    url: str, status: str, found: str, fix: bool, sn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinch_nb.runtime import stream_probe

    unreachable = ("unreachable", "no WebSocket could be opened through it: gaierror", None)
    monkeypatch.setattr(stream_probe, "probe", lambda app, base: unreachable)  # no network here, nor in CI
    echo_stream(sn)
    sn.start(url=url, link=False)
    try:
        report = sn.doctor()
        text = repr(report)
        line = next((ln for ln in text.splitlines() if "media streams" in ln), "")
        assert line.startswith(status) and found in line, text
        assert bool(re.search(r"fix: .*%sinch start --tunnel ngrok \(or --tunnel cloudflared", text)) is fix
        assert report.ok is (status != "FAIL")
        assert "cannot carry media streams" in text  # the relays note
    finally:
        sn.stop()


def test_doctor_on_media_streams_without_a_public_url_or_without_streams(sn: Any) -> None:
    sn.start()
    try:
        assert not re.search(r"^\w+ +media streams", repr(sn.doctor()), re.M)  # no stream handler: nothing to say
        assert sn.status()["streams"] is None
        echo_stream(sn)
        text = repr(sn.doctor())
        assert re.search(r"^WARN +media streams +ws://127\.0\.0\.1:\d+/echo reaches only this machine", text, re.M)
        assert "fix: %sinch start --tunnel ngrok" in text
    finally:
        sn.stop()
