"""A Voice API v2 service's call behaviour (where its calls go), over the project's OAuth token.

``GET`` / ``PATCH /v2/projects/{projectId}/services/{serviceId}`` (reference/sinch-voice-v2.md §7).
Linking keeps ``callBehavior`` exactly as Sinch returned it and sends it back unchanged to
restore; only ``callBehavior`` is ever sent (never ``isDefault``, which the API refuses as
``false``). Plain httpx rather than the ``sinch`` SDK's ``voice.v2.services``: SDK 2.3.0 requires
a ``serviceSecret`` in every service answer (the API does not document one), and restores
only from its own parsed model, so the behaviour would not come back byte for byte.
"""

from __future__ import annotations

from typing import Any

import httpx

from .errors import raise_for_status
from .oauth import TokenSource

__all__ = ["VoiceServices", "describe_behavior", "webhook_behavior", "webhook_url"]


def webhook_url(behavior: dict[str, Any] | None) -> str | None:
    """The URL a ``WEBHOOK`` behaviour posts to; None for ``STATIC``, ``NONE`` or none."""
    if not behavior or behavior.get("type") != "WEBHOOK":
        return None
    url = (behavior.get("webhook") or {}).get("url")
    return str(url) if url else None


def webhook_behavior(url: str, fallback_url: str | None = None) -> dict[str, Any]:
    """``{"type": "WEBHOOK", "webhook": {"url": …, "fallbackUrl": …}}`` (the fallback only when given)."""
    webhook = {"url": url, **({"fallbackUrl": fallback_url} if fallback_url else {})}
    return {"type": "WEBHOOK", "webhook": webhook}


def describe_behavior(behavior: dict[str, Any] | None) -> str:
    """A call behaviour in a few words, for messages."""
    kind = (behavior or {}).get("type")
    if kind == "WEBHOOK":
        return webhook_url(behavior) or "a webhook without a URL"
    if kind == "STATIC":
        commands = ((behavior or {}).get("static") or {}).get("commands") or []
        return f"a STATIC call flow ({len(commands)} commands)"
    if kind == "NONE":
        return "NONE (no call behaviour)"
    return "no call behaviour"


class VoiceServices:
    """One Voice API v2 service of a project: read and change its ``callBehavior``."""

    def __init__(
        self,
        base_url: str,
        project_id: str,
        service_id: str,
        tokens: TokenSource,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url, self.project_id, self.service_id, self.tokens = base_url, project_id, service_id, tokens
        self.client = client or httpx.Client(timeout=15)

    def __repr__(self) -> str:
        return f"<VoiceServices {self.base_url} service {self.service_id}>"

    @property
    def _url(self) -> str:
        return f"{self.base_url}/v2/projects/{self.project_id}/services/{self.service_id}"

    def service(self) -> dict[str, Any]:
        """The service as Sinch returns it."""
        response = self.client.get(self._url, headers=self.tokens.headers())
        raise_for_status(response, f"reading Voice service {self.service_id} (VOICE_SERVICE_ID)")
        result: dict[str, Any] = response.json()
        return result

    def call_behavior(self) -> dict[str, Any] | None:
        """``callBehavior`` exactly as returned (None when the service has none)."""
        behavior = self.service().get("callBehavior")
        return dict(behavior) if isinstance(behavior, dict) else None

    def set_call_behavior(self, behavior: dict[str, Any]) -> None:
        """``PATCH {"callBehavior": behavior}``: nothing else on the service changes."""
        response = self.client.patch(self._url, json={"callBehavior": behavior}, headers=self.tokens.headers())
        raise_for_status(response, f"updating Voice service {self.service_id}'s call behaviour")
