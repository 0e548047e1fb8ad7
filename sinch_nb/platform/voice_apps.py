"""A Voice App's callback URLs (Voice API v1 application management), over application-signed requests."""

from __future__ import annotations

from typing import Any

import httpx

from .errors import raise_for_status
from .signed import ApplicationSignedClient

__all__ = ["VoiceApplications"]


class VoiceApplications(ApplicationSignedClient):
    """``GET`` / ``POST /v1/configuration/callbacks/applications/{key}`` (reference/sinch-wire.md §5)."""

    def _request(self, method: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.signed(method, f"/v1/configuration/callbacks/applications/{self.key}", body)

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
