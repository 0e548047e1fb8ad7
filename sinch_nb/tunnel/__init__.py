"""Tunnels behind one interface: ngrok (pyngrok), a cloudflared quick tunnel, or a URL you have.

One tunnel per local port per session (``Tunnels``): starting again reuses it. Every failure is a
``TunnelError`` whose message names the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Tunnel, TunnelError

__all__ = ["PROVIDERS", "Tunnel", "TunnelError", "Tunnels"]

PROVIDERS = ("ngrok", "cloudflared", "none")


class Tunnels:
    """The tunnels one session opened, one per local port: opening again reuses it."""

    def __init__(self) -> None:
        self._open: dict[int, Tunnel] = {}

    def open(self, provider: str, port: int, *, lookup: Any, state_dir: Path, url: str | None = None) -> Tunnel | None:
        """The tunnel for ``port`` (reused if open), or None for ``none`` without ``url``."""
        from . import pids

        wanted = "url" if url is not None else provider
        current = self._open.get(port)
        same_url = url is None or (current is not None and current.public_url == url.rstrip("/"))
        if current is not None and not current.closed and current.provider == wanted and same_url:
            return current
        if current is not None:
            current.close()
        pids.reap(state_dir)
        if url is not None:
            if not url.startswith(("https://", "http://")):
                raise TunnelError(f"--url needs a full URL such as https://my.host, got {url!r}")
            tunnel = Tunnel("url", url.rstrip("/"), f"http://127.0.0.1:{port}")
        elif provider == "ngrok":
            from .ngrok import open_ngrok

            tunnel = open_ngrok(port, lookup, state_dir)
        elif provider == "cloudflared":
            from .cloudflared import open_cloudflared

            tunnel = open_cloudflared(port, state_dir)
        elif provider == "none":
            return None
        else:
            raise TunnelError(f"unknown tunnel {provider!r}: use ngrok, cloudflared or none (or --url https://...)")
        self._open[port] = tunnel
        return tunnel

    def get(self, port: int) -> Tunnel | None:
        """The open tunnel to ``port``, if there is one."""
        tunnel = self._open.get(port)
        return tunnel if tunnel is not None and not tunnel.closed else None

    def close_all(self) -> None:
        """Close every tunnel this session opened."""
        for port, tunnel in list(self._open.items()):
            tunnel.close()
            del self._open[port]
