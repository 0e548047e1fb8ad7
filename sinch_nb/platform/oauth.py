"""OAuth 2.0 client-credentials tokens for the project access key, cached until shortly before expiry.

``functions/rest.py``'s ``TokenSource`` (shared with the deployed Function) over httpx.
"""

from __future__ import annotations

import httpx

from ..functions import rest
from ..functions.secret import Secret
from .http import HttpxTransport

__all__ = ["TokenSource"]


class TokenSource(rest.TokenSource):
    """Bearer tokens from ``POST {auth}/oauth2/token`` with Basic key_id:key_secret, over httpx."""

    def __init__(self, auth_url: str, key_id: str, key_secret: Secret, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=15)
        super().__init__(auth_url, key_id, key_secret, HttpxTransport(self.client))
