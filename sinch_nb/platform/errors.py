"""Errors from Sinch's APIs, turned into what to do."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ..functions.errors import PlatformError

__all__ = ["PlatformError", "raise_for_status"]


_FIXES = {
    401: "the credentials were refused: check the key and secret (%sinch secrets list shows which are set)",
    403: "the credentials may not do this: check the access key's permissions in the Sinch dashboard",
    404: "Sinch does not know that resource: check the application key / app id",
    429: "Sinch is rate-limiting: wait a minute and try again",
}


def raise_for_status(response: httpx.Response, what: str, fixes: Mapping[int, str] | None = None) -> None:
    """Raise ``PlatformError`` (with its ``status``) for a non-2xx answer, without echoing credentials.

    ``fixes`` names the fix for statuses where the general one would mislead (a function, not an app).
    """
    if response.is_success:
        return
    fix = {**_FIXES, **(fixes or {})}.get(response.status_code, "see the status and body above")
    body = response.text[:300]
    error = PlatformError(f"{what} failed: HTTP {response.status_code} {body!r}; {fix}")
    error.status = response.status_code
    raise error
