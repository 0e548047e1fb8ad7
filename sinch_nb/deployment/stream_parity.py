"""Media streams in the parity check: each journaled stream replayed into the exported Function as Sinch would.

    journal row → plan (connect, the caller's frames from ``-in.wav``, digits, the close) → a WebSocket to
    the local runtime (``SINCH_NB_WS_PORT``) at the row's path → what the Function sent → compared with the row

The replay speaks the platform's side (reference sinch-voice-v2.md §8): the journaled connect message as
TEXT, then, once the Function answers, the caller's frames as journaled (``frames_in`` frames of
``bytes_in / frames_in`` bytes, 20 ms at the stream's rate as a rule) paced in real time on a monotonic
schedule, each DTMF digit at the offset the notebook's runtime got it (``digits_at``, seconds on the
stream's clock, taken relative to the answer so a cold Pyodide start shifts nothing; rows from before
``digits_at`` send their digits after the audio), and last the platform's close with the row's code and
reason when the platform closed it, else it waits ``CLOSE_WAIT`` s for the Function to close.

Compared: the reply (answer, busy, reject), the control messages sent (``sent``), the close code and who
closed, and the outbound audio, byte for byte against the notebook's ``-out.wav``. One tolerance, and only
when the platform closed the stream on both sides: the handler's reply to the caller's last frames races
the platform's close in either runtime (the notebook's own rows lose the last frame or two of an echo),
so the two outbound tracks may differ in length by at most ``IN_FLIGHT_S`` seconds of audio at the end,
provided the shorter is exactly the start of the longer. Anything else that differs is a difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import wave
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..functions.errors import ParityUnavailableError

__all__ = [
    "CLOSE_WAIT",
    "IN_FLIGHT_S",
    "REPLY_WAIT",
    "Replayed",
    "StreamPlan",
    "compare_stream",
    "plan_stream",
    "replay_stream",
]

#: Seconds the replay waits for the Function's reply to connect (the first stream starts Pyodide: seconds).
REPLY_WAIT = 120.0
#: Seconds the replay waits, after its last frame, for the Function to close a stream its handler closed.
CLOSE_WAIT = 10.0
#: Seconds of outbound audio that may differ at the end when the platform hung up (in flight at the close).
IN_FLIGHT_S = 0.1
#: The close codes the runtime (not the handler) closes with: an error, a bad connect, too many streams.
_RUNTIME_CODES = (1006, 1008, 1011, 1013)


@dataclass(frozen=True)
class StreamPlan:
    """What the platform sent on one journaled stream, in order and on time, and how it ended."""

    path: str
    connect: str
    sample_rate: int
    frames: list[bytes]
    frame_s: float
    #: (seconds after the answer, digit); ``None`` for a row without ``digits_at``: sent after the audio.
    digits: list[tuple[float | None, str]]
    #: (code, reason) when the platform closed the stream; ``None`` when the handler or runtime did.
    platform_close: tuple[int, str] | None
    #: The notebook's outbound audio (PCM from ``-out.wav``).
    audio_out: bytes


@dataclass
class Replayed:
    """What the Function sent on the replayed stream."""

    reply: str | None = None
    reply_ms: float | None = None
    sent: Counter[str] = field(default_factory=Counter)
    audio: bytearray = field(default_factory=bytearray)
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str = ""


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's ``stream`` column as a dict (empty for a row without one)."""
    try:
        value = json.loads(row.get("stream") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _reply_of(body: str | None) -> str | None:
    """``answer``, ``busy`` or ``reject`` from a reply command's JSON text (``None`` for none)."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        return body
    return str(value.get("command")) if isinstance(value, dict) else str(value)


def _pcm(path: str | None, what: str, sample_rate: int) -> bytes:
    """The PCM of one of the row's WAV files; ``ValueError`` saying why it cannot be used."""
    if not path:
        raise ValueError(f"the row names no {what} WAV file")
    if not Path(path).is_file():
        raise ValueError(f"{what} {path} is gone (deleted?): the stream cannot be replayed without it")
    with wave.open(path) as recording:
        if recording.getsampwidth() != 2 or recording.getnchannels() != 1:
            raise ValueError(f"{what} {path} is not 16-bit mono PCM")
        if recording.getframerate() != sample_rate:
            raise ValueError(f"{what} {path} is at {recording.getframerate()} Hz, the stream at {sample_rate} Hz")
        return bytes(recording.readframes(recording.getnframes()))


def plan_stream(row: Mapping[str, Any]) -> StreamPlan:
    """The replay of one journaled stream; ``ValueError`` saying why the row cannot be replayed."""
    stream = _summary(row)
    if not row.get("request_body") or not stream:
        raise ValueError("the row has no connect message or stream summary")
    rate = int(stream.get("sample_rate") or 8000)
    frames: list[bytes] = []
    audio_out = b""
    if _reply_of(row.get("response_body")) == "answer":  # busy and reject keep no audio: there is none
        caller = _pcm(stream.get("audio_in"), "the caller's audio", rate)
        audio_out = _pcm(stream.get("audio_out"), "the handler's audio", rate)
        count = int(stream.get("frames_in") or 0)
        if count and len(caller) != int(stream.get("bytes_in") or 0):
            raise ValueError(f"the caller's audio holds {len(caller)} bytes, the row counted {stream['bytes_in']}")
        size = len(caller) // count if count else 0
        frames = [caller[n * size : (n + 1) * size] for n in range(count)]
    frame_s = (len(frames[0]) if frames else 2 * rate // 50) / (2 * rate)
    answered_s = float(stream.get("answer_ms") or 0) / 1000
    timed = stream.get("digits_at")
    if isinstance(timed, list):
        digits: list[tuple[float | None, str]] = [(max(0.0, float(at) - answered_s), str(d)) for at, d in timed]
    else:
        digits = [(None, digit) for digit in str(stream.get("digits") or "")]
    by_platform = stream.get("closed_by") == "platform"
    close = (int(stream.get("close_code") or 1000), str(stream.get("close_reason") or "")) if by_platform else None
    return StreamPlan(str(row["path"]), str(row["request_body"]), rate, frames, frame_s, digits, close, audio_out)


def _schedule(plan: StreamPlan) -> list[tuple[float, bytes | str]]:
    """Frames and digits as (seconds after the answer, message): a digit after the frames sent before it."""
    events: list[tuple[float, int, bytes | str]] = [(n * plan.frame_s, 0, pcm) for n, pcm in enumerate(plan.frames)]
    end = len(plan.frames) * plan.frame_s
    for at, digit in plan.digits:
        events.append((end if at is None else at, 1, json.dumps({"command": "dtmf", "digit": digit})))
    return [(at, message) for at, _, message in sorted(events, key=lambda event: event[:2])]


async def replay_stream(port: int, plan: StreamPlan) -> Replayed:
    """Replay ``plan`` into the Function served on ``port``, as the platform would; what the Function sent."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    done = Replayed()
    try:
        ws = await connect(f"ws://127.0.0.1:{port}{plan.path}", compression=None, max_size=None, ping_interval=None)
    except (OSError, WebSocketException) as error:
        done.closed_by, done.close_reason = "runtime", f"the WebSocket to the Function did not open: {error}"
        return done
    replied = asyncio.Event()
    started = time.monotonic()

    async def receive() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                if isinstance(message, bytes):
                    done.audio += message
                    continue
                name = _reply_of(message) or "text"
                done.sent[name] += 1
                if name in ("answer", "busy", "reject") and done.reply is None:
                    done.reply, done.reply_ms = name, (time.monotonic() - started) * 1000
                    replied.set()
        replied.set()  # closed without (or after) a reply: nothing more to wait for

    receiver = asyncio.create_task(receive())
    async with ws:
        await ws.send(plan.connect)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(replied.wait(), REPLY_WAIT)
        if done.reply == "answer":
            await _send_on_time(ws, _schedule(plan), receiver)
        if plan.platform_close is not None and done.reply == "answer" and not receiver.done():
            await ws.close(*plan.platform_close)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(receiver), CLOSE_WAIT)
        if not receiver.done():  # the Function kept the stream open past CLOSE_WAIT: the platform ends it
            await ws.close(1000, f"sn.parity: the Function did not close the stream within {CLOSE_WAIT:g} s")
    await receiver
    _closed(ws, done)
    return done


async def _send_on_time(ws: Any, schedule: list[tuple[float, bytes | str]], receiver: asyncio.Task[None]) -> None:
    """Each message at its time after now (a monotonic schedule, not sleeps); stops if the Function closes."""
    from websockets.exceptions import ConnectionClosed

    start = time.monotonic()
    for at, message in schedule:
        wait = start + at - time.monotonic()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(receiver), wait)
        if receiver.done():
            return
        try:
            await ws.send(message)
        except ConnectionClosed:
            return


def _closed(ws: Any, done: Replayed) -> None:
    """Who closed, with which code and reason: the platform (this replay) or the Function (handler or runtime)."""
    protocol = ws.protocol
    if protocol.close_rcvd_then_sent is False:  # the replay closed first: the platform's code and reason
        sent = protocol.close_sent
        done.close_code, done.close_reason, done.closed_by = sent.code, sent.reason, "platform"
        return
    received = protocol.close_rcvd
    code = received.code if received is not None else 1006
    done.close_code, done.close_reason = code, received.reason if received is not None else done.close_reason
    done.closed_by = "runtime" if code in _RUNTIME_CODES else "handler"


def _audio_line(notebook: bytes, function: bytes, sample_rate: int, platform_closed: bool) -> str | None:
    """How the Function's outbound audio differs from the notebook's, as one diff line (``None``: alike)."""
    common = min(len(notebook), len(function))
    first = None if notebook[:common] == function[:common] else _first_difference(notebook, function)
    if first is None and len(notebook) == len(function):
        return None
    tail = abs(len(notebook) - len(function)) / (2 * sample_rate)
    if first is None and platform_closed and tail <= IN_FLIGHT_S:
        return None  # the reply to the last frames was in flight when the platform hung up: see the module docstring
    sizes = f"audio_out: {len(notebook)} bytes → {len(function)} bytes"
    if first is None:
        return f"{sizes} (alike for the first {common} bytes, {tail:.2f} s of audio more on one side)"
    return f"{sizes} (first different byte at {first}, {first / (2 * sample_rate):.3f} s into the audio)"


def _first_difference(one: bytes, other: bytes) -> int:
    """The index of the first byte where ``one`` and ``other`` differ (they do, within the shorter)."""
    return next(n for n in range(min(len(one), len(other))) if one[n] != other[n])


def compare_stream(row: Mapping[str, Any], plan: StreamPlan, replayed: Replayed) -> dict[str, Any]:
    """The parity row's notebook, function, same and diff for one replayed stream."""
    from .parity import answer_diff

    stream = _summary(row)
    notebook = {
        "reply": _reply_of(row.get("response_body")),
        "sent": dict(stream.get("sent") or {}),
        "close_code": stream.get("close_code"),
        "closed_by": stream.get("closed_by"),
        "audio_out": f"{len(plan.audio_out)} bytes",
    }
    function = {
        "reply": replayed.reply,
        "sent": dict(replayed.sent),
        "close_code": replayed.close_code,
        "closed_by": replayed.closed_by,
        "audio_out": f"{len(replayed.audio)} bytes",
    }
    fields = ("reply", "sent", "close_code", "closed_by")
    diff = answer_diff({k: notebook[k] for k in fields}, {k: function[k] for k in fields})
    both_platform = notebook["closed_by"] == "platform" and function["closed_by"] == "platform"
    audio = _audio_line(plan.audio_out, bytes(replayed.audio), plan.sample_rate, both_platform)
    if audio is not None:
        diff.append(audio)
    if notebook["close_code"] != function["close_code"] or notebook["closed_by"] != function["closed_by"]:
        diff.append(f"close_reason: {json.dumps(stream.get('close_reason'))} → {json.dumps(replayed.close_reason)}")
    return {"notebook": notebook, "function": function, "same": not diff, "diff": diff}


def not_comparable(why: str) -> dict[str, Any]:
    """The parity row's fields for a stream that could not be replayed, saying why."""
    return {"notebook": None, "function": None, "same": False, "diff": [f"not comparable: {why}"]}


def check_ws(modules: Path, project: Path) -> None:
    """The ``ws`` package the local runtime serves WebSockets with, beside Pyodide or in the project; else why."""
    for candidate in (project / "node_modules", modules):
        if (candidate / "ws" / "package.json").is_file():
            return
    raise ParityUnavailableError(
        "the ws package from npm is needed to replay media streams into the Function: run "
        f"`npm install --prefix {modules.parent} --no-audit --no-fund ws` (beside Pyodide), or `npm install ws` "
        f"in {project}"
    )
