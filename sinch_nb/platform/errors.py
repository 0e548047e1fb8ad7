"""Errors from Sinch's APIs, turned into what to do: the messages are ``functions/rest.py``'s, as in the Function."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ..functions.errors import PlatformError
from ..functions.rest import check_status

__all__ = ["PlatformError", "raise_for_status"]


def raise_for_status(response: httpx.Response, what: str, fixes: Mapping[int, str] | None = None) -> None:
    """Raise ``PlatformError`` (with its ``status``) for a non-2xx answer, without echoing credentials."""
    if not response.is_success:
        check_status(response.status_code, response.text, what, fixes)
