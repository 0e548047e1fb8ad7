"""A simulated caller: the callbacks Sinch sends for one call, read as Sinch reads the answers.

``Call`` is one call, driven step by step (``start``, ``press``, ``wait``, ``hang_up``): the
dial pad uses it key by key, ``dial`` with one press per prompt. What the platform does at
each step is ``PlatformModel``'s (``model.py``), rule by rule as ``docs/simulation.md`` lists
and cites them (R1…R14 below). Requests go through a ``Transport``: real HTTP, or the runtime
in process.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..contract import ContractError, validate_answer
from ..functions.origin import SANDBOX_HEADER, simulated
from ..functions.script import action_line, prompt_text
from ..functions.signing import voice_signing_headers
from . import HANGUP
from .model import CALLEES, Callee, PlatformModel
from .transport import Reply, Transport, failure, http_transport

if TYPE_CHECKING:
    from .frames import TranscriptFrame
    from .stream_call import StreamVoice
    from .stream_platform import StreamTranscript

__all__ = ["Call", "CallTranscript", "Reply", "Step", "Transport", "dial", "http_transport", "new_call", "run"]

#: Connects whose callee leg is answered, and so may bring an ACE (R4).
CALLEE_LEGS = ("connectPstn", "connectSip", "connectMxp")
#: Connects whose ``suppressCallbacks`` suppresses the ACE and the DiCE (R7).
SUPPRESSIBLE = ("connectPstn", "connectSip")
CONNECT_ACTIONS = (*CALLEE_LEGS, "connectConf", "connectStream", "park")


@dataclass(frozen=True)
class Step:
    """One line of the transcript: when (seconds into the call), who did what, in answer to which callback."""

    at: float
    callback: str
    party: str
    action: str
    text: str


@dataclass
class CallTranscript:
    """What happened on one simulated call, and how it ended (``outcome``)."""

    call_id: str
    steps: list[Step] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    #: The last SVAML action the app answered with (``connectPstn``, not the ACE's ``continue``).
    final_action: str | None = None
    #: The path's outcome as a person says it: ``connectConf room-b``, ``connectPstn +1555… → ACE continue``.
    outcome: str = ""
    #: Why the app's handler failed on a callback of this call, if it did.
    failures: list[str] = field(default_factory=list)
    #: The media stream the call was connected to (S16), when the caller spoke into one.
    stream: StreamTranscript | None = None

    def add(self, at: float, callback: str, party: str, action: str, text: str = "") -> None:
        self.steps.append(Step(round(at, 2), callback, party, action, text))

    def to_frame(self) -> TranscriptFrame:
        """The transcript as a DataFrame (pandas loads here) that reads well and draws itself (``.timeline()``)."""
        import pandas as pd

        from .frames import TranscriptFrame

        columns = ["at", "callback", "party", "action", "text"]
        frame = TranscriptFrame(pd.DataFrame([vars(step) for step in self.steps], columns=columns))
        frame.index.name = "step"
        frame.attrs.update(
            call_id=self.call_id, final_action=self.final_action, outcome=self.outcome, failures=self.failures
        )
        if self.stream is not None:
            frame.attrs["stream"] = self.stream
        return frame


@dataclass
class _Menu:
    """The menu the caller is in: its options, the keys collected, the failed inputs so far (R9–R11)."""

    menus: dict[str, dict[str, Any]]
    current: dict[str, Any]
    model: PlatformModel
    failed: int = 0
    digits: str = ""

    @property
    def options(self) -> dict[str, str]:
        return {str(o["dtmf"]): str(o["action"]) for o in self.current.get("options", [])}

    @property
    def max_digits(self) -> int:
        return int(self.current.get("maxDigits") or self.model.max_digits)

    @property
    def repeats(self) -> int:
        value = self.current.get("repeats")
        return self.model.menu_repeats if value is None else int(value)

    @property
    def timeout(self) -> float:
        return int(self.current.get("timeoutMills") or self.model.menu_timeout_ms) / 1000

    @property
    def collects(self) -> bool:
        """Whether keys build a digit sequence (a PIE ``sequence``) rather than pick one option."""
        return not self.options or self.max_digits > 1

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
        callee: Callee = "answer",
        model: PlatformModel | None = None,
        sandbox: bool = False,
        max_callbacks: int | None = None,
        on_change: Callable[[Call], None] | None = None,
        call_id: str | None = None,
        person: str = "caller",
        stream_voice: StreamVoice | None = None,
        stream_runtime: str | None = None,
    ) -> None:
        if callee not in CALLEES:
            raise ValueError(f"callee={callee!r}: use one of {', '.join(CALLEES)}")
        self.transport = transport
        self.cli, self.to, self.callee = cli, to, callee
        self.model = model or PlatformModel()
        self.application_key, self.secret = application_key, application_secret
        #: The runtime's marker (``simulator_options``): its journal then shows these callbacks as simulated.
        self.marker, self.source, self.sandbox = marker, source, sandbox
        self.transcript = CallTranscript(call_id=call_id or str(uuid.uuid4()))
        self.common = {"callid": self.transcript.call_id, "version": 1, "custom": custom}
        self.common["applicationKey"] = application_key
        self.state = "idle"
        self.menu: _Menu | None = None
        #: The simulated clock: seconds since the call rang (R14); payload timestamps follow it.
        self.clock = 0.0
        self.began = time.time()
        self.answered_at: float | None = None
        self.suppressed = False
        self.budget = max_callbacks if max_callbacks is not None else self.model.max_callbacks
        self.on_change = on_change
        #: Who presses keys and hangs up: the ``caller`` of an incoming call, the ``callee`` of a callout (R17).
        self.person = person
        #: A callout's inline SVAML by callback kind: its answer without a callback (R18).
        self.inline: dict[str, dict[str, Any]] = {}
        #: A callout's callback URLs by kind, as paths on the runtime (R18); else R1's path.
        self.paths: dict[str, str] = {}
        #: Callbacks a callout turned off (``enableDice`` false…), with why (R17).
        self.muted: dict[str, str] = {}
        #: What the caller says into a connectStream's stream (S16); None: the stream is not followed (R4).
        self.stream_voice = stream_voice
        #: The runtime (``http://127.0.0.1:PORT``) a stream endpoint off this machine reaches (S16).
        self.stream_runtime = stream_runtime

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def _answer_call(self) -> None:
        if self.answered_at is None:
            self.answered_at = self.clock

    def _say(self, callback: str, party: str, action: str, text: str = "") -> None:
        self.transcript.add(self.clock, callback, party, action, text)

    # Wire -----------------------------------------------------------------

    def _timestamp(self) -> str:
        return datetime.fromtimestamp(self.began + self.clock, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _post(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        """Send one callback (R1, R2); its answer as Sinch reads it, or None when Sinch cannot use it (R12)."""
        self.budget -= 1
        if kind in self.inline:  # R18: the callout's own SVAML answers, no callback is sent
            self._say(kind, "sinch", "inline", f"the callout's inline {kind.upper()} SVAML answers (no callback)")
            return self._usable(kind, Reply(200, json.dumps(self.inline[kind]).encode()))
        payload = {"event": kind, **self.common, "timestamp": self._timestamp(), **fields}
        body = json.dumps(payload).encode()
        path = self.paths.get(kind) or (f"/{kind}" if self.model.per_event_paths else self.model.callback_path)
        headers = {"content-type": "application/json", **simulated(self.marker, self.source)}
        if self.sandbox:
            headers[SANDBOX_HEADER] = self.transcript.call_id
        if self.secret is not None:  # signed as Sinch signs, so a runtime that checks signatures accepts the call
            headers.update(voice_signing_headers("POST", path, body, self.application_key, self.secret))
        reply = self.transport(path, body, headers)
        self.transcript.statuses.append(reply.status)
        failed = failure(reply)
        if failed is not None:  # R15: the cause where the caller heard the apology
            self.transcript.failures.append(failed)
            self._say(kind, "sinch_nb", "app failed", f"the app failed: {failed} — sn.last_error()")
        if kind in ("dice", "notify"):
            return {}
        return self._usable(kind, reply)

    def _usable(self, kind: str, reply: Reply) -> dict[str, Any] | None:
        """The answer if Sinch can act on it; else why not, in the transcript (R12)."""
        why = None
        answer: Any = None
        if reply.status != 200:
            why = f"answered HTTP {reply.status}"
        else:
            try:
                answer = json.loads(reply.body) if reply.body else None
            except ValueError:
                why = "is not JSON"
        if why is None:
            try:
                validate_answer(kind, answer)
            except ContractError as error:
                why = f"is not usable: {error}"
        if why is None:
            return dict(answer)
        reason = self.model.callback_error_reason
        self._say(kind, "sinch", "error", f"the {kind.upper()} answer {why}: Sinch ends the call ({reason})")
        self.transcript.outcome = f"ended by Sinch: the {kind.upper()} answer {why.split(':')[0]}"
        return None

    # Steps ----------------------------------------------------------------

    def start(self) -> Call:
        """Ring: post the ICE (R2) and play its answer."""
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
        """The caller answers the current prompt with ``keys``: one key, or a digit sequence such as ``1234#``."""
        keys = str(keys)
        if keys == HANGUP:
            return self.hang_up()
        if self.state != "menu" or self.menu is None:
            self._say("pie", self.person, "press", f"{keys} (nothing is listening)")
            return self._changed()
        menu = self.menu
        self.clock += self.model.key_seconds * len(keys)
        if not menu.collects:  # R10: one key picks an option; the rest of a run goes nowhere
            key, rest = keys[:1], keys[1:]
            shown = key if not rest else f"{key} ({rest} ignored: this menu takes one key)"
            self._say("pie", self.person, "press", shown)
            return self._choose(key)
        typed = keys.split("#", 1)[0]
        room = menu.max_digits - len(menu.digits)
        taken, cut = typed[:room], typed[room:]
        note = f" ({cut} cut: maxDigits {menu.max_digits})" if cut else ""
        self._say("pie", self.person, "press", f"{keys}{note}")
        menu.digits += taken
        if "#" in keys or len(menu.digits) >= menu.max_digits:
            return self._collected()
        return self._changed()  # more keys may come; silence ends the input (``wait``)

    def wait(self) -> Call:
        """The caller stays silent through one prompt: the menu repeats, then times out (R9)."""
        if self.state == "menu" and self.menu is not None:
            self.clock += self.menu.timeout
            if self.menu.digits:  # R11: the timeout ends a sequence the caller began
                return self._collected()
            self._say("pie", self.person, "silence", f"no key for {self.menu.timeout:g} s")
            return self._failed("timeout", "")
        return self._changed()

    def hang_up(self) -> Call:
        """The caller hangs up: a PIE ``hangup`` if a menu was listening (R9), then DiCE ``CALLERHANGUP``
        (``CALLEEHANGUP`` when the one on the line is a callout's callee, R17)."""
        if self.state in ("ended", "idle"):
            return self._changed()
        self._say("pie" if self.state == "menu" else "ace", self.person, "hangup", "hangs up")
        if self.state == "menu" and self.menu is not None:
            menu, self.menu = self.menu, None
            if "pie" not in self.muted:
                self._post("pie", menuResult=menu.result("hangup", ""))  # the call is gone: its answer is not played
        self._end("CALLEEHANGUP" if self.person == "callee" else "CALLERHANGUP")
        return self._changed()

    @property
    def pies(self) -> int:
        """How many PIEs this call has sent: the explorer waits for the next one."""
        return sum(1 for s in self.transcript.steps if s.callback == "pie" and s.party == "sinch" and s.action == "pie")

    # Menus ----------------------------------------------------------------

    def _choose(self, key: str) -> Call:
        menu = self.menu
        assert menu is not None
        target = menu.options.get(key)
        if target is None:
            return self._failed("invalidinput", key)  # R10
        if target.startswith("menu("):
            menu.current, menu.failed, menu.digits = menu.menus[target[5:-1]], 0, ""
            return self._prompt(str(menu.current.get("mainPrompt") or ""))
        return self._send_pie(menu.result("return", target[7:-1]))

    def _collected(self) -> Call:
        """The digits are in (``#``, ``maxDigits`` or the timeout): an option's ``dtmf`` picks it, else a sequence."""
        menu = self.menu
        assert menu is not None
        if menu.digits in menu.options:
            return self._choose(menu.digits)
        return self._send_pie(menu.result("sequence", menu.digits))  # R11

    def _failed(self, kind: str, value: str) -> Call:
        """No usable input to a prompt: play it again (``repeatPrompt`` if set), or, past the repeats, the PIE."""
        menu = self.menu
        assert menu is not None
        menu.failed += 1
        if menu.failed > menu.repeats:
            return self._send_pie(menu.result(kind, value))
        again = menu.current.get("repeatPrompt") or menu.current.get("mainPrompt")
        return self._prompt(str(again or ""))

    def _prompt(self, prompt: str) -> Call:
        text = prompt_text(prompt)
        self._say("pie", "app", "prompt", text)
        self.clock += self.model.speech_seconds(text)
        return self._changed()

    def _send_pie(self, result: dict[str, str]) -> Call:
        self.menu = None
        shown = result["value"] or "(nothing)"
        if "pie" in self.muted:  # R17: a callout without enablePie: the menu's result goes nowhere, the call ends
            self._say("pie", "sinch", "muted", f"no PIE ({result['type']}: {shown}): {self.muted['pie']}")
            self._end("MANAGERHANGUP")
            return self
        self._say("pie", "sinch", "pie", f"{result['type']}: {shown}")
        self._play("pie", self._post("pie", menuResult=result))
        return self

    # Reading answers ------------------------------------------------------

    def _hear(self, kind: str, answer: dict[str, Any]) -> None:
        for item in answer.get("instructions", []):
            name = item.get("name")
            if name == "say":
                text = str(item.get("text", ""))
                self._say(kind, "app", "say", text)
                self.clock += self.model.speech_seconds(text)
            elif name == "playFiles":
                ids = [str(i) for i in item.get("ids", [])]
                self._say(kind, "app", "play", " ".join(prompt_text(i) for i in ids))
                spoken = [prompt_text(i) for i in ids if i.startswith(("#tts", "#ssml"))]
                files = len(ids) - len(spoken)
                self.clock += sum(self.model.speech_seconds(t) for t in spoken) + files * self.model.file_seconds
            elif name == "answer":
                self._answer_call()
                self._say(kind, "app", "answer", "answers the call")
            else:
                self._say(kind, "app", name or "?", "")

    def _play(self, kind: str, answer: dict[str, Any] | None) -> None:
        """Act on one answer as the platform does: instructions in order, then the one action."""
        if answer is None:
            self._end(self.model.callback_error_reason)
            return
        if self.budget <= 0:
            self._say(kind, "sinch", "error", f"stopped: {self.model.max_callbacks} callbacks (a menu loop?)")
            self._end(self.model.callback_error_reason)
            return
        self._hear(kind, answer)
        action = answer.get("action") or {}
        name = action.get("name")
        if kind != "ace" or name not in ("continue", None):
            self.transcript.final_action = name
        if name == "runMenu":  # R8: a menu answers the call and plays its main menu's prompt
            self._answer_call()
            menus = {menu["id"]: menu for menu in action.get("menus", [])}
            self.menu = _Menu(menus, menus[action.get("mainMenu") or "main"], self.model)
            self.state = "menu"
            self.transcript.outcome = f"menu {self.menu.current['id']}"
            self._prompt(str(self.menu.current.get("mainPrompt") or ""))
            return
        if name in CONNECT_ACTIONS:
            self._connect(kind, action)
            return
        if name == "continue":  # ACE: the legs are bridged; PIE: the call goes on as it was (R3)
            self._say(kind, "app", "continue", action_line(action))
            self.transcript.outcome = self.transcript.outcome or "continue"
            if kind == "ace":
                self.transcript.outcome += " → ACE continue"
            self.state = "connected"
            self._changed()
            return
        text = action_line(action) if name else "no action: the call ends"
        self._say(kind, "app", name or "none", text)
        if kind == "ace":
            self.transcript.outcome += f" → ACE {name or 'none'}"
        elif not self.transcript.outcome.startswith("ended by"):
            self.transcript.outcome = name or "ended"
        self._end("MANAGERHANGUP")

    def _connect(self, kind: str, action: dict[str, Any]) -> None:
        """A connect (R3–R7): the callee leg rings and answers (or not); an ACE only when a callee answered."""
        name = str(action["name"])
        self._answer_call()
        line = action_line(action)
        self._say(kind, "app", name, line)
        target = action.get("number") or (action.get("destination") or {}).get("endpoint") or ""
        self.transcript.outcome = f"{name} {action.get('conferenceId') or target}".strip()
        self.suppressed = name in SUPPRESSIBLE and action.get("suppressCallbacks") is True
        if name == "connectStream" and self.stream_voice is not None:
            self._stream(kind, action, self.stream_voice)
            return
        if name not in CALLEE_LEGS and not (name == "connectStream" and self.model.stream_ace):
            self.state = "connected"  # R4: a conference, a park or a stream has no callee to answer
            self._changed()
            return
        if self.callee != "answer":  # R6: busy, no answer or failed
            rings = int(action.get("dialTimeout") or self.model.dial_timeout_s) if self.callee == "no-answer" else 1
            self.clock += rings
            result, reason = self.model.unanswered[self.callee]
            self._say(kind, "callee", self.callee, f"{target or 'the callee'}: {result}")
            self.transcript.outcome += f" → {result}"
            self._end(reason, result=result)
            return
        self.clock += self.model.ring_seconds
        self._say(kind, "callee", "answer", f"{target or 'the callee'} answers")
        if self.suppressed:  # R7
            self._say("ace", "sinch", "suppressed", "no ACE: suppressCallbacks")
            self.state = "connected"
            self._changed()
            return
        amd = action.get("amd") or {}
        fields = {"amd": {"status": "human", "reason": "n/a", "duration": 0}} if amd.get("enabled") else {}
        self._play("ace", self._post("ace", **fields))  # R5: AMD only when the connect asked for it

    def _stream(self, kind: str, action: dict[str, Any], voice: StreamVoice) -> None:
        """S16: the platform opens the stream, the caller speaks into it, and the call ends with it (S17)."""
        from .stream_call import follow, stream_steps
        from .stream_platform import v1_ending

        options = action.get("streamingOptions") or {}
        max_duration = action.get("maxDuration")
        stream = follow(
            str((action.get("destination") or {}).get("endpoint") or ""),
            voice,
            runtime=self.stream_runtime,
            call_id=self.transcript.call_id,
            application_key=self.application_key,
            sample_rate=int(options.get("sampleRate") or 8000),
            call_headers=action.get("callHeaders") or [],
            model=self.model,
            max_duration=float(max_duration) if max_duration else None,
            headers=simulated(self.marker, self.source),
        )
        self.transcript.stream = stream
        self._say(kind, "sinch", "stream", f"opens {stream.url} ({stream.sample_rate} Hz)")
        start = self.clock
        for at, party, step, text in stream_steps(stream):
            self.transcript.add(start + at, kind, party, step, text)
        self.clock = start + stream.ended_at
        reason, result = v1_ending(stream, self.model)
        self.transcript.outcome += f" → stream {stream.outcome}, ended by {stream.ended_by}"
        self._end(reason, result=result)

    def _end(self, reason: str, *, result: str | None = None) -> None:
        """The call is over: a DiCE with the reason, the result and the answered seconds (R13), unless suppressed."""
        if self.state == "ended":
            return
        self.state, self.menu = "ended", None
        result = result or ("ANSWERED" if self.answered else "N/A")
        duration = round(self.clock - self.answered_at) if self.answered_at is not None else 0
        if self.suppressed:  # R7: suppressCallbacks suppresses the DiCE too
            self._say("dice", "sinch", "suppressed", f"no DiCE: suppressCallbacks ({reason}, {result})")
        elif "dice" in self.muted:  # R17: a callout without enableDice
            self._say("dice", "sinch", "muted", f"no DiCE: {self.muted['dice']} ({reason}, {result})")
        else:
            self._post(
                "dice",
                reason=reason,
                result=result,
                duration=duration,
                to={"type": "number", "endpoint": self.to},
                userRate={"currencyId": "USD", "amount": 0.0},
                debit={"currencyId": "USD", "amount": 0.0},
                **{"from": self.cli},
            )
            self._say("dice", "sinch", "disconnect", f"{reason}, {result} after {duration} s")
        self._changed()

    def _changed(self) -> Call:
        if self.on_change is not None:
            self.on_change(self)
        return self


#: What only a v1 call or only a v2 call takes among the simulator's options.
_V1_ONLY = ("custom", "application_key", "application_secret")
_V2_ONLY = ("service_id", "service_secret")


def new_call(api: str, transport: Transport, cli: str, to: str, **options: Any) -> Any:
    """A simulated call of Voice API ``api`` ("v1": ICE/PIE/ACE/DiCE, "v2": call.* CloudEvents)."""
    if api == "v2":
        from .v2_call import CallV2

        return CallV2(transport, cli, to, **{k: v for k, v in options.items() if k not in _V1_ONLY and v is not None})
    return Call(transport, cli, to, **{k: v for k, v in options.items() if k not in _V2_ONLY})


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
    callee: Callee = "answer",
    model: PlatformModel | None = None,
    timeout: float = 30.0,
    api: str = "v1",
    service_id: str | None = None,
    service_secret: str | None = None,
    say: str | Sequence[str] | None = None,
    audio: str | Path | bytes | None = None,
) -> CallTranscript:
    """Place one simulated call to the runtime at ``base_url`` over HTTP; returns its transcript.

    With ``say`` or ``audio`` the caller speaks into a stream the call is connected to (S16).
    """
    voice = None
    if say is not None or audio is not None:
        from .stream_call import StreamVoice

        voice = StreamVoice(say if say is None or isinstance(say, str) else tuple(say), audio)
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        call = new_call(
            api,
            http_transport(client),
            cli,
            to,
            custom=custom,
            application_key=application_key,
            application_secret=application_secret,
            marker=marker,
            source=source,
            callee=callee,
            model=model or PlatformModel(),
            service_id=service_id,
            service_secret=service_secret,
            stream_voice=voice,
            stream_runtime=base_url,
        )
        return run(call, press)


def run(call: Any, press: Iterable[str | int] = ()) -> CallTranscript:
    """Drive ``call``: each prompt takes the next press; when presses run out the caller stays silent
    until the menus stop asking, and once connected the caller hangs up.
    """
    call.start()
    for keys in press:
        if call.state == "ended":
            break
        call.press(keys)
    while call.state == "menu":  # silence, one prompt at a time; the callback budget ends a menu loop
        call.wait()
    call.hang_up()
    transcript: CallTranscript = call.transcript
    return transcript
