"""The notebook's ``Transport`` (``functions/rest.py``): httpx under the clients the Function runs too."""

from __future__ import annotations

import httpx

__all__ = ["HttpxTransport"]


class HttpxTransport:
    """Send a request with ``client`` and hand back its status, headers and body; transport errors propagate."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, /
    ) -> tuple[int, dict[str, str], bytes]:
        response = self.client.request(method, url, headers=headers, content=body)
        return response.status_code, dict(response.headers), response.content
