"""Voice API v2 commands: the builder a v2 handler returns, and the check of what it builds.

``CommandBuilder`` is the Functions Node runtime's ``CommandBuilder`` in snake_case. Each
method appends wire commands and returns the builder; ``build()`` checks every limit Sinch
publishes and returns the answer ``{"commands": [...]}``::

    svaml.commands().answer().say("Hi").menu(
        "main", lambda m: m.prompt("Press 1 for sales").option("1", lambda b: b.dial_phone("+15550001111"))
    ).build()

A *flow* (a menu option, ``on_fail``, a dial's ``on_answer``, ``amd``'s verdicts, …) is a
callable receiving a fresh builder (return it, or nothing), a builder, or a list of wire
commands. Limits are checked when built: an answer off them raises ``CommandError`` naming
the command, the field, the limit and where in the answer it is. ``check_answer`` runs the
same check over any answer dict (a handler may return one).

Semantics taken from the Node runtime (reference §6):

- ``say``/``play`` in a row join one ``messages`` command; ``hangup`` right after them rides on
  that command's ``events.onFinish``, so the message plays out before the leg ends.
- ``dial_phone``/``dial_sip``/``dial_stream``/``dial_relay``/``bridge_to`` never answer. They
  name the leg (``destination``, ``stream``, ``relay``; a second one in the same answer
  ``destination-2``), put this leg and the new one in a bridge named after the new leg, fill
  ``from`` with this side's number when the builder was made for a call, and tear down: the
  new leg's hangup hangs up this leg, and (in an answer to ``call.incoming``) this leg's
  hangup hangs up the new one. Busy, rejected, timed out and failed run ``on_no_answer``, by
  default hanging up this leg. Tearing down needs this leg's name: an answer to
  ``call.incoming`` names it ``incoming`` unless ``call_name()`` says otherwise; a later
  answer uses the name the call already has. A builder that knows neither (made for no call,
  no ``call_name()``) adds no teardown, and busy/no answer run only ``on_no_answer``.
- ``call_name()`` and ``on_hangup()`` set the answer's ``callName`` and ``events.onHangup``,
  which the platform honours only in the answer to ``call.incoming``.
- ``option("*", ...)`` writes the key ``\\*`` (match keys are patterns); ``match()`` takes a
  pattern as given.
- ``webhook(name)`` with no ``url`` posts to the Function itself: the URL given to
  ``build(webhook_url=...)``, or set with ``webhook_url_for(...)`` by the runtime.

Choices where the sources disagree (reference §9): an empty ``commands`` list is allowed
(tutorials and the Functions runtime ack with it; the schema says minItems 1); a menu's
failure handler is written ``onFail`` (the OAS and the Java SDK; sinch 2.3.0 writes
``onFailure``, which the platform does not read, so ``check_answer`` refuses it); ``say``
uses the voice ``Emma`` unless told (every Sinch example does; the field is required);
a dial helper's default ``from`` is this side's number (the number called on an inbound
call, the caller id of an outbound one), as tutorial 2.1 does; a field the reference's tables
do not list is refused (it catches ``onFailure`` and typos); match patterns must compile with
Python's ``re`` (the simulator runs them); phone numbers are E.164 with the ``+``.

Standard library only: the same code runs in the deployed Function.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Self, TypeAlias

from .calls import Call
from .errors import AnswerError, CommandError, SvamlError

__all__ = [
    "DEFAULT_VOICE",
    "CommandBuilder",
    "CommandError",
    "Flow",
    "MenuBuilder",
    "as_answer",
    "check_answer",
    "commands",
    "webhook_url_for",
]

#: The TTS voice ``say`` uses unless told (``say.voiceName`` is required on the wire).
DEFAULT_VOICE = "Emma"

# -- limits (reference §2–§4) ------------------------------------------------

NAME_LENGTH = (1, 32)  # callName, messagesName, recordingName, bridgeName
MENU_NAME_LENGTH = (1, 16)  # startMenu, menus keys, gotoMenu menuName
WEBHOOK_NAME_LENGTH = (1, 64)
MESSAGES_COUNT = (1, 10)  # per messages command and per prompt
SAY_TEXT_LENGTH = (1, 600)
DIAL_TIMEOUT_S = (1, 60)
MAX_CALL_DURATION_S = (1, 14400)
INPUT_TIMEOUT_S = (1, 60)
REPEAT_COUNT = (0, 10)
INPUT_LENGTH = (1, 100)
MAX_MATCHES = 50
MATCH_KEY_LENGTH = (1, 256)
TERMINATING_SEQUENCE_LENGTH = (1, 10)
PHONE_NUMBER_LENGTH = (3, 16)
SIP_ENDPOINT_LENGTH = (1, 256)
MAX_CALL_HEADERS = 16
CALL_HEADER_LENGTH = 255
SAMPLE_RATES = (8000, 16000, 24000, 44100, 48000, 96000)
RECORDING_DESTINATIONS = {"AWS": "s3://", "GCP": "gs://", "AZURE": "azure://"}

_NO_SPACE = re.compile(r"^\S+$")
_E164 = re.compile(r"^\+[1-9][0-9]+$")
_DTMF = re.compile(r"^[0-9*#]+$")
_HEADER_KEY = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 7230 token characters

_DIAL_EVENTS = ("onAnswer", "onBusy", "onReject", "onTimeout", "onHangup", "onFailure")
_NO_ANSWER_EVENTS = ("onBusy", "onReject", "onTimeout", "onFailure")
_AMD_EVENTS = ("onHuman", "onMachine", "onBeep", "onUnknown")

_webhook_url: contextvars.ContextVar[str | None] = contextvars.ContextVar("sinch_nb_webhook_url", default=None)


@contextlib.contextmanager
def webhook_url_for(url: str | None) -> Iterator[None]:
    """Within the block, ``webhook(name)`` commands without a ``url`` post to ``url`` (the runtime sets it)."""
    token = _webhook_url.set(url)
    try:
        yield
    finally:
        _webhook_url.reset(token)


# -- the check ---------------------------------------------------------------

_URL = re.compile(r"^https?://\S+$")
_WS_URL = re.compile(r"^wss?://\S+$")
_SIP_URI = re.compile(r"^sips?:\S+$")
_URL_LENGTH = (1, 2048)
_DETAIL_KEYS = {"PHONE": "phone", "SIP": "sip", "STREAM": "stream", "VOICE_RELAY": "voiceRelay"}
_MENU_ITEM_FIELDS = (
    "prompt", "repeatPrompt", "inputTimeoutDurationSeconds", "repeatCount", "minimumInputLength",
    "maximumInputLength", "terminatingSequence", "inputMethods", "matches", "onFail",
)  # fmt: skip


class _At:
    """One command under check: each check names the command, the field and the limit when it fails."""

    def __init__(self, check: _Check, command: str, where: str) -> None:
        self.check, self.command, self.where = check, command, where

    def fail(self, field: str, problem: str, limit: str) -> CommandError:
        return CommandError(
            f"{self.command}: {field} {problem} (limit: {limit}) at {self.where}",
            command=self.command,
            field=field,
            limit=limit,
            where=self.where,
        )

    @staticmethod
    def _key(field: str) -> str:
        return field.rsplit(".", 1)[-1]

    def fields(self, value: Any, field: str, allowed: Sequence[str]) -> Mapping[str, Any]:
        """``value`` as an object with no keys but ``allowed``."""
        if not isinstance(value, Mapping):
            raise self.fail(field or "(command)", f"is a {type(value).__name__}", "an object of " + ", ".join(allowed))
        for key in value:
            if key not in allowed:
                raise self.fail(f"{field}.{key}" if field else str(key), "is not a field", ", ".join(allowed))
        return value

    def required(self, container: Mapping[str, Any], field: str, limit: str) -> Any:
        if self._key(field) not in container:
            raise self.fail(field, "is missing", "required, " + limit)
        return container[self._key(field)]

    def text(
        self,
        container: Mapping[str, Any],
        field: str,
        length: tuple[int, int],
        *,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
        meaning: str = "",
    ) -> None:
        low, high = length
        limit = f"{low}–{high} characters" + (f", {meaning}" if meaning else "")
        if required:
            self.required(container, field, limit)
        value = container.get(self._key(field))
        if value is None and not required:
            return
        if not isinstance(value, str):
            raise self.fail(field, f"is a {type(value).__name__}, not text", limit)
        if not low <= len(value) <= high:
            raise self.fail(field, f"is {len(value)} characters", limit)
        if pattern is not None and not pattern.match(value):
            raise self.fail(field, f"is {value!r}", limit)

    def integer(
        self, container: Mapping[str, Any], field: str, low: int, high: int | None = None, *, required: bool = False
    ) -> None:
        limit = f"an integer from {low} to {high}" if high is not None else f"an integer ≥ {low}"
        if required:
            self.required(container, field, limit)
        if self._key(field) not in container:
            return
        value = container[self._key(field)]
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(field, f"is {value!r}", limit)
        if value < low or (high is not None and value > high):
            raise self.fail(field, f"is {value}", limit)

    def choice(
        self, container: Mapping[str, Any], field: str, choices: Sequence[Any], *, required: bool = False
    ) -> None:
        limit = "one of " + ", ".join(str(c) for c in choices)
        if required:
            self.required(container, field, limit)
        if self._key(field) not in container:
            return
        value = container[self._key(field)]
        if value not in choices or isinstance(value, bool) != isinstance(choices[0], bool):
            raise self.fail(field, f"is {value!r}", limit)

    def events(self, item: Mapping[str, Any], keys: Sequence[str]) -> None:
        if "events" in item:
            for key, flow in self.fields(item["events"], "events", keys).items():
                self.check.commands(flow, f"{self.where}.events.{key}")

    def messages(self, container: Mapping[str, Any], field: str) -> None:
        low, high = MESSAGES_COUNT
        messages = self.required(container, field, f"{low}–{high} messages")
        if not isinstance(messages, list | tuple) or not low <= len(messages) <= high:
            size = f"has {len(messages)} messages" if isinstance(messages, list | tuple) else "is not a list"
            raise self.fail(field, size, f"{low}–{high} messages")
        for index, message in enumerate(messages):
            at = f"{field}[{index}]"
            message = self.fields(message, at, ("type", "say", "play"))
            self.choice(message, f"{at}.type", ("SAY", "PLAY"), required=True)
            if message["type"] == "SAY":
                say = self.fields(
                    self.required(message, f"{at}.say", "an object"), f"{at}.say", ("text", "voiceName", "format")
                )
                self.text(say, f"{at}.say.text", SAY_TEXT_LENGTH, required=True)
                self.text(say, f"{at}.say.voiceName", (1, 64), required=True)
                self.choice(say, f"{at}.say.format", ("TEXT", "SSML"))
            else:
                play = self.fields(self.required(message, f"{at}.play", "an object"), f"{at}.play", ("url",))
                self.text(play, f"{at}.play.url", _URL_LENGTH, required=True)

    def headers(self, details: Mapping[str, Any], field: str) -> None:
        headers = details.get("callHeaders")
        if headers is None:
            return
        if not isinstance(headers, list | tuple) or len(headers) > MAX_CALL_HEADERS:
            size = f"has {len(headers)} headers" if isinstance(headers, list | tuple) else "is not a list"
            raise self.fail(field, size, f"at most {MAX_CALL_HEADERS} {{key, value}}")
        for index, header in enumerate(headers):
            at = f"{field}[{index}]"
            header = self.fields(header, at, ("key", "value"))
            self.text(header, f"{at}.key", (1, CALL_HEADER_LENGTH), required=True, pattern=_HEADER_KEY, meaning="token")
            self.text(header, f"{at}.value", (0, CALL_HEADER_LENGTH))

    def party(self, item: Mapping[str, Any], field: str, *, origin: bool) -> None:
        kinds = ("PHONE", "SIP") if origin else tuple(_DETAIL_KEYS)
        party = self.fields(item[field], field, ("type", *_DETAIL_KEYS.values()))
        self.choice(party, f"{field}.type", kinds, required=True)
        kind = party["type"]
        key = _DETAIL_KEYS[kind]
        at = f"{field}.{key}"
        self.fields(party, field, ("type", key))
        details = self.required(party, at, f"the {kind} details")
        if kind == "PHONE":
            self.fields(details, at, ("number",))
            length, pattern = PHONE_NUMBER_LENGTH, _E164
            self.text(
                details, f"{at}.number", length, required=True, pattern=pattern, meaning="E.164 like +15551234567"
            )
            return
        allowed: tuple[str, ...] = {
            "SIP": ("endpoint", "displayName") if origin else ("endpoint", "transport", "callHeaders"),
            "STREAM": ("endpoint", "streamOptions", "callHeaders"),
            "VOICE_RELAY": ("endpoint", "ttsVoice", "sttLanguage", "enableInterruptions", "callHeaders"),
        }[kind]
        self.fields(details, at, allowed)
        if kind == "SIP":
            self.text(
                details, f"{at}.endpoint", SIP_ENDPOINT_LENGTH, required=True, pattern=_SIP_URI, meaning="sip:/sips:"
            )
            self.text(details, f"{at}.displayName", (1, 256))
            self.choice(details, f"{at}.transport", ("UDP", "TCP", "TLS"))
        else:
            self.text(details, f"{at}.endpoint", _URL_LENGTH, required=True, pattern=_WS_URL, meaning="ws:// or wss://")
        if "streamOptions" in details:
            options = self.fields(details["streamOptions"], f"{at}.streamOptions", ("version", "codec", "sampleRate"))
            self.choice(options, f"{at}.streamOptions.version", (1,))
            self.choice(options, f"{at}.streamOptions.codec", ("PCM",))
            self.choice(options, f"{at}.streamOptions.sampleRate", SAMPLE_RATES)
        if kind == "VOICE_RELAY":
            self.text(details, f"{at}.ttsVoice", (1, 64), required=True)
            self.text(details, f"{at}.sttLanguage", (2, 35), required=True)
            self.choice(details, f"{at}.enableInterruptions", (True, False))
        self.headers(details, f"{at}.callHeaders")


class _Check:
    """Walks an answer's wire JSON; raises ``CommandError`` at the first command off its limits."""

    def __init__(self) -> None:
        self.menus: list[set[str]] = []  # the menus of the enclosing menu commands, innermost last

    def answer(self, answer: Any) -> None:
        at = _At(self, "answer", "the answer")
        answer = at.fields(answer, "", ("commands", "callName", "events"))
        at.required(answer, "commands", "a list of commands")
        at.text(answer, "callName", NAME_LENGTH, pattern=_NO_SPACE, meaning="no whitespace")
        self.commands(answer["commands"], "commands")
        if "events" in answer:
            events = at.fields(answer["events"], "events", ("onHangup",))
            if "onHangup" in events:
                self.commands(events["onHangup"], "events.onHangup")

    def commands(self, items: Any, where: str) -> None:
        if not isinstance(items, list | tuple):
            raise _At(self, "commands", where).fail(where, f"is a {type(items).__name__}", "a list of commands")
        for index, item in enumerate(items):
            self.command(item, f"{where}[{index}]")

    def command(self, item: Any, where: str) -> None:
        name = item.get("command") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or name not in _COMMANDS:
            raise _At(self, str(name), where).fail("command", f"is {name!r}", "one of " + ", ".join(_COMMANDS))
        allowed, check = _COMMANDS[name]
        at = _At(self, name, where)
        at.fields(item, "", ("command", *allowed))
        if check is not None:
            check(self, at, item)

    # One method per command with fields; the fields each may have are in _COMMANDS.

    def hangup(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "callName", NAME_LENGTH, pattern=_NO_SPACE, meaning="no whitespace")

    def messages(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "messagesName", NAME_LENGTH)
        at.messages(item, "messages")
        at.events(item, ("onFinish",))

    def pause(self, at: _At, item: Mapping[str, Any]) -> None:
        at.integer(item, "durationMilliseconds", 1, required=True)

    def webhook(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "webhookName", WEBHOOK_NAME_LENGTH, required=True, pattern=_NO_SPACE, meaning="no whitespace")
        at.required(item, "url", "pass url=, or build(webhook_url=...) for the Function's own URL")
        at.text(item, "url", _URL_LENGTH, pattern=_URL, meaning="an http(s) URL")
        at.text(item, "fallbackUrl", _URL_LENGTH, pattern=_URL, meaning="an http(s) URL")

    def amd(self, at: _At, item: Mapping[str, Any]) -> None:
        at.events(item, _AMD_EVENTS)

    def start_recording(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "recordingName", NAME_LENGTH)
        field = "recordingOptions"
        allowed = ("destination", "destinationUrl", "credentials", "format", "recordingType", "transcriptionOptions")
        options = at.fields(at.required(item, field, "an object"), field, allowed)
        at.choice(options, f"{field}.destination", tuple(RECORDING_DESTINATIONS), required=True)
        scheme = RECORDING_DESTINATIONS[options["destination"]]
        url = re.compile("^" + re.escape(scheme) + r"\S+$")
        at.text(options, f"{field}.destinationUrl", _URL_LENGTH, required=True, pattern=url, meaning=f"a {scheme} URL")
        at.text(options, f"{field}.credentials", _URL_LENGTH, required=True)
        at.choice(options, f"{field}.format", ("MP3", "WAV"))
        at.choice(options, f"{field}.recordingType", ("COMBINED", "INBOUND", "OUTBOUND"))
        if "transcriptionOptions" in options:
            sub = f"{field}.transcriptionOptions"
            transcription = at.fields(options["transcriptionOptions"], sub, ("isEnabled", "locale"))
            at.choice(transcription, f"{sub}.isEnabled", (True, False), required=True)
            at.text(transcription, f"{sub}.locale", (2, 35))
        at.events(item, ("onFinish", "onFailure"))

    def dial(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "callName", NAME_LENGTH, pattern=_NO_SPACE, meaning="no whitespace")
        at.required(item, "to", "PHONE, SIP, STREAM or VOICE_RELAY")
        at.party(item, "to", origin=False)
        if "from" in item:
            at.party(item, "from", origin=True)
        at.integer(item, "dialTimeoutDurationSeconds", *DIAL_TIMEOUT_S)
        at.integer(item, "maxCallDurationSeconds", *MAX_CALL_DURATION_S)
        at.events(item, _DIAL_EVENTS)

    def menu(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "startMenu", MENU_NAME_LENGTH, required=True)
        menus = at.fields(at.required(item, "menus", "an object of named menus"), "menus", tuple(item.get("menus", ())))
        if item["startMenu"] not in menus:
            raise at.fail("startMenu", f"is {item['startMenu']!r}", "the name of one of its menus: " + ", ".join(menus))
        self.menus.append(set(menus))
        try:
            for name, menu in menus.items():
                self.menu_item(at, name, menu)
        finally:
            self.menus.pop()

    def menu_item(self, at: _At, name: str, item: Any) -> None:
        low, high = MENU_NAME_LENGTH
        if not low <= len(name) <= high:
            raise at.fail(f"menus[{name!r}]", f"is {len(name)} characters", f"{low}–{high} characters")
        field = f"menus.{name}"
        if isinstance(item, Mapping) and "onFailure" in item:
            raise at.fail(f"{field}.onFailure", "is not read by the platform (sinch 2.3.0's spelling)", "write onFail")
        item = at.fields(item, field, _MENU_ITEM_FIELDS)
        for key in ("prompt", "repeatPrompt"):
            if key in item:
                at.messages(
                    at.fields(item[key], f"{field}.{key}", ("messages", "allowBargeIn")), f"{field}.{key}.messages"
                )
                at.choice(item[key], f"{field}.{key}.allowBargeIn", (True, False))
        if "repeatPrompt" in item and "prompt" not in item:
            raise at.fail(f"{field}.repeatPrompt", "is set without a prompt", "only with a prompt")
        at.integer(item, f"{field}.inputTimeoutDurationSeconds", *INPUT_TIMEOUT_S)
        at.integer(item, f"{field}.repeatCount", *REPEAT_COUNT)
        at.integer(item, f"{field}.minimumInputLength", *INPUT_LENGTH)
        at.integer(item, f"{field}.maximumInputLength", *INPUT_LENGTH)
        shortest, longest = item.get("minimumInputLength", 1), item.get("maximumInputLength", 1)
        if shortest > longest:
            raise at.fail(f"{field}.minimumInputLength", f"is {shortest}", f"at most maximumInputLength ({longest})")
        at.text(
            item, f"{field}.terminatingSequence", TERMINATING_SEQUENCE_LENGTH, pattern=_DTMF, meaning="0-9, * and #"
        )
        if "inputMethods" in item and item["inputMethods"] != ["DTMF"]:
            raise at.fail(f"{field}.inputMethods", f"is {item['inputMethods']!r}", '["DTMF"]')
        if "matches" in item:
            self.matches(at, item["matches"], f"{field}.matches", longest)
        if "onFail" in item:
            self.commands(item["onFail"], f"{at.where}.{field}.onFail")

    def matches(self, at: _At, matches: Any, field: str, longest: int) -> None:
        if not isinstance(matches, Mapping) or len(matches) > MAX_MATCHES:
            size = f"has {len(matches)} patterns" if isinstance(matches, Mapping) else "is not an object"
            raise at.fail(field, size, f"at most {MAX_MATCHES} patterns")
        low, high = MATCH_KEY_LENGTH
        for key, flow in matches.items():
            if not low <= len(key) <= high:
                raise at.fail(f"{field}[{key!r}]", f"is {len(key)} characters", f"{low}–{high} characters")
            try:
                re.compile(key)
            except re.error as error:
                raise at.fail(
                    f"{field}[{key!r}]", f"is not a regular expression ({error})", "a literal or a regex"
                ) from None
            keys = key.replace("\\*", "*")
            if _DTMF.match(keys) and len(keys) > longest:
                limit = f"maximumInputLength {longest}; set max_length({len(keys)})"
                raise at.fail(f"{field}[{key!r}]", f"needs {len(keys)} keys, so it never matches", limit)
            self.commands(flow, f"{at.where}.{field}[{key!r}]")

    def goto_menu(self, at: _At, item: Mapping[str, Any]) -> None:
        at.text(item, "menuName", MENU_NAME_LENGTH, required=True)
        if not self.menus:
            raise at.fail("menuName", "is outside a menu", "only in a menu's option, match or on_fail")
        if item["menuName"] not in self.menus[-1]:
            limit = "a menu of the enclosing menu command: " + ", ".join(sorted(self.menus[-1]))
            raise at.fail("menuName", f"is {item['menuName']!r}", limit)


#: Each command's fields (beside ``command``) and the check of their values.
_COMMANDS: dict[str, tuple[tuple[str, ...], Callable[[_Check, _At, Mapping[str, Any]], None] | None]] = {
    "answer": ((), None),
    "hangup": (("callName",), _Check.hangup),
    "dial": (
        ("callName", "from", "to", "dialTimeoutDurationSeconds", "maxCallDurationSeconds", "events"),
        _Check.dial,
    ),
    "messages": (("messagesName", "messages", "events"), _Check.messages),
    "stopMessages": (
        ("messagesName",),
        lambda check, at, item: at.text(item, "messagesName", NAME_LENGTH, required=True),
    ),
    "pause": (("durationMilliseconds",), _Check.pause),
    "webhook": (("webhookName", "url", "fallbackUrl"), _Check.webhook),
    "amd": (("events",), _Check.amd),
    "startRecording": (("recordingName", "recordingOptions", "events"), _Check.start_recording),
    "stopRecording": (
        ("recordingName",),
        lambda check, at, item: at.text(item, "recordingName", NAME_LENGTH, required=True),
    ),
    "bridgeCall": (("bridgeName",), lambda check, at, item: at.text(item, "bridgeName", NAME_LENGTH, required=True)),
    "menu": (("startMenu", "menus"), _Check.menu),
    "gotoMenu": (("menuName",), _Check.goto_menu),
}


def check_answer(answer: Mapping[str, Any]) -> None:
    """Raise ``CommandError`` if ``answer`` (``{"commands": [...], ...}``) breaks a limit Sinch publishes."""
    _Check().answer(answer)


# -- building ----------------------------------------------------------------

Flow: TypeAlias = "Callable[[CommandBuilder], Any] | CommandBuilder | Sequence[Mapping[str, Any]]"


def _fill_webhook_urls(value: Any, url: str) -> None:
    if isinstance(value, dict):
        if value.get("command") == "webhook" and "url" not in value:
            value["url"] = url
        for item in value.values():
            _fill_webhook_urls(item, url)
    elif isinstance(value, list):
        for item in value:
            _fill_webhook_urls(item, url)


def _party(value: str | Mapping[str, Any], what: str) -> dict[str, Any]:
    """A wire ``to``/``from``: ``+1555…`` → PHONE, ``sip:…`` → SIP, ``wss://…`` → STREAM; a dict as given."""
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    if not isinstance(value, str):
        raise SvamlError(f"{what} is a phone number, a sip: URI, a wss:// URL or a wire object; got {value!r}")
    if value.startswith(("sip:", "sips:")):
        return {"type": "SIP", "sip": {"endpoint": value}}
    if value.startswith(("ws://", "wss://")):
        return {"type": "STREAM", "stream": {"endpoint": value}}
    return {"type": "PHONE", "phone": {"number": value}}


def _headers(headers: Mapping[str, str] | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    if isinstance(headers, Mapping):
        return [{"key": str(k), "value": str(v)} for k, v in headers.items()]
    return [dict(h) for h in headers]


class _Answer:
    """What every builder of one answer shares: the call it answers, leg names, teardown."""

    def __init__(self, call: Call | None) -> None:
        self.call = call
        self.incoming = call is not None and call.event == "call.incoming"
        self.leg: str | None = call.call_name if call is not None else None  # this leg's name
        self.name_leg = False  # whether build() must name this leg (callName)
        self.counts: dict[str, int] = {}
        self.dialled = False  # whether a dial verb has referred to this leg's name
        self.teardown: list[dict[str, Any]] = []  # this leg's events.onHangup additions

    def next_leg(self, base: str) -> str:
        self.counts[base] = self.counts.get(base, 0) + 1
        return base if self.counts[base] == 1 else f"{base}-{self.counts[base]}"

    def own_leg(self) -> str | None:
        """This leg's name, naming it ``incoming`` in an answer to ``call.incoming``; None if it has none."""
        if self.leg is None and self.incoming:
            self.leg, self.name_leg = "incoming", True
        return self.leg

    def our_number(self) -> dict[str, Any] | None:
        """This side's number: the number called (inbound) or calling (outbound), as a wire ``from``."""
        if self.call is None:
            return None
        party = self.call.to if self.call.direction == "INBOUND" else self.call.from_
        if party is None or party.type != "PHONE" or party.number is None:
            return None
        return {"type": "PHONE", "phone": {"number": party.number}}


class CommandBuilder:
    """Voice API v2 commands in order; ``build()`` checks them and gives ``{"commands": [...]}``."""

    def __init__(self, call: Call | Mapping[str, Any] | None = None, *, _answer: _Answer | None = None) -> None:
        if _answer is None:
            view = Call(call) if call is not None and not isinstance(call, Call) else call
            _answer = _Answer(view)
        self._answer = _answer
        self._nested = False  # a flow's builder, inside the answer
        self._items: list[dict[str, Any]] = []
        self._open_messages: dict[str, Any] | None = None  # the messages command say/play extend
        self._last_dial: dict[str, Any] | None = None
        self._call_name: str | None = None
        self._on_hangup: list[dict[str, Any]] | None = None

    # Plumbing -------------------------------------------------------------

    def _fresh(self) -> CommandBuilder:
        builder = CommandBuilder(_answer=self._answer)
        builder._nested = True
        return builder

    def _flow(self, flow: Flow, what: str) -> list[dict[str, Any]]:
        """The wire commands of a flow: a callable given a fresh builder, a builder, or a list of commands."""
        result: Any = flow
        if callable(flow) and not isinstance(flow, CommandBuilder):
            builder = self._fresh()
            result = flow(builder)
            if result is None:
                result = builder
        if isinstance(result, CommandBuilder):
            return copy.deepcopy(result._items)
        if isinstance(result, Mapping) and "commands" in result:
            result = result["commands"]
        if isinstance(result, Sequence) and not isinstance(result, str):
            out: list[dict[str, Any]] = []
            for item in result:
                if isinstance(item, CommandBuilder):
                    out += copy.deepcopy(item._items)
                elif isinstance(item, Mapping):
                    out.append(copy.deepcopy(dict(item)))
                else:
                    raise SvamlError(f"{what}: a list of commands holds dicts or builders, not {item!r}")
            return out
        raise SvamlError(
            f"{what} takes a flow: a function given a builder, a builder, or a list of commands; got {flow!r}"
        )

    def _add(self, command: dict[str, Any]) -> Self:
        self._items.append(command)
        self._open_messages = None
        return self

    def _message(self, message: dict[str, Any], name: str | None) -> Self:
        current = self._open_messages
        if current is not None and name in (None, current.get("messagesName")):
            current["messages"].append(message)
            return self
        command: dict[str, Any] = {"command": "messages"}
        if name is not None:
            command["messagesName"] = name
        command["messages"] = [message]
        self._add(command)
        self._open_messages = command
        return self

    # The answer (honoured only in the answer to call.incoming) --------------

    def call_name(self, name: str) -> Self:
        """Name this leg (``callName``); the platform takes it only in the answer to ``call.incoming``."""
        if self._nested:
            raise SvamlError("call_name names the leg in the answer itself, not inside a flow")
        if self._answer.dialled:
            raise SvamlError("call_name comes before the dial verbs: they name this leg in their teardown")
        self._call_name = name
        self._answer.leg, self._answer.incoming, self._answer.name_leg = name, True, False
        return self

    def on_hangup(self, flow: Flow) -> Self:
        """Commands run when this leg ends (``events.onHangup``); honoured only in the answer to ``call.incoming``."""
        if self._nested:
            raise SvamlError("on_hangup belongs to the answer itself, not to a flow inside it")
        self._on_hangup = (self._on_hangup or []) + self._flow(flow, "on_hangup")
        return self

    # Basic commands ---------------------------------------------------------

    def answer(self) -> Self:
        """Answer the call (dial verbs never do)."""
        return self._add({"command": "answer"})

    def say(self, text: str, voice: str = DEFAULT_VOICE, ssml: bool = False, *, name: str | None = None) -> Self:
        """Speak ``text`` (SSML markup with ``ssml=True``) in ``voice``; says and plays in a row join one command."""
        say: dict[str, Any] = {"text": text, "voiceName": voice}
        if ssml:
            say["format"] = "SSML"
        return self._message({"type": "SAY", "say": say}, name)

    def play(self, url: str, *, name: str | None = None) -> Self:
        """Play the audio file at ``url``."""
        return self._message({"type": "PLAY", "play": {"url": url}}, name)

    def hangup(self, call_name: str | None = None) -> Self:
        """End this leg (or the leg named ``call_name``); right after say/play it waits for them to finish."""
        command: dict[str, Any] = {"command": "hangup"}
        if call_name is not None:
            command["callName"] = call_name
        last = self._open_messages
        if last is not None and "events" not in last:
            last["events"] = {"onFinish": [command]}
            self._open_messages = None
            return self
        return self._add(command)

    def pause(self, ms: int) -> Self:
        """Wait ``ms`` milliseconds before the next command (blocking; audio plays on)."""
        return self._add({"command": "pause", "durationMilliseconds": ms})

    def stop_messages(self, name: str) -> Self:
        """Stop the messages named ``name`` (and later ones of that name)."""
        return self._add({"command": "stopMessages", "messagesName": name})

    def amd(
        self,
        *,
        on_human: Flow | None = None,
        on_machine: Flow | None = None,
        on_beep: Flow | None = None,
        on_unknown: Flow | None = None,
    ) -> Self:
        """Detect an answering machine; with no flows the verdict arrives as ``call.amd.*`` webhooks."""
        flows = {"onHuman": on_human, "onMachine": on_machine, "onBeep": on_beep, "onUnknown": on_unknown}
        command: dict[str, Any] = {"command": "amd"}
        events = {key: self._flow(flow, f"amd {key}") for key, flow in flows.items() if flow is not None}
        if events:
            command["events"] = events
        return self._add(command)

    # Webhooks and recording -------------------------------------------------

    def webhook(self, name: str, url: str | None = None, *, fallback_url: str | None = None) -> Self:
        """Block until ``call.webhook.<name>`` is answered at ``url`` (the Function itself when omitted)."""
        command: dict[str, Any] = {"command": "webhook", "webhookName": name}
        if url is not None:
            command["url"] = url
        if fallback_url is not None:
            command["fallbackUrl"] = fallback_url
        return self._add(command)

    def start_recording(
        self,
        destination_url: str,
        credentials: str,
        *,
        name: str | None = None,
        format: str | None = None,
        recording_type: str | None = None,
        transcription: str | bool | None = None,
        on_finish: Flow | None = None,
        on_failure: Flow | None = None,
    ) -> Self:
        """Record to an ``s3://``, ``gs://`` or ``azure://`` URL; ``transcription`` a locale (or True) transcribes."""
        destination = next(
            (d for d, scheme in RECORDING_DESTINATIONS.items() if destination_url.startswith(scheme)), None
        )
        if destination is None:
            raise CommandError(
                f"startRecording: recordingOptions.destinationUrl is {destination_url!r} "
                "(limit: an s3://, gs:// or azure:// URL) at this command",
                command="startRecording",
                field="recordingOptions.destinationUrl",
                limit="an s3://, gs:// or azure:// URL",
            )
        options: dict[str, Any] = {
            "destination": destination,
            "destinationUrl": destination_url,
            "credentials": credentials,
        }
        if format is not None:
            options["format"] = format.upper()
        if recording_type is not None:
            options["recordingType"] = recording_type.upper()
        if transcription is not None and transcription is not False:
            options["transcriptionOptions"] = {"isEnabled": True}
            if isinstance(transcription, str):
                options["transcriptionOptions"]["locale"] = transcription
        command: dict[str, Any] = {"command": "startRecording"}
        if name is not None:
            command["recordingName"] = name
        command["recordingOptions"] = options
        events = {
            key: self._flow(flow, f"start_recording {key}")
            for key, flow in (("onFinish", on_finish), ("onFailure", on_failure))
            if flow is not None
        }
        if events:
            command["events"] = events
        return self._add(command)

    def stop_recording(self, name: str) -> Self:
        """Stop the recording named ``name``."""
        return self._add({"command": "stopRecording", "recordingName": name})

    # Menus ------------------------------------------------------------------

    def menu(self, name: str, configure: Callable[[MenuBuilder], Any]) -> Self:
        """Run menu ``name`` (blocking); ``configure`` gets a ``MenuBuilder`` to set prompt, options and limits."""
        menu = MenuBuilder(name, self)
        configure(menu)
        return self._add({"command": "menu", "startMenu": name, "menus": menu._menus()})

    def goto_menu(self, name: str) -> Self:
        """Jump to menu ``name`` of the enclosing menu (only inside an option, match or on_fail)."""
        return self._add({"command": "gotoMenu", "menuName": name})

    # Dialling ---------------------------------------------------------------

    def bridge_to(
        self,
        destination: str | Mapping[str, Any],
        *,
        name: str | None = None,
        from_: str | Mapping[str, Any] | None = None,
        timeout: int | None = None,
        max_duration: int | None = None,
        on_answer: Flow | None = None,
        on_no_answer: Flow | None = None,
        bridge: str | None = None,
    ) -> Self:
        """Dial ``destination`` (number, ``sip:``, ``wss://`` or a wire ``to``) and bridge it with this leg."""
        to = _party(destination, "bridge_to destination")
        base = {"STREAM": "stream", "VOICE_RELAY": "relay"}.get(str(to.get("type")), "destination")
        leg = name if name is not None else self._answer.next_leg(base)
        bridge = bridge if bridge is not None else leg
        own = self._answer.own_leg()
        self._answer.dialled = True
        caller = _party(from_, "from_") if from_ is not None else None
        if caller is None and to.get("type") in ("PHONE", "SIP"):
            caller = self._answer.our_number()
        events: dict[str, Any] = {"onAnswer": [{"command": "bridgeCall", "bridgeName": bridge}]}
        if on_answer is not None:
            events["onAnswer"] += self._flow(on_answer, "on_answer")
        if own is not None:
            events["onHangup"] = [{"command": "hangup", "callName": own}]
        no_answer = self._flow(on_no_answer, "on_no_answer") if on_no_answer is not None else None
        if no_answer is None and own is not None:
            no_answer = [{"command": "hangup", "callName": own}]
        for key in _NO_ANSWER_EVENTS if no_answer is not None else ():
            events[key] = copy.deepcopy(no_answer)
        self._add({"command": "bridgeCall", "bridgeName": bridge})
        self.dial(to, name=leg, from_=caller, timeout=timeout, max_duration=max_duration, events=events)
        if self._answer.incoming:
            self._answer.teardown.append({"command": "hangup", "callName": leg})
        return self

    def dial_phone(self, number: str, **options: Any) -> Self:
        """Dial an E.164 number and bridge it with this leg (options as ``bridge_to``)."""
        return self.bridge_to({"type": "PHONE", "phone": {"number": number}}, **options)

    def dial_sip(
        self,
        endpoint: str,
        *,
        transport: str | None = None,
        headers: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        **options: Any,
    ) -> Self:
        """Dial a ``sip:``/``sips:`` URI and bridge it with this leg; ``headers`` become SIP call headers."""
        sip: dict[str, Any] = {"endpoint": endpoint}
        if transport is not None:
            sip["transport"] = transport.upper()
        if headers is not None:
            sip["callHeaders"] = _headers(headers)
        return self.bridge_to({"type": "SIP", "sip": sip}, **options)

    def dial_stream(
        self,
        endpoint: str,
        *,
        sample_rate: int = 8000,
        headers: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        **options: Any,
    ) -> Self:
        """Stream this leg's audio to a ``wss://`` server (PCM, ``sample_rate`` Hz) and bridge it."""
        stream: dict[str, Any] = {
            "endpoint": endpoint,
            "streamOptions": {"version": 1, "codec": "PCM", "sampleRate": sample_rate},
        }
        if headers is not None:
            stream["callHeaders"] = _headers(headers)
        return self.bridge_to({"type": "STREAM", "stream": stream}, **options)

    def dial_relay(
        self,
        endpoint: str,
        *,
        voice: str = DEFAULT_VOICE,
        language: str = "en-US",
        interruptions: bool | None = None,
        headers: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        **options: Any,
    ) -> Self:
        """Connect this leg to a Voice Relay server (text in, text out) and bridge it."""
        relay: dict[str, Any] = {"endpoint": endpoint, "ttsVoice": voice, "sttLanguage": language}
        if interruptions is not None:
            relay["enableInterruptions"] = interruptions
        if headers is not None:
            relay["callHeaders"] = _headers(headers)
        return self.bridge_to({"type": "VOICE_RELAY", "voiceRelay": relay}, **options)

    def on_no_answer(self, flow: Flow) -> Self:
        """Run ``flow`` when the last dial is busy, rejected, times out or fails."""
        if self._last_dial is None:
            raise SvamlError(
                "on_no_answer follows a dial: dial_phone, dial_sip, dial_stream, dial_relay, bridge_to or dial"
            )
        events = self._last_dial.setdefault("events", {})
        commands = self._flow(flow, "on_no_answer")
        for key in _NO_ANSWER_EVENTS:
            events[key] = copy.deepcopy(commands)
        return self

    # Low level --------------------------------------------------------------

    def dial(
        self,
        to: str | Mapping[str, Any],
        *,
        name: str | None = None,
        from_: str | Mapping[str, Any] | None = None,
        timeout: int | None = None,
        max_duration: int | None = None,
        events: Mapping[str, Flow] | None = None,
    ) -> Self:
        """A bare ``dial`` command: nothing filled in; ``events`` maps onAnswer, onBusy, … to flows."""
        command: dict[str, Any] = {"command": "dial"}
        if name is not None:
            command["callName"] = name
        if from_ is not None:
            command["from"] = _party(from_, "from_")
        command["to"] = _party(to, "dial to")
        if timeout is not None:
            command["dialTimeoutDurationSeconds"] = timeout
        if max_duration is not None:
            command["maxCallDurationSeconds"] = max_duration
        if events is not None:
            command["events"] = {key: self._flow(flow, f"dial {key}") for key, flow in events.items()}
        self._add(command)
        self._last_dial = command
        return self

    def bridge_call(self, name: str) -> Self:
        """Put this leg in the bridge ``name`` (made on first use); legs in one bridge hear each other."""
        return self._add({"command": "bridgeCall", "bridgeName": name})

    def add(self, *commands: Mapping[str, Any]) -> Self:
        """Append wire commands as given (checked when built)."""
        for command in commands:
            self._add(copy.deepcopy(dict(command)))
        return self

    # Output -----------------------------------------------------------------

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The commands so far (a copy), unchecked."""
        return copy.deepcopy(self._items)

    def build(self, *, webhook_url: str | None = None) -> dict[str, Any]:
        """The checked answer ``{"commands": [...], "callName"?, "events"?}``; ``CommandError`` names what is off."""
        answer: dict[str, Any] = {"commands": copy.deepcopy(self._items)}
        if not self._nested:
            name = self._call_name or (self._answer.leg if self._answer.name_leg else None)
            if name is not None:
                answer["callName"] = name
            on_hangup = copy.deepcopy((self._on_hangup or []) + self._answer.teardown)
            if self._on_hangup is not None or on_hangup:
                answer["events"] = {"onHangup": on_hangup}
        url = webhook_url or _webhook_url.get()
        if url is not None:
            _fill_webhook_urls(answer, url)
        check_answer(answer)
        return answer

    def __repr__(self) -> str:
        return f"CommandBuilder({' → '.join(item.get('command', '?') for item in self._items) or 'no commands'})"

    def _repr_html_(self) -> str:
        import html
        import json

        return f"<b>Voice API v2 answer</b><pre>{html.escape(json.dumps(self.commands, indent=2))}</pre>"


class MenuBuilder:
    """One menu of ``CommandBuilder.menu``: prompts, options, matches, on-fail and input limits."""

    def __init__(self, name: str, parent: CommandBuilder) -> None:
        self._name = name
        self._parent = parent
        self._fields: dict[str, Any] = {}
        self._matches: dict[str, list[dict[str, Any]]] = {}
        self._on_fail: list[dict[str, Any]] | None = None
        self._submenus: list[MenuBuilder] = []

    @staticmethod
    def _prompt(
        items: Sequence[str | Mapping[str, Any]], voice: str, ssml: bool, barge_in: bool | None
    ) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, Mapping):
                messages.append(copy.deepcopy(dict(item)))
            elif isinstance(item, str) and item.startswith(("https://", "http://")):
                messages.append({"type": "PLAY", "play": {"url": item}})
            else:
                say: dict[str, Any] = {"text": item, "voiceName": voice}
                if ssml:
                    say["format"] = "SSML"
                messages.append({"type": "SAY", "say": say})
        prompt: dict[str, Any] = {"messages": messages}
        if barge_in is not None:
            prompt["allowBargeIn"] = barge_in
        return prompt

    def prompt(
        self,
        *items: str | Mapping[str, Any],
        voice: str = DEFAULT_VOICE,
        ssml: bool = False,
        barge_in: bool | None = None,
    ) -> Self:
        """Played on entry: text is spoken, an http(s) URL played, a dict taken as a wire message."""
        self._fields["prompt"] = self._prompt(items, voice, ssml, barge_in)
        return self

    def repeat_prompt(
        self,
        *items: str | Mapping[str, Any],
        voice: str = DEFAULT_VOICE,
        ssml: bool = False,
        barge_in: bool | None = None,
    ) -> Self:
        """Played on each repeat (the prompt when not set)."""
        self._fields["repeatPrompt"] = self._prompt(items, voice, ssml, barge_in)
        return self

    def _match(self, key: str, flow: Flow, what: str) -> Self:
        if key in self._matches:
            raise CommandError(
                f"menu: menus.{self._name}.matches[{key!r}] is given twice (limit: one flow per key)",
                command="menu",
                field=f"menus.{self._name}.matches[{key!r}]",
                limit="one flow per key",
            )
        self._matches[key] = self._parent._flow(flow, what)
        return self

    def option(self, dtmf: str | int, flow: Flow) -> Self:
        """Pressing ``dtmf`` (keys 0-9, * and #) runs ``flow``."""
        keys = str(dtmf)
        if not _DTMF.match(keys):
            raise CommandError(
                f"menu: option {keys!r} is not DTMF (limit: keys 0-9, * and #; use match() for a pattern)",
                command="menu",
                field=f"menus.{self._name}.matches",
                limit="keys 0-9, * and #",
            )
        return self._match(keys.replace("*", "\\*"), flow, f"option {keys!r}")

    def match(self, pattern: str, flow: Flow) -> Self:
        """Input matching the regular expression ``pattern`` runs ``flow`` (first match in order wins)."""
        return self._match(pattern, flow, f"match {pattern!r}")

    def on_fail(self, flow: Flow) -> Self:
        """Run ``flow`` when the repeats are used up without a match."""
        self._on_fail = self._parent._flow(flow, "on_fail")
        return self

    def max_length(self, keys: int) -> Self:
        """Evaluate the input once it has this many keys (1–100; default 1)."""
        self._fields["maximumInputLength"] = keys
        return self

    def min_length(self, keys: int) -> Self:
        """Evaluate no input shorter than this (1–100; default 1)."""
        self._fields["minimumInputLength"] = keys
        return self

    def repeat_count(self, times: int) -> Self:
        """Repeat the menu this often on a timeout or no match (0–10; default 2)."""
        self._fields["repeatCount"] = times
        return self

    def input_timeout(self, seconds: int) -> Self:
        """Seconds to wait for input (1–60; default 5)."""
        self._fields["inputTimeoutDurationSeconds"] = seconds
        return self

    def terminating_sequence(self, keys: str) -> Self:
        """Keys (e.g. ``#``) that end input at once; they are part of the evaluated input."""
        self._fields["terminatingSequence"] = keys
        return self

    def submenu(self, name: str, configure: Callable[[MenuBuilder], Any]) -> Self:
        """Another menu of the same command, reached with ``goto_menu(name)``."""
        menu = MenuBuilder(name, self._parent)
        configure(menu)
        self._submenus.append(menu)
        return self

    def _item(self) -> dict[str, Any]:
        order = (
            "prompt", "repeatPrompt", "inputTimeoutDurationSeconds", "repeatCount",
            "minimumInputLength", "maximumInputLength", "terminatingSequence",
        )  # fmt: skip
        item = {key: self._fields[key] for key in order if key in self._fields}
        if self._matches:
            item["matches"] = self._matches
        if self._on_fail is not None:
            item["onFail"] = self._on_fail
        return item

    def _menus(self) -> dict[str, Any]:
        menus = {self._name: self._item()}
        for sub in self._submenus:
            for name, item in sub._menus().items():
                if name in menus:
                    raise CommandError(
                        f"menu: menus.{name} is defined twice (limit: unique menu names) in menu {self._name!r}",
                        command="menu",
                        field=f"menus.{name}",
                        limit="unique menu names",
                    )
                menus[name] = item
        return menus


def commands(call: Call | Mapping[str, Any] | None = None) -> CommandBuilder:
    """A new v2 command builder; given the ``call`` it answers, dial verbs fill in names, ``from`` and teardown."""
    return CommandBuilder(call)


def as_answer(value: Any, *, webhook_url: str | None = None) -> dict[str, Any] | None:
    """A v2 handler's return value as the answer to send: a builder or ``{"commands": [...]}``, checked; None: 204."""
    if value is None:
        return None
    if isinstance(value, CommandBuilder):
        return value.build(webhook_url=webhook_url)
    if isinstance(value, Mapping) and "commands" in value:
        answer = copy.deepcopy(dict(value))
        url = webhook_url or _webhook_url.get()
        if url is not None:
            _fill_webhook_urls(answer, url)
        check_answer(answer)
        return answer
    raise AnswerError(
        f"a v2 handler returns the builder, a {{'commands': [...]}} dict, or nothing (204); got {type(value).__name__}"
    )
