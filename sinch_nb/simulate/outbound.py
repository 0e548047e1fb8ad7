"""Callouts on the simulated platform: the outbound call a ``POST /calling/v1/callouts`` places (R17–R20).

The simulated platform (``local_platform.py``) accepts a callout, answers ``{"callId": …}`` at
once, and then places the call here, with the same ``Call`` model as the dial pad: the callee's
phone rings and answers (``PlatformModel.callout_callee``), the callout plays what it asked
for, and the app's callbacks (ACE, PIE, DiCE; for a custom callout also the ICE) go to the
runtime, signed and marked as any simulated callback. The person on the line is the callee: it
presses ``PlatformModel.callout_press``, one key per prompt, then stays silent, and hangs up
once connected. Each rule is a row of ``docs/simulation.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .caller import CONNECT_ACTIONS, Call, CallTranscript
from .model import PlatformModel
from .transport import Transport

__all__ = ["METHODS", "Callout", "OutboundCall", "place", "problem"]

#: The callout methods of Voice API v1 (sinch-wire.md §5).
METHODS = ("ttsCallout", "customCallout", "conferenceCallout")
#: R17: the callback flags of each method (``customCallout`` has none: its callbacks always go, R18).
FLAGS = {
    "ttsCallout": ("enableAce", "enableDice", "enablePie"),
    "conferenceCallout": ("enableAce", "enableDice", "enablePie"),
}


@dataclass
class Callout:
    """One callout the simulated platform accepted: the request, and the call it placed (``transcript``)."""

    call_id: str
    method: str
    to: str
    request: dict[str, Any]
    placed: float = field(default_factory=time.time)
    transcript: CallTranscript = field(default_factory=lambda: CallTranscript(call_id=""))
    #: Whether the call is over (its last callback answered).
    done: bool = False

    def __post_init__(self) -> None:
        self.transcript.call_id = self.call_id

    @classmethod
    def of(cls, call_id: str, body: dict[str, Any]) -> Callout:
        method = str(body["method"])
        return cls(call_id, method, _endpoint(body[method]), body)


def _endpoint(fields: dict[str, Any]) -> str:
    destination = fields.get("destination")
    return str(destination.get("endpoint") or "") if isinstance(destination, dict) else ""


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def problem(body: Any) -> str | None:
    """Why the Calling API would refuse this callout request (HTTP 400), or None if it takes it."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    method = body.get("method")
    if method not in METHODS or not isinstance(body.get(method), dict):
        return f"unknown callout method {method!r}: use {', '.join(METHODS)} with an object of that name"
    fields: dict[str, Any] = body[method]
    destination = fields.get("destination")
    if destination is not None and (not isinstance(destination, dict) or not destination.get("endpoint")):
        return "destination is {type, endpoint}"
    if method != "customCallout" and destination is None:
        return f"{method}.destination is required"
    if method == "conferenceCallout":
        conference = fields.get("conferenceId")
        if not isinstance(conference, str) or not 0 < len(conference) <= 64:
            return "conferenceCallout.conferenceId is required (at most 64 characters)"
    if method == "customCallout":
        for kind in ("ice", "ace", "pie"):
            value = fields.get(kind)
            if value is None or (isinstance(value, str) and _is_url(value)):
                continue
            try:
                answer = json.loads(value) if isinstance(value, str) else None
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                return f"customCallout.{kind} is a callback URL or a JSON-encoded SVAML object (a string)"
        if destination is None and fields.get("ice") is None:
            return "customCallout needs a destination or an ice"
    return None


def place(
    callout: Callout,
    transport: Transport,
    *,
    model: PlatformModel,
    application_key: str,
    application_secret: str | None,
    marker: str,
    source: str | None = None,
) -> CallTranscript:
    """Place ``callout``'s call through ``transport`` (the runtime) and drive it to its end; its transcript."""
    fields: dict[str, Any] = callout.request[callout.method]
    call = OutboundCall(
        transport,
        str(fields.get("cli") or ""),
        callout.to,
        custom=str(fields.get("custom") or ""),
        application_key=application_key,
        application_secret=application_secret,
        marker=marker,
        source=source,
        callee=model.callout_callee,
        model=model,
        call_id=callout.call_id,
        person="callee",
    )
    call.transcript = callout.transcript
    return call.run(callout.method, fields)


class OutboundCall(Call):
    """A call the platform places: the callee's phone rings first; the callee presses keys and hangs up."""

    def run(self, method: str, fields: dict[str, Any]) -> CallTranscript:
        """Ring, play what the callout asked for, let the callee answer the prompts, end (R17–R20)."""
        for flag in FLAGS.get(method, ()):
            enabled = fields.get(flag)
            if not (enabled if isinstance(enabled, bool) else self.model.callout_callbacks):  # R17
                self.muted[flag[6:].lower()] = f"{flag} is {'off' if enabled is False else 'not set (off)'}"
        kind = str((fields.get("destination") or {}).get("type") or "").lower()
        if method in FLAGS and kind == "username":  # R17: an in-app destination gets no ACE and no DiCE
            self.muted |= {"ace": "an in-app (username) destination", "dice": "an in-app (username) destination"}
        self.transcript.outcome = f"{method} {self.to}".strip()
        self._say("callout", "sinch", "callout", f"{method} to {self.to or '(the ICE decides)'}")
        if method == "ttsCallout":
            self._tts(fields)
        elif method == "conferenceCallout":
            self._conference(fields)
        else:
            self._custom(fields)
        self._finish(self.model.callout_press)
        return self.transcript

    def _ring(self, fields: dict[str, Any]) -> bool:
        """The callee's phone rings (R6 for the callout's own leg), then the ``dtmf`` tones; True once answered."""
        if self.callee != "answer":
            self.clock += self.model.dial_timeout_s if self.callee == "no-answer" else 1
            result, reason = self.model.unanswered[self.callee]
            self._say("callout", "callee", self.callee, f"{self.to or 'the callee'}: {result}")
            self.transcript.outcome += f" → {result}"
            self._end(reason, result=result)
            return False
        self.clock += self.model.ring_seconds
        self._answer_call()
        self._say("callout", "callee", "answer", f"{self.to or 'the callee'} answers")
        tones = str(fields.get("dtmf") or "")
        if tones:  # ``w`` is a 500 ms pause
            self._say("callout", "sinch", "dtmf", f"plays DTMF {tones} to the callee")
            self.clock += tones.count("w") * 0.5 + (len(tones) - tones.count("w")) * self.model.key_seconds
        return True

    def _answered(self) -> tuple[bool, dict[str, Any] | None]:
        """R17: the ACE when the callee answers, if the callout enabled it: (sent, its usable answer)."""
        if "ace" in self.muted:
            self._say("ace", "sinch", "muted", f"no ACE: {self.muted['ace']}")
            return False, None
        return True, self._post("ace")

    def _tts(self, fields: dict[str, Any]) -> None:
        """R17: ring, the ACE at the answer, the text (or prompts), then the ACE's answer; done, Sinch hangs up."""
        if not self._ring(fields):
            return
        sent, answer = self._answered()
        if sent and answer is None:  # R12: an ACE answer Sinch cannot use ends the call before anything is said
            self._play("ace", None)
            return
        text, prompts = fields.get("text"), fields.get("prompts")
        if text:
            self._hear("callout", {"instructions": [{"name": "say", "text": str(text)}]})
        elif prompts:
            self._hear("callout", {"instructions": [{"name": "playFiles", "ids": str(prompts).split(";")}]})
        self.state = "connected"
        if answer is not None:
            self._play("ace", answer)

    def _conference(self, fields: dict[str, Any]) -> None:
        """R19: ring, the ACE at the answer, the greeting, then the callee joins ``conferenceId`` (after an ACE,
        when it answers ``continue``; its own ``connectConf``, menu or ``hangup`` decide otherwise)."""
        if not self._ring(fields):
            return
        sent, answer = self._answered()
        if sent and answer is None:
            self._play("ace", None)
            return
        if fields.get("greeting"):
            self._hear("callout", {"instructions": [{"name": "say", "text": str(fields["greeting"])}]})
        self.state = "connected"
        if answer is not None:
            self._play("ace", answer)
            if self.state != "connected" or self.transcript.final_action in CONNECT_ACTIONS:
                return  # ended, in a menu, or in the conference the ACE named
        conference = str(fields["conferenceId"])
        moh = f" (music on hold: {fields['mohClass']})" if fields.get("mohClass") else ""
        self._say("callout", "sinch", "connectConf", f"the callee joins conference {conference}{moh}")
        self.transcript.final_action = "connectConf"
        self.transcript.outcome = f"connectConf {conference}"
        self._changed()

    def _custom(self, fields: dict[str, Any]) -> None:
        """R18: the callee answers (when there is a destination), then the ICE (inline SVAML, or a callback to its
        URL or the app's) runs the call as an incoming call's ICE answer would; ACE and PIE likewise."""
        for kind in ("ice", "ace", "pie"):
            value = fields.get(kind)
            if isinstance(value, str) and _is_url(value):
                self.paths[kind] = urlsplit(value).path or "/"
            elif isinstance(value, str):
                self.inline[kind] = json.loads(value)
        if self.to and not self._ring(fields):
            return
        self.start()

    def _finish(self, press: tuple[str, ...] | list[str]) -> None:
        """The callee answers each prompt with the next key, then stays silent (R9); once connected it hangs up
        (CALLEEHANGUP); with nothing left to play, Sinch ends the call (MANAGERHANGUP, R13)."""
        for keys in press:
            if self.state != "menu":
                break
            self.press(str(keys))
        while self.state == "menu":
            self.wait()
        if self.state == "ended":
            return
        if self.transcript.final_action in CONNECT_ACTIONS:
            self.hang_up()
            return
        self._say("callout", "sinch", "done", "the callout has played: Sinch hangs up")
        self._end("MANAGERHANGUP")
