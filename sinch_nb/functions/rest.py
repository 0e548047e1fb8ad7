"""Sinch's REST APIs over a ``Transport``: the request path the notebook's clients and the deployed Function's share.

A ``Transport`` sends one HTTP request and returns the answer. The notebook's is httpx
(``platform/http.py``); the deployed Function's is Node's ``fetch``, made synchronous by the
bridge (Pyodide has no sockets); the tests' is urllib. Everything above it is here, standard
library only: JSON bodies, OAuth tokens, and the errors a refusal becomes (``PlatformError``
naming the call, the status and the fix, never a credential).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from .errors import PlatformError
from .secret import Secret

__all__ = ["TokenCache", "TokenSource", "Transport", "check_status", "send_json"]

#: (auth URL, key id, key secret) → (access token, when it expires on ``time.monotonic``'s clock).
TokenCache = dict[tuple[str, str, Secret], tuple[str, float]]


class Transport(Protocol):
    """Send one request; return its status, headers and body (not raising for a 4xx/5xx: ``check_status`` does)."""

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, /
    ) -> tuple[int, dict[str, str], bytes]: ...


#: Status → what to do, for the errors a refused request raises.
FIXES = {
    401: "the credentials were refused: check the key and secret (%sinch secrets list shows which are set)",
    403: "the credentials may not do this: check the access key's permissions in the Sinch dashboard",
    404: "Sinch does not know that resource: check the application key / app id",
    429: "Sinch is rate-limiting: wait a minute and try again",
}


def check_status(status: int, body: bytes | str, what: str, fixes: Mapping[int, str] | None = None) -> None:
    """Raise ``PlatformError`` (with its ``status``) for a non-2xx answer: the call, the status, the body, the fix.

    ``fixes`` names the fix for statuses where the general one would mislead (a function, not an app).
    """
    if 200 <= status < 300:
        return
    fix = {**FIXES, **(fixes or {})}.get(status, "see the status and body above")
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    error = PlatformError(f"{what} failed: HTTP {status} {text[:300]!r}; {fix}")
    error.status = status
    raise error


def send_json(transport: Transport, method: str, url: str, headers: dict[str, str], payload: Any, what: str) -> Any:
    """``payload`` as JSON (``None``: no body); the answer's JSON (``None`` for an empty body), or ``PlatformError``."""
    body = json.dumps(payload).encode() if payload is not None else None
    sent = {**headers, "content-type": "application/json"} if body is not None else dict(headers)
    status, _, answer = transport(method, url, sent, body)
    check_status(status, answer, what)
    return json.loads(answer) if answer.strip() else None


class TokenSource:
    """OAuth 2.0 client-credentials tokens from ``POST {auth}/oauth2/token`` (Basic key_id:key_secret), cached.

    The cache is this object's own unless ``cache`` is given: the deployed Function passes one that
    outlives its per-request clients, so one token serves every request until it nearly expires.
    """

    def __init__(
        self, auth_url: str, key_id: str, key_secret: Secret, transport: Transport, cache: TokenCache | None = None
    ) -> None:
        self.auth_url, self.key_id, self.key_secret, self.transport = auth_url, key_id, key_secret, transport
        self._cache: TokenCache = {} if cache is None else cache
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<TokenSource {self.auth_url} key {self.key_id}>"

    def token(self) -> str:
        """A valid access token (fetched when missing or within a minute of expiry)."""
        key = (self.auth_url, self.key_id, self.key_secret)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or cached[1] - 60 < time.monotonic():
                basic = base64.b64encode(f"{self.key_id}:{self.key_secret.reveal()}".encode()).decode()
                headers = {"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"}
                url = f"{self.auth_url}/oauth2/token"
                status, _, answer = self.transport("POST", url, headers, b"grant_type=client_credentials")
                check_status(status, answer, "getting an OAuth token")
                data = json.loads(answer)
                cached = (str(data["access_token"]), time.monotonic() + float(data.get("expires_in", 3600)))
                self._cache[key] = cached
            return cached[0]

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer …``."""
        return {"Authorization": f"Bearer {self.token()}"}
