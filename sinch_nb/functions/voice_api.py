"""``context.voice``: Voice API v1 callouts, call updates and leg management, conferences (application-signed),
and Voice API v2 calls (``call``, the project's OAuth token), over a ``Transport`` (``rest.py``).

One object for both: a v1 method without the Voice App's key and secret, or ``call`` without the
project's credentials, raises ``CredentialsError`` naming the variables. Standard library only:
the notebook's ``context.voice`` (``platform/voice_calls.py``, over httpx) and the deployed
Function's (over Node's ``fetch``) are these classes, so both build every request the same way.

v2 calls are built here, not by the ``sinch`` SDK's ``voice.v2.calls.start``: SDK 2.3.0 validates
the commands against its own models, which take the ``webhook`` command only under its SDK name
``customEvent`` (reference/sinch-voice-v2.md §2), so a flow written in the wire format the
platform documents, and that sinch_nb's builders emit, would be refused before it was sent.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlencode

from .clients import MissingClient
from .errors import SvamlError
from .rest import TokenSource, Transport, check_status, send_json
from .secret import Secret
from .signing import voice_signing_headers
from .svaml import SvamlBuilder

__all__ = ["VoiceClient", "VoiceV2Client", "flow_commands"]

Svaml = SvamlBuilder | dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")


def _svaml(value: Svaml) -> dict[str, Any]:
    return value.build() if isinstance(value, SvamlBuilder) else dict(value)


def _destination(to: str, kind: str = "number") -> dict[str, str]:
    return {"type": kind, "endpoint": to}


_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_NAME = re.compile(r"\S{1,32}")


def flow_commands(flow: Any, field: str = "flow") -> list[dict[str, Any]]:
    """A v2 flow as its command list: a ``{"commands": [...]}`` dict, a list of command dicts, a
    builder (anything whose ``build()`` returns ``{"commands": [...]}``), or a callable given a fresh builder."""
    if callable(flow) and not callable(getattr(flow, "build", None)):
        from .commands import commands as new_builder

        fresh = new_builder()
        flow = flow(fresh) or fresh
    built = flow.build() if callable(getattr(flow, "build", None)) else flow
    commands = built.get("commands") if isinstance(built, Mapping) else built
    if isinstance(commands, Sequence) and not isinstance(commands, str | bytes):
        listed = list(commands)
        for index, command in enumerate(listed):
            if not (isinstance(command, Mapping) and isinstance(command.get("command"), str)):
                raise SvamlError(
                    f"{field}[{index}]: a Voice API v2 command is a dict with a 'command' key "
                    f"(e.g. {{'command': 'hangup'}}); got {command!r}"
                )
        return [dict(command) for command in listed]
    v1 = isinstance(built, Mapping) and ("instructions" in built or "action" in built)
    raise SvamlError(
        f"{field}: a Voice API v2 flow is a {{'commands': [...]}} dict, a list of command dicts, or a builder "
        f"whose build() returns {{'commands': [...]}}; got {type(flow).__name__}"
        + (" (Voice API v1 SVAML: instructions and an action; for v1 use custom_callout)" if v1 else "")
    )


def _party(value: str | Mapping[str, Any], field: str) -> dict[str, Any]:
    """``+15551234567`` → PHONE, ``sip:…`` → SIP; a dict is sent as it is (STREAM, VOICE_RELAY, callHeaders…)."""
    if isinstance(value, Mapping):
        if not isinstance(value.get("type"), str):
            raise SvamlError(f"{field}: a destination dict needs its 'type' (PHONE, SIP, STREAM, VOICE_RELAY)")
        return dict(value)
    text = str(value).strip()
    if text.startswith(("sip:", "sips:")):
        return {"type": "SIP", "sip": {"endpoint": text}}
    if _E164.fullmatch(text):
        return {"type": "PHONE", "phone": {"number": text}}
    raise SvamlError(
        f"{field}: a phone number in E.164 (+15551234567), a sip: URI, or a dict such as "
        f"{{'type': 'STREAM', 'stream': {{'endpoint': 'wss://…'}}}}; got {value!r}"
    )


def _bounded(value: int | None, field: str, wire: str, low: int, high: int) -> dict[str, int]:
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SvamlError(f"dial {wire} ({field}): a whole number of seconds from {low} to {high}; got {value!r}")
    return {wire: value}


class VoiceV2Client:
    """Voice API v2 calls, ``/v2/projects/{projectId}/calls`` on ``base_url`` (reference/sinch-voice-v2.md §7)."""

    def __init__(
        self,
        base_url: str,
        project_id: str,
        tokens: TokenSource,
        service_id: str | None = None,
        *,
        transport: Transport,
    ) -> None:
        self.base_url, self.project_id, self.tokens, self.service_id = base_url, project_id, tokens, service_id
        self.transport = transport

    def __repr__(self) -> str:
        return f"<VoiceV2Client {self.base_url} project {self.project_id} service {self.service_id or 'default'}>"

    def start(self, flow: Any, *, service_id: str | None = None) -> dict[str, Any]:
        """``POST /calls`` with any flow (its first command normally a ``dial``); returns Sinch's answer."""
        body = {"commands": flow_commands(flow, "commands")}
        service = service_id or self.service_id
        headers = {**self.tokens.headers(), "Idempotency-Key": str(uuid.uuid4())}  # a retry never calls twice
        query = f"?{urlencode({'serviceId': service})}" if service else ""
        url = f"{self.base_url}/v2/projects/{self.project_id}/calls{query}"
        what = "starting a Voice API v2 call (POST /v2/projects/{projectId}/calls)"
        result: dict[str, Any] = send_json(self.transport, "POST", url, headers, body, what)
        return result

    def call(
        self,
        to: str | Mapping[str, Any],
        *,
        from_: str | Mapping[str, Any] | None = None,
        on_answer: Any = None,
        on_busy: Any = None,
        on_reject: Any = None,
        on_timeout: Any = None,
        on_hangup: Any = None,
        on_failure: Any = None,
        call_name: str | None = None,
        dial_timeout: int | None = None,
        max_duration: int | None = None,
        service_id: str | None = None,
    ) -> dict[str, Any]:
        """Call ``to`` (``+E.164``, a ``sip:`` URI, or a destination dict); see ``VoiceClient.call``."""
        dial: dict[str, Any] = {"command": "dial", "to": _party(to, "to")}
        if from_ is not None:
            dial["from"] = _party(from_, "from_")
        if call_name is not None:
            if not _NAME.fullmatch(call_name):
                raise SvamlError(f"dial callName (call_name): 1 to 32 characters, no whitespace; got {call_name!r}")
            dial["callName"] = call_name
        dial |= _bounded(dial_timeout, "dial_timeout", "dialTimeoutDurationSeconds", 1, 60)
        dial |= _bounded(max_duration, "max_duration", "maxCallDurationSeconds", 1, 14400)
        flows = {
            "onAnswer": ("on_answer", on_answer),
            "onBusy": ("on_busy", on_busy),
            "onReject": ("on_reject", on_reject),
            "onTimeout": ("on_timeout", on_timeout),
            "onHangup": ("on_hangup", on_hangup),
            "onFailure": ("on_failure", on_failure),
        }
        events = {key: flow_commands(flow, name) for key, (name, flow) in flows.items() if flow is not None}
        if events:
            dial["events"] = events
        return self.start([dial], service_id=service_id)


def _v1(method: Callable[Concatenate[VoiceClient, P], R]) -> Callable[Concatenate[VoiceClient, P], R]:
    """A Voice API v1 method: without the Voice App's key and secret, ``CredentialsError`` naming them."""

    @functools.wraps(method)
    def checked(self: VoiceClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._credentials is None:
            raise MissingClient("voice").error(method.__name__)
        return method(self, *args, **kwargs)

    return checked


class VoiceClient:
    """``context.voice``: the Calling API (v1) at ``base_url`` and, with ``v2``, Voice API v2 calls.

    ``base_url`` is ``https://calling.api.sinch.com`` or a regional host. Without the Voice App's
    key and secret (or a ``transport``) the v1 methods raise ``CredentialsError``; without ``v2``,
    ``call`` does.
    """

    def __init__(
        self,
        base_url: str,
        application_key: str | None,
        application_secret: Secret | None,
        transport: Transport | None,
        *,
        v2: VoiceV2Client | None = None,
    ) -> None:
        self.base_url, self.key, self.v2, self.transport = base_url, application_key, v2, transport
        self._credentials = (
            (application_key, application_secret) if application_key and application_secret and transport else None
        )

    def __repr__(self) -> str:
        v1 = f"app {self.key}" if self._credentials is not None else "no Voice App"
        v2 = f"v2 project {self.v2.project_id}" if self.v2 is not None else "no v2 credentials"
        return f"<VoiceClient {self.base_url} {v1}; {v2}>"

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        """Send ``body`` (JSON) to ``path``, signed with the Voice App's key and secret (sinch-wire.md §3.1, §5)."""
        if self._credentials is None or self.transport is None:  # the public methods check first (``_v1``)
            raise MissingClient("voice").error("_request")
        key, secret = self._credentials
        content = json.dumps(body).encode() if body is not None else b""
        headers = voice_signing_headers(method, path, content, key, secret.reveal())
        status, _, answer = self.transport(method, f"{self.base_url}{path}", headers, content or None)
        check_status(status, answer, f"{method} {path}")
        return answer

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self._request(method, path, body))
        return result

    # Voice API v2 ---------------------------------------------------------

    def call(
        self,
        to: str | Mapping[str, Any],
        *,
        from_: str | Mapping[str, Any] | None = None,
        on_answer: Any = None,
        on_busy: Any = None,
        on_reject: Any = None,
        on_timeout: Any = None,
        on_hangup: Any = None,
        on_failure: Any = None,
        call_name: str | None = None,
        dial_timeout: int | None = None,
        max_duration: int | None = None,
        service_id: str | None = None,
    ) -> dict[str, Any]:
        """Place a Voice API v2 call: one ``dial`` to ``to``; returns ``{projectId, serviceId, sessionId}``.

        ``to``/``from_``: ``+E.164`` (PHONE), a ``sip:`` URI (SIP), or a destination dict as the
        reference's ``dial`` takes it (STREAM, VOICE_RELAY, call headers). ``on_answer`` … ``on_failure``
        are flows (a ``{"commands": [...]}`` dict, a list of command dicts, or a builder) run on the
        ``dial``'s events. With none of them the platform posts ``call.answered``, ``call.hangup``,
        … to the service's webhook instead; with any of them, the events without a flow are
        silenced (the platform's rule for a command with an ``events`` key). ``service_id``
        defaults to ``VOICE_SERVICE_ID``, else the project's default service.
        """
        if self.v2 is None:
            raise MissingClient("voice").error("call")
        return self.v2.call(
            to,
            from_=from_,
            on_answer=on_answer,
            on_busy=on_busy,
            on_reject=on_reject,
            on_timeout=on_timeout,
            on_hangup=on_hangup,
            on_failure=on_failure,
            call_name=call_name,
            dial_timeout=dial_timeout,
            max_duration=max_duration,
            service_id=service_id,
        )

    # Callouts -------------------------------------------------------------

    def _callout(self, method: str, fields: dict[str, Any]) -> str:
        body = {"method": method, method: {k: v for k, v in fields.items() if v is not None}}
        return str(self._json("POST", "/calling/v1/callouts", body)["callId"])

    @_v1
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

    @_v1
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

    @_v1
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

    @_v1
    def get_call(self, call_id: str) -> dict[str, Any]:
        """The call's state."""
        return self._json("GET", f"/calling/v1/calls/id/{call_id}")

    @_v1
    def update_call(self, call_id: str, svaml: Svaml) -> None:
        """Send new SVAML to a call in progress (e.g. say + hangup)."""
        self._request("PATCH", f"/calling/v1/calls/id/{call_id}", _svaml(svaml))

    @_v1
    def manage_leg(self, call_id: str, leg: str, svaml: Svaml) -> None:
        """SVAML for one leg: ``caller``, ``callee`` or ``both``."""
        if leg not in ("caller", "callee", "both"):
            raise ValueError(f"leg is caller, callee or both; got {leg!r}")
        self._request("PATCH", f"/calling/v1/calls/id/{call_id}/leg/{leg}", _svaml(svaml))

    # Conferences ----------------------------------------------------------

    @_v1
    def get_conference(self, conference_id: str) -> dict[str, Any]:
        """The conference and its participants."""
        return self._json("GET", f"/calling/v1/conferences/id/{conference_id}")

    @_v1
    def kick_all(self, conference_id: str) -> None:
        """End the conference for everyone."""
        self._request("DELETE", f"/calling/v1/conferences/id/{conference_id}")

    @_v1
    def kick(self, conference_id: str, call_id: str) -> None:
        """Remove one participant."""
        self._request("DELETE", f"/calling/v1/conferences/id/{conference_id}/{call_id}")

    @_v1
    def manage_participant(self, conference_id: str, call_id: str, command: str, moh: str | None = None) -> None:
        """``mute``, ``unmute``, ``onhold`` or ``resume`` a participant."""
        if command not in ("mute", "unmute", "onhold", "resume"):
            raise ValueError(f"command is mute, unmute, onhold or resume; got {command!r}")
        body = {"command": command, **({"moh": moh} if moh else {})}
        self._request("PATCH", f"/calling/v1/conferences/id/{conference_id}/{call_id}", body)
