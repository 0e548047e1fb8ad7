"""Errors the runtime raises to the notebook (defined in the one tree, ``functions.errors``)."""

from __future__ import annotations

from ..functions.errors import PortInUseError, ServerError

__all__ = ["PortInUseError", "ServerError"]
