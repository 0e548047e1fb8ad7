"""Point the Voice App and a Conversation webhook at the notebook, and put everything back afterwards.

What must be restored is written to ``.sinch_nb/links.json`` *before* anything changes,
so a crash (kernel killed, laptop closed) is undone by the next start. The webhook's
generated secret is kept in memory only.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx

from ..contract.secret import Secret
from . import hosts
from .conversation_webhooks import ConversationWebhooks
from .credentials import Credentials, Lookup
from .errors import PlatformError
from .oauth import TokenSource
from .voice_apps import VoiceApplications

__all__ = ["Linker"]


class Linker:
    """Links for one notebook folder; ``messages`` say what happened, for the cell to print."""

    def __init__(self, state_dir: Path, credentials: Credentials, lookup: Lookup) -> None:
        self.path = state_dir / "links.json"
        self.credentials = credentials
        self.lookup = lookup
        self.webhook_secret: Secret | None = None

    # State ----------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w") as file:
            json.dump(state, file)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)

    def pending(self) -> dict[str, Any]:
        """What is linked now (or was, when a crash left it)."""
        return self._load()

    # Clients --------------------------------------------------------------

    def _voice(self) -> VoiceApplications | None:
        c = self.credentials
        if not (c.application_key and c.application_secret):
            return None
        return VoiceApplications(hosts.voice_management_url(self.lookup), c.application_key, c.application_secret)

    def _webhooks(self) -> ConversationWebhooks | None:
        c = self.credentials
        if not (c.project_id and c.key_id and c.key_secret and c.conversation_app_id):
            return None
        tokens = TokenSource(hosts.auth_url(self.lookup), c.key_id, c.key_secret)
        return ConversationWebhooks(hosts.conversation_url(self.lookup), c.project_id, tokens)

    # Linking --------------------------------------------------------------

    def link(self, public_url: str) -> list[str]:
        """Point what the credentials allow at ``public_url``; returns what to tell the user."""
        messages = self.restore()
        voice, webhooks = self._voice(), self._webhooks()
        if voice is None and webhooks is None:
            messages.append(
                "No Voice App or Conversation App linked: set VOICE_APPLICATION_KEY and VOICE_APPLICATION_SECRET "
                "(and PROJECT_ID, PROJECT_ID_API_KEY, PROJECT_ID_API_SECRET, CONVERSATION_APP_ID for messaging)"
            )
        if voice is not None:
            original = voice.callback_urls()
            self._save({**self._load(), "voice": {"application_key": voice.key, "original": original}})
            voice.set_callback_urls(public_url, original.get("fallback"))
            was = original.get("primary") or "no callback URL"
            messages.append(f"Voice App {voice.key} callback now points here (was {was})")
            messages.append("Warning: live calls to this Voice App now reach this notebook, until %sinch stop")
        if webhooks is not None:
            app_id = str(self.credentials.conversation_app_id)
            target = f"{public_url}/webhook/conversation"
            self._save({**self._load(), "conversation": {"app_id": app_id, "target": target, "webhook_id": None}})
            secret = secrets.token_urlsafe(24)
            webhook_id = webhooks.create(app_id, target, secret)
            self.webhook_secret = Secret(secret)
            state = self._load()
            state["conversation"]["webhook_id"] = webhook_id
            self._save(state)
            messages.append(f"Conversation App {app_id}: webhook {webhook_id} now posts here (signed)")
        return messages

    def restore(self) -> list[str]:
        """Undo every recorded link (this session's, or one a crash left); returns what was done."""
        state = self._load()
        messages: list[str] = []
        voice_state = state.get("voice")
        if voice_state:
            voice = self._voice()
            if voice is None or voice.key != voice_state["application_key"]:
                messages.append(
                    f"Voice App {voice_state['application_key']} still points at a notebook tunnel: its credentials "
                    f"are not set here, so restore it by hand to {voice_state['original']}"
                )
            else:
                original = voice_state["original"]
                voice.set_callback_urls(original.get("primary"), original.get("fallback"))
                messages.append(f"Voice App {voice.key} callback restored to {original.get('primary') or 'none'}")
                state.pop("voice")
                self._save(state)
        conversation_state = state.get("conversation")
        if conversation_state:
            webhooks = self._webhooks()
            if webhooks is None:
                messages.append(
                    f"Conversation webhook for app {conversation_state['app_id']} to {conversation_state['target']} "
                    "remains: set the project credentials to remove it, or delete it in the dashboard"
                )
            else:
                ids = [conversation_state["webhook_id"]] if conversation_state.get("webhook_id") else []
                if not ids:  # the crash came between create and record: find it by its target
                    ids = [
                        str(w["id"])
                        for w in webhooks.list(conversation_state["app_id"])
                        if w.get("target") == conversation_state["target"]
                    ]
                for webhook_id in ids:
                    webhooks.delete(webhook_id)
                    messages.append(f"Conversation webhook {webhook_id} deleted")
                state.pop("conversation")
                self._save(state)
        self.webhook_secret = None
        return messages

    def safe_restore(self) -> list[str]:
        """``restore`` that reports failures instead of raising (interpreter exit)."""
        try:
            return self.restore()
        except (PlatformError, OSError, httpx.HTTPError) as error:
            return [f"could not restore the links ({error}); the next %sinch start retries"]
