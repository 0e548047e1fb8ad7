"""A cloudflared quick tunnel: ``cloudflared tunnel --url http://127.0.0.1:PORT``, its URL read from its log."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
from collections import deque
from pathlib import Path

from . import pids
from .base import Tunnel, TunnelError

__all__ = ["open_cloudflared"]

_BANNER = "Your quick Tunnel has been created"
_URL = re.compile(r"https?://[^\s|]+")
_CAUSES = (
    ("429", "Cloudflare is rate-limiting quick tunnels (HTTP 429, error 1015): wait a few minutes, or use ngrok"),
    ("1015", "Cloudflare is rate-limiting quick tunnels (error 1015): wait a few minutes, or use ngrok"),
    ("7844", "outbound port 7844 is blocked here; try --protocol http2 with cloudflared by hand, or use ngrok"),
    ("no such host", "DNS lookups fail here: this machine has no route to Cloudflare; use --url or ngrok"),
    (
        "failed to request quick Tunnel",
        "cloudflared could not reach trycloudflare.com; check the network, or use ngrok",
    ),
)


def open_cloudflared(port: int, state_dir: Path, *, timeout: float = 30.0) -> Tunnel:
    """A quick tunnel to ``127.0.0.1:port``; every failure is a ``TunnelError`` naming the fix."""
    binary = os.environ.get("SINCH_NB_CLOUDFLARED") or shutil.which("cloudflared")
    if binary is None:
        raise TunnelError(
            "cloudflared is not on PATH (and this machine may have no network to download it): install it from "
            "Cloudflare's package repository or GitHub releases, put it on PATH, then %sinch start --tunnel "
            "cloudflared; or use --tunnel ngrok, or --url with a public URL you have"
        )
    local = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, "tunnel", "--no-autoupdate", "--url", local],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: deque[str] = deque(maxlen=50)
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        after_banner = False
        for line in process.stdout:
            lines.append(line.rstrip())
            after_banner = after_banner or _BANNER in line
            match = _URL.search(line) if after_banner else None
            if match and not found:
                found.append(match.group(0))
                ready.set()
        ready.set()  # the process ended

    threading.Thread(target=read, name="sinch_nb-cloudflared-log", daemon=True).start()
    ready.wait(timeout)
    if not found:
        _end(process)
        log = "\n".join(lines)
        cause = next((fix for needle, fix in _CAUSES if needle in log), None)
        last = lines[-1] if lines else "no output"
        if process.poll() is None or not lines:
            raise TunnelError(
                f"cloudflared printed no tunnel URL within {timeout:g} s ({last}); {cause or 'use ngrok'}"
            )
        raise TunnelError(f"cloudflared stopped: {cause or last}")
    pids.record(state_dir, process.pid, binary)

    def close() -> None:
        _end(process)
        pids.forget(state_dir, process.pid)

    return Tunnel("cloudflared", found[0].rstrip("/"), local, process.pid, close)


def _end(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
