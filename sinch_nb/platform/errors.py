"""Errors from Sinch's APIs, turned into what to do: the messages are ``functions/rest.py``'s, as in the Function."""

from __future__ import annotations

import httpx

from ..functions.errors import PlatformError
from ..functions.rest import check_status

__all__ = ["PlatformError", "raise_for_status"]


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Raise ``PlatformError`` for a non-2xx answer, without echoing credentials."""
    if not response.is_success:
        check_status(response.status_code, response.text, what)
