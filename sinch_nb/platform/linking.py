"""Point the Voice App, a Voice API v2 service and a Conversation webhook at the notebook, and put them back.

What must be restored is written to ``.sinch_nb/links.json`` *before* anything changes,
so a crash (kernel killed, laptop closed) is undone by the next start. The webhook's
generated secret is kept in memory only. The v1 Voice App's callback URL and the v2
service's ``callBehavior`` follow the same rules: what they had before any notebook of this
user linked them is kept per user (``~/.sinch_nb/``), one another notebook's runtime holds
is taken over only with ``force``, and each is put back only if it still points here.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx

from ..functions.secret import Secret
from . import hosts
from .conversation_webhooks import ConversationWebhooks
from .credentials import Credentials, Lookup
from .errors import PlatformError
from .oauth import TokenSource
from .voice_apps import VoiceApplications
from .voice_services import VoiceServices, describe_behavior, webhook_behavior, webhook_url

__all__ = ["Linker"]


def _shared_path(key: str, kind: str = "voice-apps") -> Path:
    return Path.home() / ".sinch_nb" / kind / f"{key}.json"


def _shared_original(key: str, current: Any, *, held: bool, kind: str = "voice-apps") -> Any:
    """What a Voice App (callback URLs) or v2 service (``kind="voice-services"``, its ``callBehavior``)
    had before any notebook of this user linked it.

    The first notebook to link it records it (``~/.sinch_nb/<kind>/<key>.json``); one that takes
    it over from another notebook (``held``) reads it there, so the last to stop restores it.
    """
    path = _shared_path(key, kind)
    if held:
        try:
            return json.loads(path.read_text())
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


def _fallback(behavior: dict[str, Any] | None) -> str | None:
    """A ``WEBHOOK`` behaviour's ``fallbackUrl`` (kept while linked, as the v1 fallback URL is)."""
    if not behavior or behavior.get("type") != "WEBHOOK":
        return None
    fallback = (behavior.get("webhook") or {}).get("fallbackUrl")
    return str(fallback) if fallback else None


class Linker:
    """Links for one notebook folder; ``messages`` say what happened, for the cell to print."""

    def __init__(self, state_dir: Path, credentials: Credentials, lookup: Lookup) -> None:
        self.path = state_dir / "links.json"
        self.credentials = credentials
        self.lookup = lookup
        self.webhook_secret: Secret | None = None
        self._token_source: TokenSource | None = None

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

    def _tokens(self) -> TokenSource | None:
        c = self.credentials
        if not (c.project_id and c.key_id and c.key_secret):
            return None
        if self._token_source is None:
            self._token_source = TokenSource(hosts.auth_url(self.lookup), c.key_id, c.key_secret)
        return self._token_source

    def _webhooks(self) -> ConversationWebhooks | None:
        c, tokens = self.credentials, self._tokens()
        if tokens is None or not (c.project_id and c.conversation_app_id):
            return None
        return ConversationWebhooks(hosts.conversation_url(self.lookup), c.project_id, tokens)

    def _service(self) -> VoiceServices | None:
        c, tokens = self.credentials, self._tokens()
        if tokens is None or not (c.project_id and c.voice_service_id):
            return None
        return VoiceServices(hosts.voice_v2_url(self.lookup), c.project_id, c.voice_service_id, tokens)

    def _v2_note(self) -> str | None:
        """Why no Voice API v2 service is linked, when the credentials suggest one was meant to be."""
        c = self.credentials
        project = c.project_id and c.key_id and c.key_secret
        if project and not c.voice_service_id:
            return (
                "Voice API v2: no Voice service linked (VOICE_SERVICE_ID is not set); set it to point a "
                "service's webhook here too"
            )
        if c.voice_service_id and not project:
            return (
                f"Voice API v2: Voice service {c.voice_service_id} not linked: it needs PROJECT_ID, "
                "PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET"
            )
        return None

    # Linking --------------------------------------------------------------

    def link(self, public_url: str, *, force: bool = False) -> list[str]:
        """Point what the credentials allow at ``public_url``; returns what to tell the user.

        A Voice App or Voice service another notebook's runtime holds is taken over only with
        ``force``; both are checked before anything changes.
        """
        messages = self.restore()
        voice, service, webhooks = self._voice(), self._service(), self._webhooks()
        if voice is None and service is None and webhooks is None:
            messages.append(
                "No Voice App, Voice service or Conversation App linked: set VOICE_APPLICATION_KEY and "
                "VOICE_APPLICATION_SECRET (Voice API v1), PROJECT_ID, PROJECT_ID_API_KEY, PROJECT_ID_API_SECRET "
                "with VOICE_SERVICE_ID (Voice API v2) or CONVERSATION_APP_ID (messaging)"
            )
        note = self._v2_note()
        if note:
            messages.append(note)
        service_url = f"{public_url}/"  # v2 events are CloudEvents on POST /, beside the v1 callbacks
        voice_plan = self._plan_voice(voice, public_url, force) if voice is not None else None
        service_plan = self._plan_service(service, service_url, force) if service is not None else None
        if voice is not None and voice_plan is not None:
            original, held_by = voice_plan
            original = _shared_original(voice.key, original, held=held_by is not None)
            link = {"application_key": voice.key, "original": original, "linked_to": public_url, "taken_from": held_by}
            self._save({**self._load(), "voice": link})
            voice.set_callback_urls(public_url, original.get("fallback"))
            was = original.get("primary") or "no callback URL"
            messages.append(f"Voice App {voice.key} callback now points here (was {was})")
            messages.append("Warning: live calls to this Voice App now reach this notebook, until %sinch stop")
        if service is not None and service_plan is not None:
            behavior, held_by = service_plan
            behavior = _shared_original(service.service_id, behavior, held=held_by is not None, kind="voice-services")
            self._save(
                {
                    **self._load(),
                    "voice_service": {
                        "service_id": service.service_id,
                        "original": behavior,
                        "linked_to": service_url,
                        "taken_from": held_by,
                    },
                }
            )
            service.set_call_behavior(webhook_behavior(service_url, _fallback(behavior)))
            was_behavior = describe_behavior(behavior)
            messages.append(f"Voice service {service.service_id} (API v2) webhook now points here (was {was_behavior})")
            messages.append("Warning: live calls to this Voice service now reach this notebook, until %sinch stop")
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

    @staticmethod
    def _plan_voice(voice: VoiceApplications, public_url: str, force: bool) -> tuple[dict[str, Any], str | None]:
        """The Voice App's callback URLs now, and the notebook runtime holding it; refuses without ``force``."""
        original = voice.callback_urls()
        current = original.get("primary")
        held_by = current if current and current != public_url and _is_notebook_runtime(current) else None
        if held_by and not force:
            raise PlatformError(
                f"Voice App {voice.key} already points at another notebook's runtime ({held_by}): stop that "
                "one first, or start with --force (sn.start(force=True)) to take it over"
            )
        return original, held_by

    @staticmethod
    def _plan_service(service: VoiceServices, target: str, force: bool) -> tuple[dict[str, Any] | None, str | None]:
        """The service's ``callBehavior`` now, exactly, and the notebook runtime holding it; refuses without force."""
        behavior = service.call_behavior()
        current = webhook_url(behavior)
        held_by = current if current and current != target and _is_notebook_runtime(current) else None
        if held_by and not force:
            raise PlatformError(
                f"Voice service {service.service_id} already points at another notebook's runtime ({held_by}): "
                "stop that one first, or start with --force (sn.start(force=True)) to take it over"
            )
        return behavior, held_by

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
        service_state = state.get("voice_service")
        if service_state:
            service = self._service()
            if service is None or service.service_id != service_state["service_id"]:
                messages.append(
                    f"Voice service {service_state['service_id']} still points at a notebook tunnel: its credentials "
                    f"are not set here, so restore its callBehavior by hand to {json.dumps(service_state['original'])}"
                )
            else:
                messages.append(self._restore_service(service, service_state))
                state.pop("voice_service")
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

    @staticmethod
    def _restore_service(service: VoiceServices, link: dict[str, Any]) -> str:
        """Put the service's ``callBehavior`` back exactly, only if it still points at this notebook's tunnel."""
        original, ours, taken_from = link.get("original"), link.get("linked_to"), link.get("taken_from")
        name = f"Voice service {service.service_id}"
        current = service.call_behavior()
        if ours is not None and webhook_url(current) != ours:
            return f"{name} now points at {describe_behavior(current)}, not here: left as it is"
        if taken_from and _is_notebook_runtime(taken_from):
            service.set_call_behavior(webhook_behavior(taken_from, _fallback(original)))
            return f"{name} handed back to the notebook that held it ({taken_from})"
        service.set_call_behavior(original if original else {"type": "NONE"})
        _shared_path(service.service_id, "voice-services").unlink(missing_ok=True)
        return f"{name} call behaviour restored to {describe_behavior(original)}"

    def safe_restore(self) -> list[str]:
        """``restore`` that reports failures instead of raising (interpreter exit)."""
        try:
            return self.restore()
        except (PlatformError, OSError, httpx.HTTPError) as error:
            return [f"could not restore the links ({error}); the next %sinch start retries"]
