"""SVAML builders: ``svaml.ice()``, ``svaml.ace()``, ``svaml.pie()`` and ``svaml.menu()`` (Voice API v1),
and ``svaml.commands()``, the Voice API v2 command builder (``functions.commands``).

A builder collects instructions in order and one action, checks each against what
Sinch accepts for its callback (``functions.rules``), and ``build()`` returns the
wire JSON. Standard library only: the same code runs in the deployed Function.

    svaml.ice().say("Hi").run_menu(svaml.menu("main").prompt("Press 1").option("1", "return(one)"))
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self

from . import rules
from .commands import CommandBuilder
from .errors import SvamlError

if TYPE_CHECKING:
    from .calls import Call

__all__ = [
    "AceSvaml",
    "IceSvaml",
    "Menu",
    "PieSvaml",
    "SvamlBuilder",
    "SvamlError",
    "SvamlWarning",
    "ace",
    "as_prompt",
    "commands",
    "href",
    "ice",
    "menu",
    "pie",
    "prompts",
    "return_",
    "ssml",
    "to_menu",
    "tts",
]


class SvamlWarning(UserWarning):
    """An item the sources disagree on: sent as asked, flagged."""


def _warn(message: str, stacklevel: int = 5) -> None:
    # Only the kernel's main thread may write to a cell; the runtime journals warnings itself.
    if threading.current_thread() is threading.main_thread():
        warnings.warn(message, SvamlWarning, stacklevel=stacklevel)


# -- prompts ---------------------------------------------------------------

_PROMPT_PREFIXES = ("#tts[", "#ssml[", "#href[", "http://", "https://")


def tts(text: str) -> str:
    """A text-to-speech prompt: ``#tts[text]``."""
    return f"#tts[{text}]"


def ssml(markup: str) -> str:
    """An SSML prompt: ``#ssml[<speak>…</speak>]``."""
    return f"#ssml[{markup}]"


def href(url: str) -> str:
    """A recorded prompt played from a URL: ``#href[url]``."""
    return f"#href[{url}]"


def as_prompt(text: str) -> str:
    """``text`` in prompt syntax; plain text becomes ``#tts[text]``."""
    return text if text.startswith(_PROMPT_PREFIXES) else tts(text)


def prompts(*items: str) -> str:
    """Several prompts played back to back: joined with ``;``."""
    return ";".join(as_prompt(item) for item in items)


def to_menu(menu_id: str) -> str:
    """A menu option action that jumps to another menu: ``menu(id)``."""
    return f"menu({menu_id})"


def return_(value: str) -> str:
    """A menu option action that ends the menu and sends a PIE: ``return(value)``."""
    return f"return({value})"


# -- helpers ---------------------------------------------------------------


def _check_range(what: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SvamlError(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_pattern(what: str, value: str, pattern: str, meaning: str) -> str:
    if not isinstance(value, str) or not re.match(pattern, value):
        raise SvamlError(f"{what} must be {meaning}, got {value!r}")
    return value


def _check_choice(what: str, value: str, choices: Iterable[str]) -> str:
    if value not in choices:
        raise SvamlError(f"{what} must be one of {', '.join(sorted(choices))}; got {value!r}")
    return value


def _call_headers(headers: Mapping[str, str] | Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    if isinstance(headers, Mapping):
        return [{"key": str(k), "value": str(v)} for k, v in headers.items()]
    return [{"key": str(h["key"]), "value": str(h["value"])} for h in headers]


def _compact(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


# -- menus -----------------------------------------------------------------


class Menu:
    """One menu of a ``runMenu`` action; options map keys to ``menu(id)`` or ``return(value)``."""

    def __init__(self, menu_id: str) -> None:
        if not isinstance(menu_id, str) or not menu_id:
            raise SvamlError(f"a menu needs a non-empty string id, got {menu_id!r}")
        self.id = menu_id
        self._fields: dict[str, Any] = {}
        self._options: list[dict[str, str]] = []

    def prompt(self, *prompt: str) -> Menu:
        """What the caller hears; plain text becomes ``#tts[…]``, several are joined with ``;``."""
        self._fields["mainPrompt"] = prompts(*prompt)
        return self

    def repeat_prompt(self, *prompt: str) -> Menu:
        """Played on invalid or missing input before the menu repeats."""
        self._fields["repeatPrompt"] = prompts(*prompt)
        return self

    def option(self, dtmf: str | int, action: str) -> Menu:
        """Pressing ``dtmf`` runs ``action``: ``return(value)`` or ``menu(id)``."""
        keys = _check_pattern("a menu option's dtmf", str(dtmf), rules.DTMF_KEYS_PATTERN, "keys 0-9, * or #")
        if any(option["dtmf"] == keys for option in self._options):
            raise SvamlError(f"menu {self.id!r} already has an option for {keys!r}")
        _check_pattern(
            f"the action of option {keys!r}", action, rules.MENU_OPTION_ACTION_PATTERN, "'return(value)' or 'menu(id)'"
        )
        self._options.append({"dtmf": keys, "action": action})
        return self

    def max_digits(self, digits: int) -> Menu:
        """Collecting this many digits ends input and sends a PIE."""
        self._fields["maxDigits"] = _check_range("maxDigits", digits, *rules.MENU_MAX_DIGITS)
        return self

    def timeout_mills(self, mills: int) -> Menu:
        """Silence, in milliseconds, that ends input."""
        self._fields["timeoutMills"] = _check_range("timeoutMills", mills, *rules.MENU_TIMEOUT_MS)
        return self

    def max_timeout_mills(self, mills: int) -> Menu:
        """Cap, in milliseconds, on voice input."""
        self._fields["maxTimeoutMills"] = _check_range("maxTimeoutMills", mills, 1, 10 * rules.MENU_TIMEOUT_MS[1])
        return self

    def repeats(self, times: int) -> Menu:
        """How often the menu repeats on invalid or missing input."""
        self._fields["repeats"] = _check_range("repeats", times, *rules.MENU_REPEATS)
        return self

    def targets(self) -> list[str]:
        """Ids of the menus this menu's options jump to."""
        found = (re.match(rules.MENU_OPTION_ACTION_PATTERN, option["action"]) for option in self._options)
        return [match.group(2) for match in found if match and match.group(1) == "menu"]

    def build(self) -> dict[str, Any]:
        """The menu as wire JSON."""
        menu: dict[str, Any] = {"id": self.id, **self._fields}
        if self._options:
            menu["options"] = [dict(option) for option in self._options]
        return menu

    def __repr__(self) -> str:
        options = ", ".join(f"{o['dtmf']}→{o['action']}" for o in self._options)
        return f"Menu({self.id!r}, {options})"


def menu(menu_id: str) -> Menu:
    """A new menu; one menu of a ``runMenu`` is ``main`` unless ``main_menu`` says otherwise."""
    return Menu(menu_id)


# -- builders --------------------------------------------------------------


class SvamlBuilder:
    """Instructions in order, then one action; ``build()`` gives the wire JSON."""

    event: str = ""

    def __init__(self) -> None:
        self._instructions: list[dict[str, Any]] = []
        self._action: dict[str, Any] | None = None

    # The item check -------------------------------------------------------

    def _check_allowed(self, name: str) -> None:
        if name in rules.ALLOWED[self.event]:
            return
        reason = rules.DISPUTED[self.event].get(name)
        if reason is not None:
            _warn(f"{name} in {self.event.upper()} answers: {reason}; sent as written")
            return
        allowed = rules.allowed_items(self.event)
        actions = [item for item in allowed if item in rules.ACTIONS]
        instructions = [item for item in allowed if item in rules.INSTRUCTIONS]
        raise SvamlError(
            f"{name} is not allowed in {self.event.upper()} answers. "
            f"{self.event.upper()} allows the actions {', '.join(actions)} "
            f"and the instructions {', '.join(instructions)}"
        )

    def _instruction(self, name: str, **fields: Any) -> Self:
        self._check_allowed(name)
        self._instructions.append({"name": name, **_compact(**fields)})
        return self

    def _set_action(self, name: str, **fields: Any) -> Self:
        self._check_allowed(name)
        if self._action is not None:
            raise SvamlError(
                f"a SVAML answer has one action: this {self.event.upper()} answer already ends with "
                f"{self._action['name']}; remove one of them"
            )
        self._action = {"name": name, **_compact(**fields)}
        return self

    # Instructions ---------------------------------------------------------

    def say(self, text: str, locale: str | None = None) -> Self:
        """Speak ``text`` (text-to-speech) in ``locale`` (e.g. ``en-US``, ``en-US/female``, ``Joanna``)."""
        if not isinstance(text, str) or not text:
            raise SvamlError(f"say needs non-empty text, got {text!r}")
        if len(text) > rules.MAX_SAY_CHARS:
            _warn(f"say text is {len(text)} characters; Sinch's default limit is {rules.MAX_SAY_CHARS}", stacklevel=3)
        return self._instruction("say", text=text, locale=locale)

    def play_files(self, ids: str | Iterable[str], locale: str | None = None) -> Self:
        """Play prompts (URLs, ``#tts[…]``, ``#ssml[…]``); TTS and SSML need ``locale``."""
        files = [ids] if isinstance(ids, str) else list(ids)
        if not files:
            raise SvamlError("play_files needs at least one file or prompt")
        if locale is None and any(f.startswith(("#tts[", "#ssml[")) for f in files):
            raise SvamlError("play_files with #tts[...] or #ssml[...] prompts needs a locale, e.g. locale='en-US'")
        return self._instruction("playFiles", ids=files, locale=locale)

    def send_dtmf(self, value: str) -> Self:
        """Send tones to the caller: digits, ``#`` and ``w`` (a 500 ms pause)."""
        _check_pattern("sendDtmf value", value, rules.DTMF_SEND_PATTERN, "digits, # or w")
        return self._instruction("sendDtmf", value=value)

    def set_cookie(self, key: str, value: str) -> Self:
        """Store ``key=value`` for the rest of the call; later callbacks carry it."""
        return self._instruction("setCookie", key=str(key), value=str(value))

    def answer(self) -> Self:
        """Answer the call now (before connecting or playing)."""
        return self._instruction("answer")

    def start_recording(
        self,
        destination_url: str,
        credentials: str,
        *,
        format: str | None = None,
        notification_events: bool | None = None,
        transcription_locale: str | None = None,
    ) -> Self:
        """Record the call to ``destination_url`` (``s3://…``, ``azure://…``), transcribed if a locale is given."""
        transcription = None
        if transcription_locale is not None:
            _check_choice("transcription locale", transcription_locale, rules.TRANSCRIPTION_LOCALES)
            transcription = {"enabled": True, "locale": transcription_locale}
        options = _compact(
            destinationUrl=destination_url,
            credentials=credentials,
            format=format,
            notificationEvents=notification_events,
            transcriptionOptions=transcription,
        )
        return self._instruction("startRecording", options=options)

    def stop_recording(self) -> Self:
        """Stop a recording started with ``start_recording``."""
        return self._instruction("stopRecording")

    # Actions --------------------------------------------------------------

    def hangup(self) -> Self:
        """End the call."""
        return self._set_action("hangup")

    def continue_(self) -> Self:
        """Carry on with the call as set up (ACE, PIE)."""
        return self._set_action("continue")

    def connect_pstn(
        self,
        number: str | None = None,
        *,
        cli: str | None = None,
        locale: str | None = None,
        max_duration: int | None = None,
        dial_timeout: int | None = None,
        suppress_callbacks: bool | None = None,
        dtmf: str | None = None,
        indications: str | None = None,
        amd: bool | Mapping[str, bool] | None = None,
    ) -> Self:
        """Connect the caller to a phone number (E.164); ``cli`` may be ``private``."""
        if max_duration is not None:
            _check_range("connectPstn maxDuration", max_duration, 1, rules.MAX_DURATION_S)
        if dtmf is not None:
            _check_pattern("connectPstn dtmf", dtmf, rules.DTMF_SEND_PATTERN, "digits, # or w")
        if indications is not None:
            _check_choice("connectPstn indications", indications, rules.INDICATIONS)
        amd_field = {"enabled": True} if amd is True else ({"enabled": False} if amd is False else amd)
        return self._set_action(
            "connectPstn",
            number=number,
            locale=locale,
            maxDuration=max_duration,
            dialTimeout=dial_timeout,
            cli=cli,
            suppressCallbacks=suppress_callbacks,
            dtmf=dtmf,
            indications=indications,
            amd=dict(amd_field) if amd_field is not None else None,
        )

    def connect_mxp(
        self,
        username: str,
        *,
        call_headers: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
        header_key: str = "callHeaders",
    ) -> Self:
        """Connect to an app user; ``header_key='callheaders'`` for the older spelling."""
        _check_choice("connectMxp header_key", header_key, ("callHeaders", "callheaders"))
        fields: dict[str, Any] = {"destination": {"type": "username", "endpoint": username}}
        if call_headers is not None:
            fields[header_key] = _call_headers(call_headers)
        return self._set_action("connectMxp", **fields)

    def connect_conf(
        self,
        conference_id: str,
        *,
        dtmf_mode: str | None = None,
        dtmf_max_digits: int | None = None,
        dtmf_timeout_mills: int | None = None,
        moh: str | None = None,
    ) -> Self:
        """Put the caller in conference ``conference_id`` (at most 64 characters)."""
        if not conference_id or len(conference_id) > rules.MAX_CONFERENCE_ID:
            raise SvamlError(f"connectConf conferenceId must be 1 to {rules.MAX_CONFERENCE_ID} characters")
        if dtmf_mode is not None:
            _check_choice("connectConf dtmf mode", dtmf_mode, rules.CONFERENCE_DTMF_MODES)
        if moh is not None:
            _check_choice("connectConf moh", moh, rules.MOH_CLASSES)
        options = _compact(mode=dtmf_mode, maxDigits=dtmf_max_digits, timeoutMills=dtmf_timeout_mills) or None
        return self._set_action("connectConf", conferenceId=conference_id, conferenceDtmfOptions=options, moh=moh)

    def connect_sip(
        self,
        endpoint: str,
        *,
        cli: str | None = None,
        max_duration: int | None = None,
        transport: str | None = None,
        suppress_callbacks: bool | None = None,
        call_headers: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
        moh: str | None = None,
    ) -> Self:
        """Connect to a SIP address such as ``sip:alice@sip.example.com``."""
        if transport is not None:
            transport = _check_choice("connectSip transport", transport.upper(), rules.SIP_TRANSPORTS)
        if max_duration is not None:
            _check_range("connectSip maxDuration", max_duration, 1, rules.MAX_DURATION_S)
        if moh is not None:
            _check_choice("connectSip moh", moh, rules.MOH_CLASSES)
        return self._set_action(
            "connectSip",
            destination={"type": "Sip", "endpoint": endpoint},
            maxDuration=max_duration,
            cli=cli,
            transport=transport,
            suppressCallbacks=suppress_callbacks,
            callHeaders=_call_headers(call_headers) if call_headers is not None else None,
            moh=moh,
        )

    def connect_stream(
        self,
        endpoint: str,
        *,
        version: int | None = None,
        sample_rate: int | None = None,
        max_duration: int | None = None,
        call_headers: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
    ) -> Self:
        """Stream the call's audio to a WebSocket server (``wss://…``)."""
        if not endpoint.startswith(("wss://", "ws://")):
            raise SvamlError(f"connectStream needs a WebSocket URL (wss://...), got {endpoint!r}")
        options = _compact(version=version, sampleRate=sample_rate) or None
        return self._set_action(
            "connectStream",
            destination={"type": "Websocket", "endpoint": endpoint},
            streamingOptions=options,
            maxDuration=max_duration,
            callHeaders=_call_headers(call_headers) if call_headers is not None else None,
        )

    def run_menu(
        self,
        menus: Menu | Mapping[str, Any] | Iterable[Menu | Mapping[str, Any]],
        *,
        main_menu: str | None = None,
        barge: bool | None = None,
        locale: str | None = None,
        enable_voice: bool | None = None,
    ) -> Self:
        """Play a menu and collect keys; the caller's choice arrives as a PIE."""
        items = [menus] if isinstance(menus, Menu | Mapping) else list(menus)
        built = [item.build() if isinstance(item, Menu) else dict(item) for item in items]
        if not built:
            raise SvamlError("run_menu needs at least one menu")
        ids = [str(m.get("id")) for m in built]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SvamlError(f"run_menu has several menus with id {', '.join(map(str, duplicates))}")
        start = main_menu if main_menu is not None else ("main" if "main" in ids else None)
        if start is None:
            raise SvamlError(
                f"run_menu needs a menu with id 'main', or main_menu= naming one of {', '.join(map(str, ids))}"
            )
        if start not in ids:
            raise SvamlError(f"main_menu {start!r} is not among the menus {', '.join(map(str, ids))}")
        for item in items:
            missing = [t for t in item.targets() if t not in ids] if isinstance(item, Menu) else []
            if isinstance(item, Menu) and missing:
                raise SvamlError(f"menu {item.id!r} jumps to menu {missing[0]!r}, which run_menu does not include")
        if enable_voice and locale is None:
            raise SvamlError("run_menu with enable_voice=True needs a locale, e.g. locale='en-US'")
        return self._set_action(
            "runMenu", barge=barge, locale=locale, mainMenu=start, enableVoice=enable_voice, menus=built
        )

    def park(
        self,
        *,
        intro_prompt: str | None = None,
        hold_prompt: str | None = None,
        max_duration: int | None = None,
        locale: str | None = None,
    ) -> Self:
        """Hold the call, playing ``hold_prompt`` in a loop."""
        if max_duration is not None:
            _check_range("park maxDuration", max_duration, 1, rules.MAX_DURATION_S)
        return self._set_action(
            "park",
            locale=locale,
            introPrompt=as_prompt(intro_prompt) if intro_prompt else None,
            holdPrompt=as_prompt(hold_prompt) if hold_prompt else None,
            maxDuration=max_duration,
        )

    # Output ---------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        """The answer as wire JSON: ``{"instructions": [...], "action": {...}}``."""
        out: dict[str, Any] = {}
        if self._instructions:
            out["instructions"] = [dict(item) for item in self._instructions]
        if self._action is not None:
            out["action"] = dict(self._action)
        return out

    def _repr_html_(self) -> str:
        from .script import script_html

        return script_html(self.build(), f"{self.event.upper()} answer")

    def __repr__(self) -> str:
        steps = [item["name"] for item in self._instructions]
        action = self._action["name"] if self._action else "no action"
        return f"{type(self).__name__}({' → '.join([*steps, action])})"


class IceSvaml(SvamlBuilder):
    """The answer to an incoming call (ICE)."""

    event = "ice"


class AceSvaml(SvamlBuilder):
    """The answer to an answered outbound call (ACE)."""

    event = "ace"


class PieSvaml(SvamlBuilder):
    """The answer to a caller's menu input (PIE)."""

    event = "pie"


def ice() -> IceSvaml:
    """A new ICE answer."""
    return IceSvaml()


def ace() -> AceSvaml:
    """A new ACE answer."""
    return AceSvaml()


def pie() -> PieSvaml:
    """A new PIE answer."""
    return PieSvaml()


def commands(call: Call | Mapping[str, Any] | None = None) -> CommandBuilder:
    """A new Voice API v2 command builder (``functions.commands.CommandBuilder``), primed with ``call`` if given."""
    return CommandBuilder(call)
