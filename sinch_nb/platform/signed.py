"""A client for Sinch's application-signed APIs (Voice v1): each request carries ``x-timestamp`` and
``Authorization: Application key:signature`` (reference/sinch-wire.md §3.1, §5)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..functions.secret import Secret
from ..functions.signing import voice_signing_headers

__all__ = ["ApplicationSignedClient"]


class ApplicationSignedClient:
    """Requests to ``base_url`` signed with a Voice App's key and secret."""

    def __init__(
        self, base_url: str, application_key: str, application_secret: Secret, client: httpx.Client | None = None
    ) -> None:
        self.base_url, self.key, self.secret = base_url, application_key, application_secret
        self.client = client or httpx.Client(timeout=15)

    def signed(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """Send ``body`` (JSON) to ``path``, signed."""
        content = json.dumps(body).encode() if body is not None else b""
        headers = voice_signing_headers(method, path, content, self.key, self.secret.reveal())
        return self.client.request(method, f"{self.base_url}{path}", content=content, headers=headers)
