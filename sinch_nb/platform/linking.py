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


def _shared_path(application_key: str) -> Path:
    return Path.home() / ".sinch_nb" / "voice-apps" / f"{application_key}.json"


def _shared_original(application_key: str, current: dict[str, Any], *, held: bool) -> dict[str, Any]:
    """The callback URLs a Voice App had before any notebook of this user linked it.

    The first notebook to link it records them (``~/.sinch_nb/voice-apps/<key>.json``); one that takes
    it over from another notebook (``held``) reads them there, so the last to stop restores them.
    """
    path = _shared_path(application_key)
    if held:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current))
    return current


def _is_notebook_runtime(url: str) -> bool:
    """Whether ``url`` is a live sinch_nb runtime (another notebook's tunnel), by its ``/health``."""
    try:
        answer = httpx.get(f"{url.rstrip('/')}/health", timeout=3)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.headers.get("x-sinch-nb-runtime") == "1"  # runtime.replies


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

    def link(self, public_url: str, *, force: bool = False) -> list[str]:
        """Point what the credentials allow at ``public_url``; returns what to tell the user.

        A Voice App another notebook's runtime holds is taken over only with ``force``.
        """
        messages = self.restore()
        voice, webhooks = self._voice(), self._webhooks()
        if voice is None and webhooks is None:
            messages.append(
                "No Voice App or Conversation App linked: set VOICE_APPLICATION_KEY and VOICE_APPLICATION_SECRET "
                "(and PROJECT_ID, PROJECT_ID_API_KEY, PROJECT_ID_API_SECRET, CONVERSATION_APP_ID for messaging)"
            )
        if voice is not None:
            original = voice.callback_urls()
            current = original.get("primary")
            held_by = current if current and current != public_url and _is_notebook_runtime(current) else None
            if held_by and not force:
                raise PlatformError(
                    f"Voice App {voice.key} already points at another notebook's runtime ({held_by}): stop that "
                    "one first, or start with --force (sn.start(force=True)) to take it over"
                )
            original = _shared_original(voice.key, original, held=held_by is not None)
            link = {"application_key": voice.key, "original": original, "linked_to": public_url, "taken_from": held_by}
            self._save({**self._load(), "voice": link})
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
                messages.append(self._restore_voice(voice, voice_state))
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

    @staticmethod
    def _restore_voice(voice: VoiceApplications, link: dict[str, Any]) -> str:
        """Put the callback URL back, only if it still points at this notebook's tunnel.

        Taken over from another notebook's runtime that still runs: handed back to it. Otherwise
        the URL the Voice App had before any notebook linked it (kept per user, ``_shared_original``).
        """
        original, ours, taken_from = link["original"], link.get("linked_to"), link.get("taken_from")
        current = voice.callback_urls().get("primary")
        if ours is not None and current != ours:  # someone (another notebook, the dashboard) changed it since
            return f"Voice App {voice.key} now points at {current or 'no callback URL'}, not here: left as it is"
        if taken_from and _is_notebook_runtime(taken_from):
            voice.set_callback_urls(taken_from, original.get("fallback"))
            return f"Voice App {voice.key} handed back to the notebook that held it ({taken_from})"
        voice.set_callback_urls(original.get("primary"), original.get("fallback"))
        _shared_path(voice.key).unlink(missing_ok=True)
        return f"Voice App {voice.key} callback restored to {original.get('primary') or 'none'}"

    def safe_restore(self) -> list[str]:
        """``restore`` that reports failures instead of raising (interpreter exit)."""
        try:
            return self.restore()
        except (PlatformError, OSError, httpx.HTTPError) as error:
            return [f"could not restore the links ({error}); the next %sinch start retries"]
