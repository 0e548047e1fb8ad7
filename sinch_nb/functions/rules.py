"""The SVAML rules every layer shares: what each callback may answer, enums, limits.

Standard library only: this module ships inside the deployed Function, and both
the builders (``functions.svaml``) and the strict wire models (``contract``) read it.
Source: Sinch's SDKs as summarised in reference/sinch-wire.md §1.
"""

from __future__ import annotations

from typing import Final

#: Callback kinds that answer with SVAML.
SVAML_EVENTS: Final = ("ice", "ace", "pie")

ACTIONS: Final = (
    "hangup",
    "continue",
    "connectPstn",
    "connectMxp",
    "connectConf",
    "connectSip",
    "connectStream",
    "runMenu",
    "park",
)
INSTRUCTIONS: Final = (
    "say",
    "playFiles",
    "sendDtmf",
    "setCookie",
    "answer",
    "startRecording",
    "stopRecording",
)

#: Items the platform allows for an event (sinch-wire.md §1.4). connectPstn in PIE is the one
#: item decided by the platform's own SVAML v1 spec, which allows it (sinch-functions.md §6.2),
#: over the Node SDK's types, which do not: the quickstart's PIE forwards the caller with it.
ALLOWED: Final[dict[str, frozenset[str]]] = {
    "ice": frozenset(
        {
            "hangup",
            "connectPstn",
            "connectMxp",
            "connectConf",
            "connectSip",
            "connectStream",
            "runMenu",
            "park",
            "playFiles",
            "say",
            "setCookie",
            "startRecording",
            "sendDtmf",
            "answer",
        }
    ),
    "ace": frozenset(
        {"hangup", "continue", "connectConf", "runMenu", "playFiles", "say", "setCookie", "startRecording"}
    ),
    "pie": frozenset(
        {
            "hangup",
            "continue",
            "connectPstn",
            "connectConf",
            "connectSip",
            "runMenu",
            "playFiles",
            "say",
            "setCookie",
            "startRecording",
            "sendDtmf",
            "stopRecording",
        }
    ),
}

#: Items the sources disagree on: allowed, with a warning that says why.
DISPUTED: Final[dict[str, dict[str, str]]] = {
    "ice": {"stopRecording": "the Node SDK types reject it in ICE; its helpers and Sinch's skills allow it"},
    "ace": {"stopRecording": "the Node SDK rejects it in ACE; Sinch's skills allow it"},
    "pie": {},
}


def allowed_items(event: str) -> list[str]:
    """Every action and instruction an ``event`` answer may hold, disputed ones included."""
    return sorted(ALLOWED[event] | DISPUTED[event].keys())


INDICATIONS: Final = frozenset(
    [
        "at",
        "au",
        "bg",
        "br",
        "be",
        "ch",
        "cl",
        "cn",
        "cz",
        "de",
        "dk",
        "ee",
        "es",
        "fi",
        "fr",
        "gr",
        "hu",
        "il",
        "in",
        "it",
        "lt",
        "jp",
        "mx",
        "my",
        "nl",
        "nz",
        "ph",
        "pl",
        "pt",
        "ru",
        "se",
        "sg",
        "th",
        "uk",
        "us",
        "tw",
        "ve",
        "za",
    ]
)
MOH_CLASSES: Final = frozenset({"ring", "music1", "music2", "music3"})
SIP_TRANSPORTS: Final = frozenset({"UDP", "TCP", "TLS"})
CONFERENCE_DTMF_MODES: Final = frozenset({"ignore", "forward", "detect"})
TRANSCRIPTION_LOCALES: Final = frozenset(
    [
        "af-ZA",
        "ar-AE",
        "ar-SA",
        "zh-CN",
        "zh-TW",
        "da-DK",
        "nl-NL",
        "en-AU",
        "en-GB",
        "en-IN",
        "en-IE",
        "en-NZ",
        "en-AB",
        "en-ZA",
        "en-US",
        "en-WL",
        "fr-FR",
        "fr-CA",
        "fa-IR",
        "gd_GB",
        "de-DE",
        "de-CH",
        "he-IL",
        "hi-IN",
        "id-ID",
        "ga-IE",
        "it-IT",
        "ja-JP",
        "ko-KR",
        "ms-MY",
        "pt-PT",
        "pt-BR",
        "ru-RU",
        "es-ES",
        "es-US",
        "sv-SE",
        "ta-IN",
        "te-IN",
        "th-TH",
        "tr-TR",
        "vi-VN",
    ]
)

#: ``[0-9#w]``: digits, ``#`` and ``w`` (a 500 ms pause), for sendDtmf and connectPstn.
DTMF_SEND_PATTERN: Final = r"^[0-9#w]+$"
#: Keys a caller can press in a menu.
DTMF_KEYS_PATTERN: Final = r"^[0-9#*]+$"
#: ``menu(<id>)`` or ``return(<value>)``.
MENU_OPTION_ACTION_PATTERN: Final = r"^(menu|return)\((.*)\)$"

MAX_DURATION_S: Final = 14400
MAX_CONFERENCE_ID: Final = 64
MAX_SAY_CHARS: Final = 600

#: Menu limits, checked when a menu is built (sinch-functions.md §9).
MENU_TIMEOUT_MS: Final = (1000, 30000)
MENU_MAX_DIGITS: Final = (1, 20)
MENU_REPEATS: Final = (0, 5)
