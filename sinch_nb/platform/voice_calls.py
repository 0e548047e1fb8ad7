"""``context.voice``: callouts, call updates and leg management, conferences (Voice API v1, application-signed)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..functions.svaml import SvamlBuilder
from .errors import raise_for_status
from .signed import ApplicationSignedClient

__all__ = ["VoiceClient"]

Svaml = SvamlBuilder | dict[str, Any]


def _svaml(value: Svaml) -> dict[str, Any]:
    return value.build() if isinstance(value, SvamlBuilder) else dict(value)


def _destination(to: str, kind: str = "number") -> dict[str, str]:
    return {"type": kind, "endpoint": to}


class VoiceClient(ApplicationSignedClient):
    """The Calling API at ``base_url`` (``https://calling.api.sinch.com`` or a regional host)."""

    def __repr__(self) -> str:
        return f"<VoiceClient {self.base_url} app {self.key}>"

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        response = self.signed(method, path, body)
        raise_for_status(response, f"{method} {path}")
        return response

    # Callouts -------------------------------------------------------------

    def _callout(self, method: str, fields: dict[str, Any]) -> str:
        body = {"method": method, method: {k: v for k, v in fields.items() if v is not None}}
        return str(self._request("POST", "/calling/v1/callouts", body).json()["callId"])

    def tts_callout(
        self,
        to: str,
        text: str | None = None,
        *,
        cli: str | None = None,
        locale: str = "en-US",
        prompts: str | None = None,
        dtmf: str | None = None,
        domain: str | None = None,
        custom: str | None = None,
        enable_ace: bool | None = None,
        enable_dice: bool | None = None,
        enable_pie: bool | None = None,
    ) -> str:
        """Call ``to`` and speak ``text`` (or play ``prompts``); returns the call id."""
        return self._callout(
            "ttsCallout",
            {
                "cli": cli,
                "destination": _destination(to),
                "dtmf": dtmf,
                "domain": domain,
                "custom": custom,
                "locale": locale,
                "text": text,
                "prompts": prompts,
                "enableAce": enable_ace,
                "enableDice": enable_dice,
                "enablePie": enable_pie,
            },
        )

    def custom_callout(
        self,
        to: str | None = None,
        *,
        ice: Svaml | str | None = None,
        ace: Svaml | str | None = None,
        pie: Svaml | str | None = None,
        cli: str | None = None,
        custom: str | None = None,
        max_duration: int | None = None,
        dtmf: str | None = None,
    ) -> str:
        """A callout driven by SVAML: ``ice``/``ace``/``pie`` are SVAML (sent as JSON strings) or callback URLs."""

        def encoded(value: Svaml | str | None) -> str | None:
            return value if isinstance(value, str) or value is None else json.dumps(_svaml(value))

        return self._callout(
            "customCallout",
            {
                "cli": cli,
                "destination": _destination(to) if to else None,
                "dtmf": dtmf,
                "custom": custom,
                "maxDuration": max_duration,
                "ice": encoded(ice),
                "ace": encoded(ace),
                "pie": encoded(pie),
            },
        )

    def conference_callout(
        self,
        to: str,
        conference_id: str,
        *,
        cli: str | None = None,
        greeting: str | None = None,
        locale: str | None = None,
        moh_class: str | None = None,
        max_duration: int | None = None,
        enable_ace: bool | None = None,
        enable_dice: bool | None = None,
        custom: str | None = None,
    ) -> str:
        """Call ``to`` and put them in conference ``conference_id``."""
        return self._callout(
            "conferenceCallout",
            {
                "cli": cli,
                "destination": _destination(to),
                "conferenceId": conference_id,
                "greeting": greeting,
                "locale": locale,
                "mohClass": moh_class,
                "maxDuration": max_duration,
                "enableAce": enable_ace,
                "enableDice": enable_dice,
                "custom": custom,
            },
        )

    # Calls ----------------------------------------------------------------

    def get_call(self, call_id: str) -> dict[str, Any]:
        """The call's state."""
        result: dict[str, Any] = self._request("GET", f"/calling/v1/calls/id/{call_id}").json()
        return result

    def update_call(self, call_id: str, svaml: Svaml) -> None:
        """Send new SVAML to a call in progress (e.g. say + hangup)."""
        self._request("PATCH", f"/calling/v1/calls/id/{call_id}", _svaml(svaml))

    def manage_leg(self, call_id: str, leg: str, svaml: Svaml) -> None:
        """SVAML for one leg: ``caller``, ``callee`` or ``both``."""
        if leg not in ("caller", "callee", "both"):
            raise ValueError(f"leg is caller, callee or both; got {leg!r}")
        self._request("PATCH", f"/calling/v1/calls/id/{call_id}/leg/{leg}", _svaml(svaml))

    # Conferences ----------------------------------------------------------

    def get_conference(self, conference_id: str) -> dict[str, Any]:
        """The conference and its participants."""
        result: dict[str, Any] = self._request("GET", f"/calling/v1/conferences/id/{conference_id}").json()
        return result

    def kick_all(self, conference_id: str) -> None:
        """End the conference for everyone."""
        self._request("DELETE", f"/calling/v1/conferences/id/{conference_id}")

    def kick(self, conference_id: str, call_id: str) -> None:
        """Remove one participant."""
        self._request("DELETE", f"/calling/v1/conferences/id/{conference_id}/{call_id}")

    def manage_participant(self, conference_id: str, call_id: str, command: str, moh: str | None = None) -> None:
        """``mute``, ``unmute``, ``onhold`` or ``resume`` a participant."""
        if command not in ("mute", "unmute", "onhold", "resume"):
            raise ValueError(f"command is mute, unmute, onhold or resume; got {command!r}")
        body = {"command": command, **({"moh": moh} if moh else {})}
        self._request("PATCH", f"/calling/v1/conferences/id/{conference_id}/{call_id}", body)
