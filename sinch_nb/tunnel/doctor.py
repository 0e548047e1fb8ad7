"""``%sinch doctor``: what a public URL needs, checked here, each failure with its fix."""

from __future__ import annotations

import html
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Check", "Doctor", "Probe", "detect_environment", "run_doctor", "stream_check", "websocket_url"]

RELAYS = (
    "Relay services (Hookdeck, smee.io, webhook.site) answer Sinch themselves and pass the request on later, "
    "so they cannot serve ICE, ACE or PIE, which need the SVAML answer in the same HTTP response. They are fine "
    "for DiCE and messaging notifications; for calls use ngrok, cloudflared or a URL of your own. They forward "
    "HTTP POSTs only, never a WebSocket upgrade, so they cannot carry media streams either."
)

#: Tunnels that proxy WebSocket upgrades: ngrok's HTTP tunnels and cloudflared's quick tunnels both do.
STREAM_CARRIERS = ("ngrok", "cloudflared")
#: Their hosts, for a ``--url`` that is one of them (an agent you run yourself).
CARRIER_HOSTS = {
    "ngrok-free.app": "ngrok",
    "ngrok-free.dev": "ngrok",
    "ngrok.app": "ngrok",
    "ngrok.dev": "ngrok",
    "ngrok.io": "ngrok",
    "trycloudflare.com": "cloudflared",
}
#: Webhook relays: they forward HTTP POSTs, never a WebSocket.
RELAY_HOSTS = {
    "smee.io": "smee.io",
    "webhook.site": "webhook.site",
    "hookdeck.com": "Hookdeck",
    "hkdk.events": "Hookdeck",
}
STREAM_FIX = "%sinch start --tunnel ngrok (or --tunnel cloudflared; sn.start(tunnel=...)): both carry WebSockets"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str  # ok, warn, fail, info
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Probe:
    """A WebSocket opened through the public URL: ``carried`` (it reached the runtime), ``refused``, ``unreachable``."""

    outcome: str
    detail: str
    ms: float | None = None


@dataclass(frozen=True)
class Doctor:
    """The report: a table in a notebook, plain text elsewhere."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """No check failed."""
        return all(check.status != "fail" for check in self.checks)

    def __repr__(self) -> str:
        width = max(len(check.name) for check in self.checks)
        lines = [
            f"{check.status.upper():<5} {check.name:<{width}}  {check.detail}"
            + (f"\n{'':<{width + 8}}fix: {check.fix}" if check.fix else "")
            for check in self.checks
        ]
        return "\n".join([*lines, "", RELAYS])

    def _repr_html_(self) -> str:
        colours = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e", "info": "#57606a"}
        rows = "".join(
            f"<tr><td style='color:{colours[c.status]};font-weight:bold'>{c.status}</td><td>{html.escape(c.name)}</td>"
            f"<td>{html.escape(c.detail)}</td><td>{html.escape(c.fix)}</td></tr>"
            for c in self.checks
        )
        head = "<tr><th></th><th>check</th><th>found</th><th>fix</th></tr>"
        return f"<table>{head}{rows}</table><p>{html.escape(RELAYS)}</p>"


def detect_environment(environ: Any = None) -> tuple[str, str]:
    """Where this kernel runs, and what that means for callbacks."""
    env = os.environ if environ is None else environ
    if "google.colab" in sys.modules or env.get("COLAB_RELEASE_TAG"):
        return "Colab", "Colab's port proxy serves only your browser and refuses POSTs: use a tunnel"
    if env.get("BINDER_REPO_URL") or env.get("BINDER_LAUNCH_HOST"):
        return "Binder", "a remote kernel with no keychain: use a tunnel, and env or .env for secrets"
    if env.get("JUPYTERHUB_API_URL") or env.get("JUPYTERHUB_USER"):
        return "JupyterHub", "a remote kernel: jupyter-server-proxy serves your browser, not Sinch; use a tunnel"
    if env.get("VSCODE_PID") or env.get("VSCODE_CWD"):
        return "VS Code", "a local kernel: a tunnel gives Sinch a public URL"
    if env.get("JPY_PARENT_PID") or env.get("JPY_SESSION_NAME"):
        return "JupyterLab / Notebook", "a Jupyter kernel: a tunnel gives Sinch a public URL"
    return "terminal / script", "no notebook frontend: tables print as text"


def websocket_url(base: str, path: str) -> str:
    """``https://host`` and ``/echo`` → ``wss://host/echo`` (``http`` → ``ws``)."""
    scheme, rest = base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{path}"


def _known(host: str, hosts: dict[str, str]) -> str | None:
    return next((name for suffix, name in hosts.items() if host == suffix or host.endswith(f".{suffix}")), None)


def stream_check(
    paths: Sequence[str],
    *,
    running_url: str | None,
    public_url: str | None,
    provider: str | None,
    probe: Probe | None = None,
) -> Check | None:
    """Whether the public URL carries the stream handlers' WebSockets (None without stream handlers).

    ``provider`` is the tunnel's (``ngrok``, ``cloudflared``, ``url`` for ``--url``). ``probe``: a
    WebSocket opened through the public URL (``runtime/stream_probe.py``); what it found decides,
    and only when it could not reach the URL at all does the answer rest on who the tunnel is.
    """
    if not paths:
        return None
    guess = _stream_guess(paths, running_url=running_url, public_url=public_url, provider=provider)
    if probe is None or public_url is None or guess.status in ("info", "fail"):  # a relay: its name says more
        return guess
    urls = ", ".join(websocket_url(public_url, path) for path in paths)
    if probe.outcome == "carried":
        carrier = _carrier(public_url, provider) or "the URL"
        return Check(guess.name, "ok", f"{urls} carried by {carrier} (probed: {probe.detail} in {probe.ms:.0f} ms)")
    if probe.outcome == "refused":
        return Check(guess.name, "fail", f"{urls} cannot work: {probe.detail}", STREAM_FIX)
    return replace(guess, detail=f"{guess.detail} (not probed: {probe.detail})")


def _carrier(public_url: str, provider: str | None) -> str | None:
    """The tunnel that carries WebSockets to ``public_url``: the one opened, or the one its host names."""
    host = (urlsplit(public_url).hostname or "").lower()
    return provider if provider in STREAM_CARRIERS else _known(host, CARRIER_HOSTS)


def _stream_guess(
    paths: Sequence[str], *, running_url: str | None, public_url: str | None, provider: str | None
) -> Check:
    """What the tunnel's kind says about WebSockets, before (or without) a probe."""
    name = "media streams"
    if running_url is None:
        return Check(name, "info", f"stream handlers at {', '.join(paths)}; the runtime is not running", STREAM_FIX)
    if public_url is None:
        urls = ", ".join(websocket_url(running_url, path) for path in paths)
        return Check(name, "warn", f"{urls} reaches only this machine (sn.stream_call), not Sinch", STREAM_FIX)
    urls = ", ".join(websocket_url(public_url, path) for path in paths)
    carrier = _carrier(public_url, provider)
    if carrier is not None:
        return Check(name, "ok", f"{urls} carried by {carrier}")
    relay = _known((urlsplit(public_url).hostname or "").lower(), RELAY_HOSTS)
    if relay is not None:
        return Check(
            name,
            "fail",
            f"{urls} cannot work: {relay} is a webhook relay; it forwards HTTP POSTs, never a WebSocket upgrade",
            STREAM_FIX,
        )
    return Check(
        name,
        "warn",
        f"{urls} through a URL of your own (--url): it carries media streams only if it passes WebSocket "
        "upgrades; webhook relays (Hookdeck, smee.io, webhook.site) never do",
        f"check that it passes WebSocket upgrades, or {STREAM_FIX}",
    )


def run_doctor(store: Any, running_port: int | None = None, streams: Check | None = None) -> Doctor:
    """Check the runtime, the tunnel agents, the tokens and the credentials (and ``streams``, when given)."""
    from . import ngrok_sdk
    from .ngrok import find_agent, find_authtoken

    checks: list[Check] = []
    if running_port is None:
        checks.append(Check("runtime", "info", "not running", "%sinch start"))
    else:
        checks.append(Check("runtime", "ok", f"serving on 127.0.0.1:{running_port}"))
    if streams is not None:
        checks.append(streams)
    agent = find_agent()
    sdk = ngrok_sdk.installed()
    checks.append(
        Check("ngrok agent", "ok", agent)
        if agent
        else Check("ngrok agent", "info", "none needed: the ngrok SDK (PyPI ngrok) carries its own")
        if sdk
        else Check(
            "ngrok agent",
            "warn",
            "not found (pyngrok downloads it on first use, which needs access to ngrok's servers)",
            "install ngrok and put it on PATH, or set PYNGROK_NGROK_PATH, or pip install ngrok",
        )
    )
    token, source = find_authtoken(store.lookup)
    checks.append(
        Check("ngrok authtoken", "ok", f"from {source}")
        if token
        else Check(
            "ngrok authtoken", "warn", "not set", "%sinch secrets add NGROK_AUTHTOKEN (from dashboard.ngrok.com)"
        )
    )
    cloudflared = os.environ.get("SINCH_NB_CLOUDFLARED") or shutil.which("cloudflared")
    checks.append(
        Check("cloudflared", "ok", cloudflared)
        if cloudflared
        else Check("cloudflared", "warn", "not on PATH", "install cloudflared, or use ngrok or --url")
    )
    if not agent and not sdk and not cloudflared:
        checks.append(
            Check(
                "tunnel",
                "fail",
                "no tunnel agent here",
                "install ngrok or cloudflared, or start with --url https://...",
            )
        )
    sources = store.sources()
    voice = [name for name in ("VOICE_APPLICATION_KEY", "VOICE_APPLICATION_SECRET") if name not in sources]
    checks.append(
        Check("Voice App credentials", "ok", "key and secret set: callbacks signed and linked")
        if not voice
        else Check(
            "Voice App credentials",
            "warn",
            f"missing {', '.join(voice)}: no linking, no signature checks",
            "%sinch secrets add VOICE_APPLICATION_SECRET; set VOICE_APPLICATION_KEY in env or .env",
        )
    )
    messaging = [
        n
        for n in ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET", "CONVERSATION_APP_ID")
        if n not in sources
    ]
    checks.append(
        Check("Conversation credentials", "ok", "set: a webhook is created on start")
        if not messaging
        else Check(
            "Conversation credentials",
            "info",
            f"missing {', '.join(messaging)}: no webhook",
            "set them to link messaging",
        )
    )
    available, backend = store.keychain()
    checks.append(
        Check("keychain", "ok", backend)
        if available
        else Check("keychain", "info", backend, "keep secrets in environment variables or .env")
    )
    where, meaning = detect_environment()
    checks.append(Check("environment", "info", f"{where}: {meaning}"))
    return Doctor(tuple(checks))
