"""Errors the runtime raises to the notebook; each message names the fix."""

from __future__ import annotations

__all__ = ["PortInUseError", "ServerError"]


class ServerError(RuntimeError):
    """The runtime could not start or stop; the message says what to do."""


class PortInUseError(ServerError):
    """Another process (or an earlier runtime in this kernel) holds the port."""
