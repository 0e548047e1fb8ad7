"""A simulated caller: ICE, the PIEs a caller pressing keys produces, DiCE, over real HTTP.

Each answer is read the way Sinch would: instructions are heard, a ``runMenu``
collects the next keys from ``press`` (``return`` or ``sequence`` results, a
``timeout`` when presses run out, ``invalidinput`` after the repeats), a connect is
answered (ACE), and the call ends with DiCE.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ..contract.signing import voice_signing_headers
from . import HANGUP
from .script import action_line, prompt_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HANGUP", "CallTranscript", "Step", "dial"]

SIMULATED_HEADERS = {"x-sinch-nb-simulated": "1", "content-type": "application/json"}
DEFAULT_REPEATS = 2
CONNECT_ACTIONS = ("connectPstn", "connectSip", "connectMxp", "connectConf", "connectStream")


@dataclass(frozen=True)
class Step:
    """One line of the transcript: who did what in answer to which callback."""

    callback: str
    party: str
    action: str
    text: str


@dataclass
class CallTranscript:
    """What happened on one simulated call."""

    call_id: str
    steps: list[Step] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    final_action: str | None = None

    def add(self, callback: str, party: str, action: str, text: str = "") -> None:
        self.steps.append(Step(callback, party, action, text))

    def to_frame(self) -> pd.DataFrame:
        """The transcript as a DataFrame (pandas loads here)."""
        import pandas as pd

        frame = pd.DataFrame([vars(step) for step in self.steps], columns=["callback", "party", "action", "text"])
        frame.index.name = "step"
        frame.attrs["call_id"] = self.call_id
        frame.attrs["final_action"] = self.final_action
        return frame


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Call:
    def __init__(
        self, client: httpx.Client, cli: str, to: str, custom: str, application_key: str, secret: str | None
    ) -> None:
        self.client = client
        self.application_key, self.secret = application_key, secret
        self.transcript = CallTranscript(call_id=str(uuid.uuid4()))
        self.common = {
            "callid": self.transcript.call_id,
            "version": 1,
            "custom": custom,
            "applicationKey": application_key,
        }
        self.cli, self.to = cli, to
        self.answered = False

    def post(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        payload = {"event": kind, **self.common, "timestamp": _now(), **fields}
        body = json.dumps(payload).encode()
        headers = dict(SIMULATED_HEADERS)
        if self.secret is not None:  # sign as Sinch does, so a runtime that checks signatures accepts the call
            headers.update(voice_signing_headers("POST", f"/{kind}", body, self.application_key, self.secret))
        response = self.client.post(f"/{kind}", content=body, headers=headers)
        self.transcript.statuses.append(response.status_code)
        if response.status_code != 200:
            self.transcript.add(
                kind, "sinch", "error", f"the {kind.upper()} callback answered HTTP {response.status_code}"
            )
            return None
        if kind in ("dice", "notify") or not response.content:
            return {}
        answer = response.json()
        return answer if isinstance(answer, dict) else None

    def hear(self, kind: str, answer: dict[str, Any]) -> None:
        for item in answer.get("instructions", []):
            name = item.get("name")
            if name == "say":
                self.transcript.add(kind, "app", "say", item.get("text", ""))
            elif name == "playFiles":
                self.transcript.add(kind, "app", "play", " ".join(prompt_text(i) for i in item.get("ids", [])))
            elif name == "answer":
                self.answered = True
                self.transcript.add(kind, "app", "answer", "answers the call")
            else:
                self.transcript.add(kind, "app", name or "?", "")

    def run_menu(self, action: dict[str, Any], presses: deque[str]) -> dict[str, Any]:
        menus = {menu["id"]: menu for menu in action.get("menus", [])}
        current = menus[action.get("mainMenu") or "main"]
        repeats = current.get("repeats", DEFAULT_REPEATS)
        while True:
            self.transcript.add("pie", "app", "prompt", prompt_text(current.get("mainPrompt")))
            if not presses:
                self.transcript.add(
                    "pie", "caller", "silence", f"no key; the menu repeats {repeats} times, then times out"
                )
                return {"type": "timeout", "value": "", "menuId": current["id"], "inputMethod": "dtmf"}
            key = presses.popleft()
            if key == HANGUP:
                return {"type": "hangup", "value": "", "menuId": current["id"], "inputMethod": "dtmf"}
            self.transcript.add("pie", "caller", "press", key)
            options = {str(o["dtmf"]): o["action"] for o in current.get("options", [])}
            target = options.get(key)
            if target and target.startswith("menu("):
                current = menus[target[5:-1]]
                repeats = current.get("repeats", DEFAULT_REPEATS)
                continue
            if target and target.startswith("return("):
                return {"type": "return", "value": target[7:-1], "menuId": current["id"], "inputMethod": "dtmf"}
            if not options or current.get("maxDigits", 1) > 1:
                digits = key.rstrip("#")
                return {"type": "sequence", "value": digits, "menuId": current["id"], "inputMethod": "dtmf"}
            if repeats <= 0:
                return {"type": "invalidinput", "value": key, "menuId": current["id"], "inputMethod": "dtmf"}
            repeats -= 1
            if current.get("repeatPrompt"):
                self.transcript.add("pie", "app", "prompt", prompt_text(current["repeatPrompt"]))


def dial(
    base_url: str,
    cli: str,
    to: str,
    press: Iterable[str | int] = (),
    *,
    custom: str = "",
    application_key: str = "sinch-nb-simulator",
    application_secret: str | None = None,
    max_callbacks: int = 50,
    timeout: float = 30.0,
) -> CallTranscript:
    """Place one simulated call to the runtime at ``base_url``; returns its transcript."""
    presses = deque(str(p) for p in press)
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        call = _Call(client, cli, to, custom, application_key, application_secret)
        transcript = call.transcript
        kind = "ice"
        answer = call.post(
            "ice",
            cli=cli,
            to={"type": "number", "endpoint": to},
            domain="pstn",
            originationType="PSTN",
            rdnis="",
            callResourceUrl=f"https://calling.api.sinch.com/calling/v1/calls/id/{transcript.call_id}",
            userRate={"currencyId": "USD", "amount": 0.0},
        )
        reason = "CALLBACKERROR"
        for _ in range(max_callbacks):
            if answer is None:
                break
            call.hear(kind, answer)
            action = answer.get("action") or {}
            name = action.get("name")
            transcript.final_action = name
            if name == "runMenu":
                call.answered = True
                result = call.run_menu(action, presses)
                if result["type"] == "hangup":
                    transcript.add("pie", "caller", "hangup", "hangs up")
                    reason = "CALLERHANGUP"
                    break
                kind, answer = "pie", call.post("pie", menuResult=result)
                continue
            if name in CONNECT_ACTIONS and kind != "ace":
                call.answered = True
                transcript.add(kind, "app", name, action_line(action))
                kind, answer = "ace", call.post("ace", amd={"status": "human", "reason": "n/a", "duration": 0})
                continue
            if name == "hangup":
                transcript.add(kind, "app", "hangup", action_line(action))
                reason = "MANAGERHANGUP"
            elif name is None:
                transcript.add(kind, "app", "none", "no action: Sinch ends the call")
                reason = "MANAGERHANGUP"
            else:
                transcript.add(kind, "app", name, action_line(action))
                transcript.add(kind, "caller", "hangup", "hangs up")
                reason = "CALLERHANGUP"
            break
        else:
            transcript.add(kind, "sinch", "error", f"stopped after {max_callbacks} callbacks (a menu loop?)")
        call.post(
            "dice",
            reason=reason,
            result="ANSWERED" if call.answered else "N/A",
            duration=len(transcript.steps),
            to={"type": "number", "endpoint": to},
            **{"from": cli},
        )
        transcript.add("dice", "sinch", "disconnect", f"{reason}, {'ANSWERED' if call.answered else 'N/A'}")
    return transcript
