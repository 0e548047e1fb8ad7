"""The simulated platform's model of Sinch Voice v1: its numbers, its choices, and where each comes from.

Every field is a row of ``docs/simulation.md``; the simulator, dial pad, explorer and replay
read them from here, never from constants of their own. A field marked *choice* is behaviour
Sinch does not document: the value is sinch_nb's, and ``sn.dial(..., model=PlatformModel(...))``
(or ``sn.configure(simulation=...)``) changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["CALLEES", "Callee", "PlatformModel"]

Callee = Literal["answer", "busy", "no-answer", "failed"]
CALLEES: tuple[Callee, ...] = ("answer", "busy", "no-answer", "failed")


@dataclass(frozen=True)
class PlatformModel:
    """What the simulated Sinch does, rule by rule (``docs/simulation.md`` cites each)."""

    #: R1. A Voice App has one callback URL; every callback is POSTed to it (sinch-functions.md §2).
    callback_path: str = "/"
    #: R1 option: post ICE to ``/ice``, PIE to ``/pie``… (the routes the Functions runtime also serves).
    per_event_paths: bool = False
    #: R9. Menu defaults when the answer leaves them out: the Functions MenuBuilder's (sinch-functions.md §6.2, §9).
    menu_repeats: int = 2
    menu_timeout_ms: int = 8000
    max_digits: int = 1
    #: R14 *choice*: how fast text-to-speech speaks (about 150 words a minute), for the simulated clock.
    speech_chars_per_second: float = 14.0
    #: R14 *choice*: a played file (not TTS) lasts this long.
    file_seconds: float = 3.0
    #: R14 *choice*: one key press takes this long.
    key_seconds: float = 0.4
    #: R14 *choice*: a callee who answers does so after this much ringing.
    ring_seconds: float = 4.0
    #: R6 *choice*: how long a connect rings when its ``dialTimeout`` is not set.
    dial_timeout_s: int = 30
    #: R4 *choice*: whether a connectStream's WebSocket leg yields an ACE (undocumented; off).
    stream_ace: bool = False
    #: R6 *choice*: the DiCE ``(result, reason)`` of a connect whose callee did not answer.
    unanswered: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "busy": ("BUSY", "CALLEEHANGUP"),
            "no-answer": ("NOANSWER", "TIMEOUT"),
            "failed": ("FAILED", "GENERALERROR"),
        }
    )
    #: R12. An answer Sinch cannot use ends the call with this DiCE reason (sinch-wire.md §2 enums).
    callback_error_reason: str = "CALLBACKERROR"
    #: R13 *choice*: most callbacks one simulated call may make (a menu that loops on itself stops here).
    max_callbacks: int = 50
    #: R17 *choice*: a callout's ``enableAce`` / ``enableDice`` / ``enablePie`` when the request leaves them out
    #: (the API reference promises each callback only "if set to true" and gives no default; off).
    callout_callbacks: bool = False
    #: R17 *choice*: how a callout's simulated callee answers (R6's ``callee`` values) …
    callout_callee: Callee = "answer"
    #: … and the keys it presses, one per prompt (none: it stays silent, R9).
    callout_press: tuple[str, ...] = ()
    #: R20 *choice*: at most this many callouts in ``callout_window_s`` seconds; more get HTTP 429 (a handler that
    #: calls out from its own callbacks would loop for ever).
    callout_limit: int = 20
    callout_window_s: float = 10.0
    #: S8 *choice*: seconds the platform waits for ``answer``/``busy``/``reject`` after ``connect`` (undocumented).
    stream_answer_timeout_s: float = 5.0
    #: S9: the audio frame the platform sends, in ms (20 recommended, sinch-voice-v2.md §8.4).
    stream_frame_ms: int = 20
    #: S11: no audio and no heartbeat from the app for this long and the platform hangs up (§8.5: 1 minute).
    stream_idle_timeout_s: float = 60.0
    #: S12: at most this much of the app's audio waits to be played; older audio is dropped (§8.6: "5 MB",
    #: *choice*: MiB).
    stream_buffer_bytes: int = 5 * 1024 * 1024
    #: S14 *choice*: a stream caller's keys are in-band DTMF tones of this many ms, each followed by this gap.
    stream_dtmf_tone_ms: int = 50
    stream_dtmf_gap_ms: int = 50
    #: S15 *choice*: the silence a stream caller leaves after each thing it says, for the app to answer.
    stream_caller_pause_s: float = 2.0
    #: S15 *choice*: the espeak-ng voice of ``say=``.
    stream_voice: str = "en-us"

    def speech_seconds(self, text: str) -> float:
        """How long saying ``text`` takes on the simulated clock."""
        return round(len(text) / self.speech_chars_per_second, 2)

    def but(self, **changes: Any) -> PlatformModel:
        """This model with some rules changed: ``PlatformModel().but(ring_seconds=10)``."""
        return replace(self, **changes)
