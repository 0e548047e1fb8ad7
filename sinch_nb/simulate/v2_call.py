"""A simulated Voice API v2 call: ``call.*`` CloudEvents to the app, its commands run as the platform runs them.

The same surface as the v1 ``Call`` (``start``, ``press``, ``wait``, ``hang_up``, ``state``,
``menu``, ``transcript``), so ``sn.dial``, the dial pad and the explorer drive either. The
rules are rows V1–V10 of ``docs/simulation.md`` (reference: sinch-voice-v2.md §1–§4):
commands run in order; ``pause``, ``menu``, ``gotoMenu`` and ``webhook`` block; a menu
evaluates its input against ``matches`` (literal, then regex), repeats on timeout or no match
up to ``repeatCount``, then runs ``onFail``; a menu item with neither sends ``call.menu``;
``dial`` legs answer, or are busy, unanswered or failed, running their ``events`` (or sending
the webhook the event replaces); ``call.hangup`` ends the call.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..functions.origin import SANDBOX_HEADER, simulated
from ..functions.signing import voice_v2_signing_headers
from . import HANGUP
from .caller import CallTranscript
from .model import CALLEES, Callee, PlatformModel
from .transport import Transport, failure

if TYPE_CHECKING:
    from .stream_call import StreamVoice

__all__ = ["CallV2"]

#: V4: a dial's outcome → the ``events`` key run, and the webhook sent when the dial has no ``events``.
DIAL_EVENTS = {
    "answer": ("onAnswer", "call.answered"),
    "busy": ("onBusy", "call.busy"),
    "no-answer": ("onTimeout", "call.timeout"),
    "failed": ("onFailure", "call.failed"),
}
#: V5 defaults of a menu item (sinch-voice-v2.md §3).
MENU_TIMEOUT_S, MENU_REPEATS, MIN_LENGTH, MAX_LENGTH = 5, 2, 1, 1
#: Strings tried to find a key a regex match accepts (the explorer's sample input).
_SAMPLES = ("1", "2", "3", "0", "9", "*", "#", "12", "123", "1234", "12345", "123456", "1#", "1234#")


def _say(message: dict[str, Any]) -> tuple[str, str]:
    """A message as (action, words)."""
    if message.get("type") == "PLAY" or "play" in message:
        return "play", f"[plays {(message.get('play') or {}).get('url', '')}]"
    return "say", str((message.get("say") or {}).get("text", ""))


@dataclass
class _Frame:
    """A command list being run, and where it is."""

    commands: list[dict[str, Any]]
    index: int = 0


@dataclass
class _Menu:
    """A menu waiting for keys: the ``menus`` of the command, the current item, the input so far (V5–V7)."""

    name: str
    menus: dict[str, dict[str, Any]]
    digits: str = ""
    failed: int = 0
    evaluations: int = 0
    #: The input last evaluated: what a ``webhook`` raised from the match or ``onFail`` carries (V8).
    given: str = ""

    @property
    def item(self) -> dict[str, Any]:
        return self.menus[self.name]

    @property
    def matches(self) -> dict[str, Any]:
        return dict(self.item.get("matches") or {})

    @property
    def options(self) -> dict[str, str]:
        """The literal DTMF keys the item matches (the explorer presses each), and a sample for each regex."""
        keys: dict[str, str] = {}
        for key in self.matches:
            literal = key.replace("\\*", "*")
            if re.fullmatch(r"[0-9*#]+", literal):
                keys[literal] = key
                continue
            sample = next((s for s in _SAMPLES if _regex(key, s)), None)
            if sample is not None:
                keys[sample] = key
        return keys

    @property
    def max_digits(self) -> int:
        return int(self.item.get("maximumInputLength") or MAX_LENGTH)

    @property
    def collects(self) -> bool:
        return self.max_digits > 1 or not self.matches

    @property
    def current(self) -> dict[str, Any]:
        """What the explorer compares to find loops: the item's name, prompt and matches."""
        return {"id": self.name, "mainPrompt": json.dumps(self.item.get("prompt")), "options": sorted(self.matches)}


def _regex(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return False


@dataclass
class CallV2:
    """One simulated v2 call; ``state`` is ``idle``, ``menu``, ``connected`` or ``ended``."""

    transport: Transport
    cli: str
    to: str
    marker: str = ""
    source: str | None = None
    service_id: str = "sinch-nb-simulator"
    service_secret: str | None = None
    callee: Callee = "answer"
    model: PlatformModel = field(default_factory=PlatformModel)
    sandbox: bool = False
    on_change: Callable[[CallV2], None] | None = None
    max_callbacks: int | None = None
    #: Who the simulated person is: the ``caller`` of an inbound call, or the ``callee`` the app dialled (V10).
    person: str = "caller"
    #: What the caller says into a STREAM dial's stream (S16); None: the stream is not followed.
    stream_voice: StreamVoice | None = None
    #: The runtime (``http://127.0.0.1:PORT``) a stream endpoint off this machine reaches (S16).
    stream_runtime: str | None = None
    # What the call is doing
    transcript: CallTranscript = field(init=False)
    state: str = field(default="idle", init=False)
    menu: _Menu | None = field(default=None, init=False)
    clock: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.callee not in CALLEES:
            raise ValueError(f"callee={self.callee!r}: use one of {', '.join(CALLEES)}")
        self.transcript = CallTranscript(call_id=uuid.uuid4().hex.upper()[:26])
        self.session_id = uuid.uuid4().hex.upper()[:26]
        self.began = time.time()
        self.answered_at: float | None = None
        self.budget = self.max_callbacks if self.max_callbacks is not None else self.model.max_callbacks
        self._stack: list[_Frame] = []
        self._later: list[list[dict[str, Any]]] = []
        self._event = "call.incoming"
        #: The menus of the last menu command (``gotoMenu`` jumps among them), and the menu a match runs in.
        self._menus: dict[str, dict[str, Any]] = {}
        self._context_menu: _Menu | None = None
        self._completed = 0

    # Wire -----------------------------------------------------------------

    def _stamp(self, offset: float | None = None) -> str:
        return datetime.fromtimestamp(self.began + (self.clock if offset is None else offset), UTC).isoformat()

    def _call(self, **fields: Any) -> dict[str, Any]:
        """The ``call`` resource as the platform sends it (V1)."""
        call: dict[str, Any] = {
            "callId": self.transcript.call_id,
            "projectId": "sinch-nb-simulator",
            "serviceId": self.service_id,
            "sessionId": self.session_id,
            "direction": "INBOUND",
            "originationType": "PHONE",
            "callType": "PHONE",
            "from": {"type": "PHONE", "phone": {"number": self.cli}},
            "to": {"type": "PHONE", "phone": {"number": self.to}},
            "callResult": "IN_PROGRESS" if self.answered_at is not None else "INITIATED",
            "startTime": self._stamp(0.0),
            "callRate": {"currencyCode": "USD", "amount": "0.0000"},
            "callResourceUrl": f"https://voice.api.sinch.com/v2/projects/sinch-nb-simulator/calls/{self.transcript.call_id}",
        }
        if self.answered_at is not None:
            call["answerTime"] = self._stamp(self.answered_at)
        call.update(fields)
        return call

    def _post(self, event: str, menu: dict[str, str] | None = None, **call_fields: Any) -> list[dict[str, Any]] | None:
        """Send one ``call.*`` CloudEvent (V1); the commands it answers, [] for 204, None when unusable (V9)."""
        self.budget -= 1
        body: dict[str, Any] = {"event": event, "call": self._call(**call_fields)}
        if menu is not None:
            body["menu"] = menu
        raw = json.dumps(body).encode()
        headers = {
            "content-type": "application/json; charset=utf-8",
            "ce-specversion": "1.0",
            "ce-type": "com.sinch.voice.call.control.v1",
            "ce-source": f"projects/sinch-nb-simulator/services/{self.service_id}",
            "ce-id": str(uuid.uuid4()),
            "ce-time": self._stamp(),
            **simulated(self.marker, self.source),
        }
        if self.sandbox:
            headers[SANDBOX_HEADER] = self.transcript.call_id
        if self.service_secret is not None:
            headers.update(voice_v2_signing_headers("/", raw, self.service_id, self.service_secret))
        reply = self.transport("/", raw, headers)
        self.transcript.statuses.append(reply.status)
        failed = failure(reply)
        if failed is not None:
            self.transcript.failures.append(failed)
            self._note(event, "sinch_nb", "app failed", f"the app failed: {failed} — sn.last_error()")
        if reply.status == 204:
            return []
        why = None
        commands: Any = None
        if reply.status != 200:
            why = f"answered HTTP {reply.status}"
        else:
            try:
                commands = json.loads(reply.body).get("commands") if reply.body else []
            except (ValueError, AttributeError):
                why = "is not JSON commands"
        if why is None and not isinstance(commands, list):
            why = "has no commands list"
        if why is not None:  # V9: the platform disconnects; the event is lost
            self._note(event, "sinch", "error", f"the {event} answer {why}: Sinch disconnects the call")
            self.transcript.outcome = f"ended by Sinch: the {event} answer {why}"
            return None
        return list(commands)

    def _note(self, callback: str, party: str, action: str, text: str = "") -> None:
        self.transcript.add(self.clock, callback, party, action, text)

    # Steps ----------------------------------------------------------------

    def start(self) -> CallV2:
        """Ring: ``call.incoming``, then its commands (V1, V2)."""
        if self.state != "idle":
            raise RuntimeError("this call has started already; place a new one")
        self.state = "connected"
        commands = self._post("call.incoming")
        if commands is None:
            return self._end("ERROR", posted=False)
        self._play(commands)
        return self

    def place(self, commands: list[dict[str, Any]]) -> CallV2:
        """V10: an outbound call the app started (``POST /calls``): its commands run, the first a ``dial``."""
        if self.state != "idle":
            raise RuntimeError("this call has started already; place a new one")
        self.state = "connected"
        self._event = "call.answered"
        self._play(commands)
        return self

    def press(self, keys: str | int) -> CallV2:
        """The caller answers the menu: keys collected up to the item's maximum or its terminating sequence (V6)."""
        keys = str(keys)
        if keys == HANGUP:
            return self.hang_up()
        if self.state != "menu" or self.menu is None:
            self._note("menu", "caller", "press", f"{keys} (nothing is listening)")
            return self._changed()
        menu = self.menu
        self.clock += self.model.key_seconds * len(keys)
        end = str(menu.item.get("terminatingSequence") or "")
        taken = ""
        for key in keys:
            taken += key
            menu.digits += key
            if (end and menu.digits.endswith(end)) or len(menu.digits) >= menu.max_digits:
                break
        cut = keys[len(taken) :]
        self._note("menu", "caller", "press", taken + (f" ({cut} cut)" if cut else ""))
        if (end and menu.digits.endswith(end)) or len(menu.digits) >= menu.max_digits:
            return self._evaluate()
        return self._changed()

    def wait(self) -> CallV2:
        """Silence through the item's input timeout: the input so far is evaluated, or it counts as a failure (V5)."""
        if self.state != "menu" or self.menu is None:
            return self._changed()
        menu = self.menu
        timeout = float(menu.item.get("inputTimeoutDurationSeconds") or MENU_TIMEOUT_S)
        self.clock += timeout
        if len(menu.digits) >= int(menu.item.get("minimumInputLength") or MIN_LENGTH):
            return self._evaluate()
        self._note("menu", "caller", "silence", f"no key for {timeout:g} s")
        return self._failed()

    def hang_up(self) -> CallV2:
        """The simulated person hangs up: ``call.hangup``, ``CALLER_HANGUP`` (``CALLEE_HANGUP`` when dialled, V8)."""
        if self.state in ("ended", "idle"):
            return self._changed()
        self._note("call.hangup", self.person, "hangup", "hangs up")
        return self._end("CALLEE_HANGUP" if self.person == "callee" else "CALLER_HANGUP")

    @property
    def pies(self) -> int:
        """How many menus have completed (the explorer waits for the next one; v1's count of PIEs)."""
        return self._completed

    # Commands -------------------------------------------------------------

    def _play(self, commands: list[dict[str, Any]]) -> None:
        self._stack.append(_Frame(list(commands)))
        self._run()

    def _run(self) -> None:
        """Run commands until one blocks for the caller (a menu) or none are left (V2)."""
        while self.state not in ("ended", "menu"):
            if not self._stack:
                if not self._later:
                    break
                self._stack.append(_Frame(self._later.pop(0)))  # V2: an events.* list, after the list that set it
                continue
            frame = self._stack[-1]
            if frame.index >= len(frame.commands):
                self._stack.pop()
                continue
            command = frame.commands[frame.index]
            frame.index += 1
            if self.budget <= 0:
                self._note("call", "sinch", "error", f"stopped: {self.model.max_callbacks} callbacks (a loop?)")
                self._end("ERROR")
                return
            self._do(command)
        self._changed()

    def _do(self, command: dict[str, Any]) -> None:
        name = str(command.get("command", "?"))
        event = self._event
        if name == "answer":
            if self.answered_at is None:
                self.answered_at = self.clock
            self._note(event, "app", "answer", "answers the call")
        elif name == "messages":
            for message in command.get("messages", []):
                action, words = _say(message)
                self._note(event, "app", action, words)
                self.clock += self.model.speech_seconds(words) if action == "say" else self.model.file_seconds
            finish = (command.get("events") or {}).get("onFinish")
            if finish:
                self._later.insert(0, list(finish))
        elif name == "pause":
            seconds = int(command.get("durationMilliseconds", 0)) / 1000
            self._note(event, "app", "pause", f"{seconds:g} s")
            self.clock += seconds
        elif name == "hangup":
            self._note(event, "app", "hangup", "hangs up")
            self.transcript.final_action = "hangup"
            if not self.transcript.outcome.startswith(("dial", "ended by")):
                self.transcript.outcome = "hangup"
            self._end("MANAGER_HANGUP")
        elif name == "menu":
            self._enter(_Menu(str(command.get("startMenu")), dict(command.get("menus") or {})))
        elif name == "gotoMenu":
            if self.menu is not None or self._menus:
                menus = self.menu.menus if self.menu is not None else self._menus
                self._enter(_Menu(str(command.get("menuName")), menus))
        elif name == "webhook":
            self._webhook(command)
        elif name == "dial":
            self._dial(command)
        elif name == "bridgeCall":
            self._note(event, "app", "bridgeCall", f"joins bridge {command.get('bridgeName')}")
        elif name == "amd":
            human = (command.get("events") or {}).get("onHuman")
            self._note(event, "sinch", "amd", "the callee is a person (AMD)")
            if human:
                self._stack.append(_Frame(list(human)))
        else:
            self._note(event, "app", name, json.dumps({k: v for k, v in command.items() if k != "command"})[:80])

    def _enter(self, menu: _Menu) -> None:
        """V5: a menu blocks: its prompt plays and it waits for keys."""
        if menu.name not in menu.menus:
            self._note(self._event, "sinch", "error", f"menu {menu.name!r} is not among {sorted(menu.menus)}")
            self._end("INVALID_SCRIPT")
            return
        if self.answered_at is None:  # a menu needs the call answered; v2 never answers by itself (V3)
            self._note(self._event, "sinch", "error", "a menu on a call that was never answered: send answer first")
            self._end("INVALID_SCRIPT")
            return
        self.menu, self._menus = menu, menu.menus
        self.state = "menu"
        self.transcript.outcome = f"menu {menu.name}"
        self._prompt(menu.item.get("prompt"))

    def _prompt(self, prompt: Any) -> None:
        words = " ".join(_say(m)[1] for m in (prompt or {}).get("messages", []))
        self._note("menu", "app", "prompt", words)
        self.clock += self.model.speech_seconds(words)

    def _evaluate(self) -> CallV2:
        """V6: the input against ``matches`` in order (literal, then regex); none: call.menu (V7) or a failure."""
        menu = self.menu
        assert menu is not None
        given, menu.digits = menu.digits, ""
        menu.given = given
        menu.evaluations += 1
        self._note("menu", "sinch", "menu", f"{menu.name}: {given or '(nothing)'}")
        if not menu.matches and not menu.item.get("onFail"):  # V7: the app decides, through call.menu
            return self._leave(self._post("call.menu", {"menuName": menu.name, "input": given}), "call.menu")
        for key, commands in menu.matches.items():
            if key.replace("\\*", "*") == given or _regex(key, given):
                return self._leave(list(commands), "call.incoming", menu)
        return self._failed(given)

    def _failed(self, given: str = "") -> CallV2:
        """V5: repeat (``repeatPrompt``, else the prompt) up to ``repeatCount``; then ``onFail``."""
        menu = self.menu
        assert menu is not None
        menu.failed += 1
        menu.given = given
        repeats = menu.item.get("repeatCount")
        if menu.failed > (MENU_REPEATS if repeats is None else int(repeats)):
            self._note("menu", "sinch", "menu", f"{menu.name}: no match after the repeats ({given or 'silence'})")
            if menu.item.get("onFail"):
                return self._leave(list(menu.item["onFail"]), self._event, menu)
            if not menu.matches:
                return self._leave(self._post("call.menu", {"menuName": menu.name, "input": given}), "call.menu")
            self.transcript.outcome = f"menu {menu.name} ended without a match"
            return self._leave([], self._event, menu)
        self._prompt(menu.item.get("repeatPrompt") or menu.item.get("prompt"))
        return self._changed()

    def _leave(self, commands: list[dict[str, Any]] | None, event: str, menu: _Menu | None = None) -> CallV2:
        """The menu is done: its commands run, in the menu's context (a webhook inside carries the menu)."""
        self.menu, self.state = None, "connected"
        self._completed += 1
        if commands is None:
            return self._end("ERROR")
        self._event = event
        self._context_menu = menu
        self._stack.append(_Frame(commands))
        self._run()
        return self

    def _webhook(self, command: dict[str, Any]) -> None:
        """V8: ``call.webhook.NAME`` (blocking); its answer's commands continue the flow."""
        name = str(command.get("webhookName", ""))
        menu = self._context_menu
        payload = {"menuName": menu.name, "input": menu.given} if menu is not None else None
        self._note(self._event, "app", "webhook", name)
        commands = self._post(f"call.webhook.{name}", payload)
        if commands is None:
            self._end("ERROR")
            return
        self._event = f"call.webhook.{name}"
        self._stack.append(_Frame(commands))

    def _dial(self, command: dict[str, Any]) -> None:
        """V4: a new leg rings; its outcome runs that ``events`` list, or sends the webhook it replaces."""
        to = command.get("to") or {}
        target = (to.get("phone") or {}).get("number") or (to.get("sip") or {}).get("endpoint")
        target = target or (to.get("stream") or {}).get("endpoint") or to.get("type", "")
        self._note(self._event, "app", "dial", f"dials {target}")
        self.transcript.final_action = "dial"
        if to.get("type") == "STREAM" and self.stream_voice is not None:
            self._stream(command, to, str(target), self.stream_voice)
            return
        key, webhook = DIAL_EVENTS[self.callee]
        if self.callee == "no-answer":
            self.clock += int(command.get("dialTimeoutDurationSeconds") or self.model.dial_timeout_s)
        else:
            self.clock += self.model.ring_seconds if self.callee == "answer" else 1
        self._note(self._event, "callee", self.callee, f"{target}: {webhook.removeprefix('call.')}")
        if self.callee == "answer" and self.person == "callee" and self.answered_at is None:
            self.answered_at = self.clock  # the app's own outbound call: answered when its callee answers
        self.transcript.outcome = f"dial {target} → {webhook.removeprefix('call.')}"
        self._dialled(command, to, key, webhook)

    def _dialled(self, command: dict[str, Any], to: dict[str, Any], key: str, webhook: str) -> None:
        """V4: the dial's outcome runs its ``events[key]`` flow, or sends ``webhook`` and runs the answer."""
        events = command.get("events")
        if events is not None:
            flow = events.get(key)
            if flow:
                self._stack.append(_Frame(list(flow)))
            return
        leg: dict[str, Any] = {  # V4: the dialled leg: its own call id in this session, dialling out to ``to``
            "callId": uuid.uuid4().hex.upper()[:26],
            "direction": "OUTBOUND",
            "to": to if to.get("type") in ("PHONE", "SIP") else {"type": "PHONE", "phone": {"number": self.to}},
            "from": {"type": "PHONE", "phone": {"number": self.to}},
        }
        if command.get("callName"):
            leg["callName"] = command["callName"]
        commands = self._post(webhook, **leg)
        if commands:
            self._stack.append(_Frame(commands))

    def _stream(self, command: dict[str, Any], to: dict[str, Any], target: str, voice: StreamVoice) -> None:
        """S16: the platform opens the STREAM leg (its own call id), the caller speaks into it; answered, the call
        ends with the stream (S17); busy, rejected, unanswered or failed, the dial reports it as V4 does."""
        from .stream_call import follow, stream_steps
        from .stream_platform import V2_UNANSWERED, v2_reason

        stream = to.get("stream") or {}
        options = stream.get("streamOptions") or {}
        stream_run = follow(
            target,
            voice,
            runtime=self.stream_runtime,
            call_id=uuid.uuid4().hex.upper()[:26],
            application_key=self.service_id,
            sample_rate=int(options.get("sampleRate") or 8000),
            call_headers=stream.get("callHeaders") or [],
            model=self.model,
            headers=simulated(self.marker, self.source),
        )
        self.transcript.stream = stream_run
        self._note(self._event, "sinch", "stream", f"opens {stream_run.url} ({stream_run.sample_rate} Hz)")
        start = self.clock
        for at, party, step, text in stream_steps(stream_run):
            self.transcript.add(start + at, self._event, party, step, text)
        self.clock = start + stream_run.ended_at
        self.transcript.outcome = f"dial {target} → stream {stream_run.outcome}, ended by {stream_run.ended_by}"
        if stream_run.outcome == "answered":
            self._end(v2_reason(stream_run))
            return
        key, webhook = V2_UNANSWERED.get(stream_run.outcome, V2_UNANSWERED["failed"])
        self._dialled(command, to, key, webhook)

    def _end(self, reason: str, *, posted: bool = True) -> CallV2:
        """V8: the call is over: ``call.hangup`` with its reason and the answered seconds."""
        if self.state == "ended":
            return self
        self.state, self.menu = "ended", None
        duration = round(self.clock - self.answered_at) if self.answered_at is not None else 0
        result = "COMPLETED" if self.answered_at is not None else "CANCEL"
        if posted:
            self._post(
                "call.hangup",
                callResult=result,
                callReason=reason,
                endTime=self._stamp(),
                callDurationSeconds=duration,
            )
        self._note("call.hangup", "sinch", "disconnect", f"{reason}, {result} after {duration} s")
        return self._changed()

    def _changed(self) -> CallV2:
        if self.on_change is not None:
            self.on_change(self)
        return self
