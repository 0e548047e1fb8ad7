"""A Voice App's callback URLs (Voice API v1 application management), over application-signed requests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..contract.secret import Secret
from ..contract.signing import voice_signing_headers
from .errors import raise_for_status

__all__ = ["VoiceApplications"]


class VoiceApplications:
    """``GET`` / ``POST /v1/configuration/callbacks/applications/{key}`` (reference/sinch-wire.md §5)."""

    def __init__(
        self, base_url: str, application_key: str, application_secret: Secret, client: httpx.Client | None = None
    ) -> None:
        self.base_url, self.key, self.secret = base_url, application_key, application_secret
        self.client = client or httpx.Client(timeout=15)

    def _request(self, method: str, body: dict[str, Any] | None = None) -> httpx.Response:
        path = f"/v1/configuration/callbacks/applications/{self.key}"
        content = json.dumps(body).encode() if body is not None else b""
        headers = voice_signing_headers(method, path, content, self.key, self.secret.reveal())
        return self.client.request(method, f"{self.base_url}{path}", content=content, headers=headers)

    def callback_urls(self) -> dict[str, str | None]:
        """``{"primary": …, "fallback": …}`` as configured now."""
        response = self._request("GET")
        raise_for_status(response, f"reading Voice App {self.key}'s callback URLs")
        url = response.json().get("url") or {}
        return {"primary": url.get("primary"), "fallback": url.get("fallback")}

    def set_callback_urls(self, primary: str | None, fallback: str | None) -> None:
        """Point the app's callbacks at ``primary`` (and ``fallback``, sent even when primary is empty)."""
        url = {k: v for k, v in (("primary", primary), ("fallback", fallback)) if v is not None}
        response = self._request("POST", {"url": url})
        raise_for_status(response, f"updating Voice App {self.key}'s callback URLs")
