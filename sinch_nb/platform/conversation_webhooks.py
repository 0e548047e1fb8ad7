"""Conversation API webhooks: create one pointing at the tunnel, delete it afterwards (OAuth bearer)."""

from __future__ import annotations

from typing import Any

import httpx

from .errors import raise_for_status
from .oauth import TokenSource

__all__ = ["DEFAULT_TRIGGERS", "ConversationWebhooks"]

DEFAULT_TRIGGERS = ("MESSAGE_INBOUND", "MESSAGE_DELIVERY", "EVENT_INBOUND")


class ConversationWebhooks:
    """``/v1/projects/{project}/webhooks`` and ``/v1/projects/{project}/apps/{app}/webhooks``."""

    def __init__(self, base_url: str, project_id: str, tokens: TokenSource, client: httpx.Client | None = None) -> None:
        self.base_url, self.project_id, self.tokens = base_url, project_id, tokens
        self.client = client or httpx.Client(timeout=15)

    def create(self, app_id: str, target: str, secret: str, triggers: tuple[str, ...] = DEFAULT_TRIGGERS) -> str:
        """Create a webhook; returns its id."""
        body = {"app_id": app_id, "target": target, "target_type": "HTTP", "triggers": list(triggers), "secret": secret}
        response = self.client.post(
            f"{self.base_url}/v1/projects/{self.project_id}/webhooks", json=body, headers=self.tokens.headers()
        )
        raise_for_status(response, f"creating a Conversation webhook for app {app_id}")
        return str(response.json()["id"])

    def list(self, app_id: str) -> list[dict[str, Any]]:
        """The app's webhooks."""
        response = self.client.get(
            f"{self.base_url}/v1/projects/{self.project_id}/apps/{app_id}/webhooks", headers=self.tokens.headers()
        )
        raise_for_status(response, f"listing the Conversation webhooks of app {app_id}")
        return list(response.json().get("webhooks", []))

    def delete(self, webhook_id: str) -> None:
        """Delete a webhook (gone already counts as done)."""
        response = self.client.delete(
            f"{self.base_url}/v1/projects/{self.project_id}/webhooks/{webhook_id}", headers=self.tokens.headers()
        )
        if response.status_code != 404:
            raise_for_status(response, f"deleting Conversation webhook {webhook_id}")
