"""OAuth 2.0 client-credentials tokens for the project access key, cached until shortly before expiry."""

from __future__ import annotations

import threading
import time

import httpx

from ..contract.secret import Secret
from .errors import raise_for_status

__all__ = ["TokenSource"]


class TokenSource:
    """Bearer tokens from ``POST {auth}/oauth2/token`` with Basic key_id:key_secret."""

    def __init__(self, auth_url: str, key_id: str, key_secret: Secret, client: httpx.Client | None = None) -> None:
        self.auth_url, self.key_id, self.key_secret = auth_url, key_id, key_secret
        self.client = client or httpx.Client(timeout=15)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid access token (fetched when missing or within a minute of expiry)."""
        with self._lock:
            if self._token is None or self._token[1] - 60 < time.monotonic():
                response = self.client.post(
                    f"{self.auth_url}/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.key_id, self.key_secret.reveal()),
                )
                raise_for_status(response, "getting an OAuth token")
                data = response.json()
                self._token = (str(data["access_token"]), time.monotonic() + float(data.get("expires_in", 3600)))
            return self._token[0]

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer …``."""
        return {"Authorization": f"Bearer {self.token()}"}
