"""The media stream wire protocol as the runtime reads it (reference sinch-voice-v2.md §8): pure, no I/O.

Sinch opens a WebSocket and sends one TEXT ``connect`` message; the app answers TEXT
``answer``, ``busy`` or ``reject``; then BINARY frames of PCM s16le mono flow both ways; the app
may send TEXT ``clear`` and ``heartbeat``. DTMF on a PCM stream is undocumented: sinch_nb's
choice is a TEXT ``{"command": "dtmf", "digit": "5"}`` from the platform (docs/simulation.md S6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .commands import SAMPLE_RATES  # the AsyncAPI ConnectRequest sampleRate enum, one list
from .errors import StreamError

__all__ = [
    "CONNECT_RESPONSES",
    "CONTROLS",
    "SAMPLE_RATES",
    "ConnectMessage",
    "command",
    "parse_connect",
    "parse_control",
]

#: The app's replies to ``connect``; ``busy`` and ``reject`` end the stream (§8.3).
CONNECT_RESPONSES = ("answer", "busy", "reject")
#: The app's control messages after ``answer`` (§8.5).
CONTROLS = ("clear", "heartbeat")
#: The fields every ``connect`` carries (all required, §8.2).
_REQUIRED = ("command", "version", "callId", "applicationKey", "codec", "sampleRate", "callHeaders")
#: The tutorials' names for two of them (§9.13): named in the error so the fix is plain.
_TUTORIAL_NAMES = {"applicationId": "applicationKey", "headers": "callHeaders"}


@dataclass(frozen=True)
class ConnectMessage:
    """Sinch's first message on a stream, parsed: the call, the audio format, the call headers."""

    call_id: str
    application_key: str
    sample_rate: int
    codec: str = "PCM"
    version: int = 1
    call_headers: dict[str, Any] = field(default_factory=dict)

    @property
    def frame_bytes(self) -> int:
        """Bytes in 20 ms of audio at this rate (the frame size §8.4 recommends): 320 at 8 kHz."""
        return self.sample_rate * 2 // 50


def command(name: str) -> str:
    """The TEXT message ``{"command": name}`` (answer, busy, reject, clear, heartbeat)."""
    return json.dumps({"command": name})


def parse_connect(text: str | None) -> ConnectMessage:
    """The ``connect`` message in ``text``; ``StreamError`` naming what is wrong (the close reason)."""
    if text is None:
        raise StreamError("the first message must be the TEXT connect message, not audio")
    try:
        message = json.loads(text)
    except ValueError:
        raise StreamError("the first message is not JSON: expected the connect message") from None
    if not isinstance(message, dict):
        raise StreamError("the first message must be a JSON object: the connect message")
    if message.get("command") != "connect":
        raise StreamError(f"the first message must be command 'connect', not {message.get('command')!r}")
    missing = [name for name in _REQUIRED if name not in message]
    if missing:
        hints = [f"{old} is the tutorials' name for {new}" for old, new in _TUTORIAL_NAMES.items() if old in message]
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise StreamError(f"connect lacks {', '.join(missing)}{hint}")
    problems = _problems(message)
    if problems:
        raise StreamError(f"connect has {'; '.join(problems)}")
    return ConnectMessage(
        call_id=message["callId"],
        application_key=message["applicationKey"],
        sample_rate=message["sampleRate"],
        codec=message["codec"],
        version=message["version"],
        call_headers=dict(message["callHeaders"]),
    )


def _problems(message: dict[str, Any]) -> list[str]:
    """What is off in a connect message that has every field."""
    problems = []
    if message["version"] != 1 or isinstance(message["version"], bool):
        problems.append(f"version {message['version']!r} (only 1 is defined)")
    for name in ("callId", "applicationKey"):
        if not isinstance(message[name], str) or not message[name]:
            problems.append(f"{name} {message[name]!r} (a non-empty string)")
    if message["codec"] != "PCM":
        problems.append(f"codec {message['codec']!r} (only PCM)")
    rate = message["sampleRate"]
    if isinstance(rate, bool) or rate not in SAMPLE_RATES:
        problems.append(f"sampleRate {rate!r} (one of {', '.join(map(str, SAMPLE_RATES))})")
    if not isinstance(message["callHeaders"], dict):
        problems.append("callHeaders that is not an object")
    return problems


def parse_control(text: str) -> tuple[str, dict[str, Any]]:
    """A TEXT message from the platform after ``connect``: its command and body (``"?"`` when unreadable)."""
    try:
        message = json.loads(text)
    except ValueError:
        return "?", {}
    if not isinstance(message, dict) or not isinstance(message.get("command"), str):
        return "?", {}
    return message["command"], message
