"""A simulated caller: ICE, the PIEs a caller pressing keys produces, ACE, DiCE.

``Call`` is one call, driven step by step (``start``, ``press``, ``wait``, ``hang_up``): the
dial pad uses it key by key, ``dial`` with a list of presses. Each answer is read as Sinch
would: instructions are heard, a ``runMenu`` collects keys (``return`` for an option,
``sequence`` for collected digits, ``timeout`` on silence, ``invalidinput`` after the
repeats; ``menu(id)`` jumps happen inside Sinch), a connect is answered (ACE), and the call
ends with DiCE. Requests go through a ``Transport``: real HTTP, or the runtime in process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ..contract.signing import voice_signing_headers
from ..functions.origin import simulated
from ..functions.script import action_line, prompt_text
from . import HANGUP

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Call", "CallTranscript", "Step", "Transport", "dial", "http_transport"]


DEFAULT_REPEATS = 2
CONNECT_ACTIONS = ("connectPstn", "connectSip", "connectMxp", "connectConf", "connectStream")

#: ``(path, body, headers) -> (status, body)``: how a callback reaches the runtime.
Transport = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


def http_transport(client: httpx.Client) -> Transport:
    """Callbacks over real HTTP, as Sinch sends them."""

    def send(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = client.post(path, content=body, headers=headers)
        return response.status_code, response.content

    return send


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


@dataclass
class _Menu:
    menus: dict[str, dict[str, Any]]
    current: dict[str, Any]
    repeats: int
    digits: str = ""

    @property
    def options(self) -> dict[str, str]:
        return {str(o["dtmf"]): str(o["action"]) for o in self.current.get("options", [])}

    @property
    def collects(self) -> bool:
        """Whether keys build a digit sequence rather than pick an option."""
        return not self.options or int(self.current.get("maxDigits", 1)) > 1

    def result(self, kind: str, value: str) -> dict[str, str]:
        return {"type": kind, "value": value, "menuId": str(self.current["id"]), "inputMethod": "dtmf"}


class Call:
    """One simulated call; ``state`` is ``idle``, ``menu`` (waiting for keys), ``connected`` or ``ended``."""

    def __init__(
        self,
        transport: Transport,
        cli: str,
        to: str,
        *,
        custom: str = "",
        application_key: str = "sinch-nb-simulator",
        application_secret: str | None = None,
        marker: str = "",
        source: str | None = None,
        max_callbacks: int = 50,
        on_change: Callable[[Call], None] | None = None,
    ) -> None:
        self.transport = transport
        self.cli, self.to = cli, to
        self.application_key, self.secret = application_key, application_secret
        #: The runtime's marker (``simulator_options``): its journal then shows these callbacks as simulated.
        self.marker, self.source = marker, source
        self.transcript = CallTranscript(call_id=str(uuid.uuid4()))
        self.common = {
            "callid": self.transcript.call_id,
            "version": 1,
            "custom": custom,
            "applicationKey": application_key,
        }
        self.state = "idle"
        self.answered = False
        self.menu: _Menu | None = None
        self.budget = max_callbacks
        self.on_change = on_change

    # Wire -----------------------------------------------------------------

    def _post(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        self.budget -= 1
        payload = {"event": kind, **self.common, "timestamp": _now(), **fields}
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json", **simulated(self.marker, self.source)}
        if self.secret is not None:  # sign as Sinch does, so a runtime that checks signatures accepts the call
            headers.update(voice_signing_headers("POST", f"/{kind}", body, self.application_key, self.secret))
        status, content = self.transport(f"/{kind}", body, headers)
        self.transcript.statuses.append(status)
        if status != 200:
            self.transcript.add(kind, "sinch", "error", f"the {kind.upper()} callback answered HTTP {status}")
            return None
        if kind in ("dice", "notify") or not content:
            return {}
        answer = json.loads(content)
        return answer if isinstance(answer, dict) else None

    # Steps ----------------------------------------------------------------

    def start(self) -> Call:
        """Ring: post the ICE and play its answer."""
        if self.state != "idle":
            raise RuntimeError("this call has started already; place a new one")
        answer = self._post(
            "ice",
            cli=self.cli,
            to={"type": "number", "endpoint": self.to},
            domain="pstn",
            originationType="PSTN",
            rdnis="",
            callResourceUrl=f"https://calling.api.sinch.com/calling/v1/calls/id/{self.transcript.call_id}",
            userRate={"currencyId": "USD", "amount": 0.0},
        )
        self._play("ice", answer)
        return self

    def press(self, keys: str | int) -> Call:
        """The caller presses ``keys`` (one key, or a run such as ``1234#``)."""
        keys = str(keys)
        if keys == HANGUP:
            return self.hang_up()
        if self.state != "menu" or self.menu is None:
            self.transcript.add("pie", "caller", "press", f"{keys} (nothing is listening)")
            return self._changed()
        menu = self.menu
        self.transcript.add("pie", "caller", "press", keys)
        target = menu.options.get(keys)
        if target is None and menu.collects:
            menu.digits += keys
            done = menu.digits.endswith("#") or len(menu.digits.rstrip("#")) >= int(menu.current.get("maxDigits", 1))
            if done:
                return self._send_pie(menu.result("sequence", menu.digits.rstrip("#")))
            return self._changed()
        if target is not None and target.startswith("menu("):
            menu.current = menu.menus[target[5:-1]]
            menu.repeats, menu.digits = int(menu.current.get("repeats", DEFAULT_REPEATS)), ""
            self.transcript.add("pie", "app", "prompt", prompt_text(menu.current.get("mainPrompt")))
            return self._changed()
        if target is not None:
            return self._send_pie(menu.result("return", target[7:-1]))
        if menu.repeats <= 0:
            return self._send_pie(menu.result("invalidinput", keys))
        menu.repeats -= 1
        if menu.current.get("repeatPrompt"):
            self.transcript.add("pie", "app", "prompt", prompt_text(menu.current["repeatPrompt"]))
        return self._changed()

    def wait(self) -> Call:
        """The caller stays silent: the menu repeats, then times out (a ``timeout`` PIE)."""
        if self.state == "menu" and self.menu is not None:
            menu = self.menu
            if menu.digits and menu.collects:
                return self._send_pie(menu.result("sequence", menu.digits.rstrip("#")))
            silence = f"no key; the menu repeats {menu.repeats} times, then times out"
            self.transcript.add("pie", "caller", "silence", silence)
            return self._send_pie(menu.result("timeout", ""))
        return self._changed()

    def hang_up(self) -> Call:
        """The caller hangs up (DiCE ``CALLERHANGUP``)."""
        if self.state not in ("ended", "idle"):
            self.transcript.add("pie" if self.state == "menu" else "ace", "caller", "hangup", "hangs up")
            self._end("CALLERHANGUP")
        return self._changed()

    # Reading answers ------------------------------------------------------

    def _send_pie(self, result: dict[str, str]) -> Call:
        self.menu = None
        self._play("pie", self._post("pie", menuResult=result))
        return self

    def _hear(self, kind: str, answer: dict[str, Any]) -> None:
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

    def _play(self, kind: str, answer: dict[str, Any] | None) -> None:
        while True:
            if answer is None:
                self._end("CALLBACKERROR")
                return
            if self.budget <= 0:
                self.transcript.add(kind, "sinch", "error", "stopped: too many callbacks (a menu loop?)")
                self._end("CALLBACKERROR")
                return
            self._hear(kind, answer)
            action = answer.get("action") or {}
            name = action.get("name")
            self.transcript.final_action = name
            if name == "runMenu":
                self.answered = True
                menus = {menu["id"]: menu for menu in action.get("menus", [])}
                current = menus[action.get("mainMenu") or "main"]
                self.menu = _Menu(menus, current, int(current.get("repeats", DEFAULT_REPEATS)))
                self.state = "menu"
                self.transcript.add("pie", "app", "prompt", prompt_text(current.get("mainPrompt")))
                self._changed()
                return
            if name in CONNECT_ACTIONS and kind != "ace":
                self.answered = True
                self.transcript.add(kind, "app", name, action_line(action))
                kind, answer = "ace", self._post("ace", amd={"status": "human", "reason": "n/a", "duration": 0})
                continue
            if name in ("hangup", None):
                self.transcript.add(
                    kind, "app", name or "none", action_line(action) if name else "no action: the call ends"
                )
                self._end("MANAGERHANGUP")
                return
            self.answered = True
            self.transcript.add(kind, "app", name, action_line(action))
            self.state = "connected"
            self._changed()
            return

    def _end(self, reason: str) -> None:
        if self.state == "ended":
            return
        self.state, self.menu = "ended", None
        result = "ANSWERED" if self.answered else "N/A"
        self._post(
            "dice",
            reason=reason,
            result=result,
            duration=len(self.transcript.steps),
            to={"type": "number", "endpoint": self.to},
            **{"from": self.cli},
        )
        self.transcript.add("dice", "sinch", "disconnect", f"{reason}, {result}")
        self._changed()

    def _changed(self) -> Call:
        if self.on_change is not None:
            self.on_change(self)
        return self


def dial(
    base_url: str,
    cli: str,
    to: str,
    press: Iterable[str | int] = (),
    *,
    custom: str = "",
    application_key: str = "sinch-nb-simulator",
    application_secret: str | None = None,
    marker: str = "",
    source: str | None = None,
    max_callbacks: int = 50,
    timeout: float = 30.0,
) -> CallTranscript:
    """Place one simulated call to the runtime at ``base_url`` over HTTP; returns its transcript.

    Each menu takes the next press; when presses run out the caller stays silent (a
    ``timeout``), and once connected the caller hangs up.
    """
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        call = Call(
            http_transport(client),
            cli,
            to,
            custom=custom,
            application_key=application_key,
            application_secret=application_secret,
            marker=marker,
            source=source,
            max_callbacks=max_callbacks,
        ).start()
        for keys in press:
            if call.state == "ended":
                break
            call.press(keys)
        for _ in range(3):  # silence: a menu that answers a timeout with itself gets three tries
            if call.state == "menu":
                call.wait()
        call.hang_up()
    return call.transcript
