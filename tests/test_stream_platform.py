"""The simulated platform's side of a media stream (docs/simulation.md S7 onward), against bare WebSocket servers.

Each server here is a few lines of the ``websockets`` library playing the app, not sinch_nb's runtime:
what is tested is what the platform sends, when, and what the caller hears.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import threading
import time
import wave
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from sinch_nb.simulate import voice_audio
from sinch_nb.simulate.caller import Call
from sinch_nb.simulate.model import PlatformModel
from sinch_nb.simulate.stream_call import StreamVoice, stream_call
from sinch_nb.simulate.stream_platform import connect_message, run_stream, runtime_url
from sinch_nb.simulate.transport import Reply
from sinch_nb.simulate.v2_call import CallV2

STREAMS = Path(__file__).parent / "fixtures" / "sinch" / "streams"
RATE = 8000
FRAME = 320  # 20 ms at 8 kHz (stream-audio-frame.sinch-docs.json)
ANSWER = json.dumps({"command": "answer"})

Handler = Callable[[ServerConnection], Awaitable[None]]


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STREAMS / name).read_text())
    return data


@contextmanager
def app_server(handler: Handler, process_request: Any = None) -> Iterator[str]:
    """A bare WebSocket server playing the app on its own loop in a thread; yields its ws:// URL."""
    ready = threading.Event()
    port: list[int] = []
    loop = asyncio.new_event_loop()
    stop: asyncio.Future[None] = loop.create_future()

    async def main() -> None:
        options = {"compression": None, "max_size": None, "process_request": process_request}
        async with serve(handler, "127.0.0.1", 0, **options) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        yield f"ws://127.0.0.1:{port[0]}/stream"
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(5)
        loop.close()


def tone(seconds: float, hz: float = 440.0, rate: int = RATE, level: float = 0.3) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * level * 32767).astype("<i2").tobytes()


def voiced_seconds(track: bytes | bytearray, rate: int = RATE) -> float:
    """Seconds of a track whose 20 ms frames are not silence."""
    samples = np.frombuffer(bytes(track), dtype="<i2").astype(np.float64)
    size = rate // 50
    frames = samples[: len(samples) // size * size].reshape(-1, size)
    return float((np.abs(frames).max(axis=1) > 100).sum()) * 0.02


async def read_all(ws: ServerConnection) -> None:
    async for _ in ws:
        pass


async def answer_then_echo(ws: ServerConnection) -> None:
    await ws.recv()
    await ws.send(ANSWER)
    async for message in ws:
        if isinstance(message, bytes):
            await ws.send(message)


# S7 ---------------------------------------------------------------------


def test_s7_connect_message_is_the_asyncapi_connect_request() -> None:
    seen: list[str | bytes] = []

    async def app(ws: ServerConnection) -> None:
        seen.append(await ws.recv())
        await ws.send(ANSWER)
        async for _ in ws:
            pass

    composed = fixture("stream-connect-request.composed-from-schema.json")["body"]
    schema = fixture("stream-connect-request.schema.sinch-docs.json")["fields"]
    with app_server(app) as url:
        run_stream(
            url,
            b"",
            call_id=composed["callId"],
            application_key=composed["applicationKey"],
            sample_rate=composed["sampleRate"],
            call_headers=[{"key": "my-key", "value": "my-key-value"}],  # SVAML's list form becomes the object
            model=PlatformModel().but(stream_caller_pause_s=0),
            duration=0.1,
        )
    (first,) = seen
    assert isinstance(first, str), "connect is a TEXT frame"
    body = json.loads(first)
    assert body == composed
    assert list(body) == list(schema), "every required field, in the schema's order"
    assert body["codec"] in schema["codec"]["enum"] and body["version"] in schema["version"]["enum"]


def test_s7_frame_size_and_rates_are_the_fixture_s() -> None:
    sizes = fixture("stream-audio-frame.sinch-docs.json")["framing"]["bytes_per_20ms"]
    assert {rate: voice_audio.frame_bytes(rate) for rate in voice_audio.SAMPLE_RATES} == {
        int(rate): size for rate, size in sizes.items()
    }
    with pytest.raises(ValueError, match="8000, 16000"):
        connect_message("id", "key", 11025)


# S8 ---------------------------------------------------------------------


@pytest.mark.parametrize(("command", "outcome"), [("busy", "busy"), ("reject", "rejected")])
def test_s8_busy_and_reject_end_the_stream(command: str, outcome: str) -> None:
    frames: list[bytes] = []
    closed: list[tuple[int | None, str | None]] = []

    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(json.dumps(fixture(f"stream-connect-response-{command}.sinch-docs.json")["body"]))
        async for message in ws:
            frames.append(bytes(message) if isinstance(message, bytes) else b"")
        closed.append((ws.close_code, ws.close_reason))

    with app_server(app) as url:
        t = run_stream(url, tone(1.0))
    assert (t.outcome, t.ended_by, t.close_code, t.close_reason) == (outcome, "sinch", 1000, outcome)
    assert t.frames_sent == 0 and frames == [] and closed == [(1000, outcome)]


def test_s8_no_answer_within_the_timeout_closes_with_the_reason() -> None:
    closed: list[tuple[float, int | None, str | None]] = []

    async def app(ws: ServerConnection) -> None:
        start = time.monotonic()
        async for _ in ws:  # reads connect, never answers
            pass
        closed.append((time.monotonic() - start, ws.close_code, ws.close_reason))

    with app_server(app) as url:
        t = run_stream(url, tone(1.0), model=PlatformModel().but(stream_answer_timeout_s=0.3))
    assert t.outcome == "no answer" and t.ended_by == "sinch"
    assert t.close_reason == "no answer within 0.3 s"
    ((after, code, reason),) = closed
    assert code == 1000 and reason == "no answer within 0.3 s"
    assert 0.25 < after < 1.0
    assert t.frames_sent == 0


def test_s8_a_refused_upgrade_fails_the_leg() -> None:
    async def unreached(ws: ServerConnection) -> None:
        raise AssertionError("the upgrade was refused")

    def refuse(connection: ServerConnection, request: Any) -> Any:
        return connection.respond(404, "no stream route here\n")

    with app_server(unreached, refuse) as url:
        t = run_stream(url, b"")
    assert (t.outcome, t.ended_by) == ("failed", "sinch")
    assert t.close_reason.startswith("the WebSocket upgrade was refused: HTTP 404")
    nothing = run_stream("ws://127.0.0.1:1/stream", b"")  # nothing listens on port 1
    assert nothing.outcome == "failed" and "could not open" in nothing.close_reason


# S9 ---------------------------------------------------------------------


def test_s9_frames_are_paced_in_real_time() -> None:
    arrivals: list[float] = []
    sizes: list[int] = []

    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        async for message in ws:
            if isinstance(message, bytes):
                arrivals.append(time.monotonic())
                sizes.append(len(message))

    with app_server(app) as url:
        t = run_stream(url, tone(1.0), model=PlatformModel().but(stream_caller_pause_s=0))
    assert len(arrivals) == 50 == t.frames_sent and set(sizes) == {FRAME}
    span = arrivals[-1] - arrivals[0]
    assert 49 * 0.02 * 0.8 < span < 49 * 0.02 * 1.2, f"50 frames of 20 ms arrived over {span:.3f} s"
    sent = [m.at for m in t.messages if m.sender == "sinch" and m.kind == "audio"]
    assert 49 * 0.02 * 0.8 < sent[-1] - sent[0] < 49 * 0.02 * 1.2


def test_s9_the_echo_comes_back_into_the_heard_track() -> None:
    said = tone(0.5) + bytes(2 * RATE // 2)
    with app_server(answer_then_echo) as url:
        t = run_stream(url, said)
    assert t.caller_track[: len(said)] == said
    assert 0.4 <= voiced_seconds(t.app_track) <= 0.6
    heard = next(i for i in range(0, len(t.app_track), 2) if t.app_track[i : i + 2] != b"\0\0")
    spoke = next(i for i in range(0, len(said), 2) if said[i : i + 2] != b"\0\0")
    assert t.app_track[heard : heard + RATE // 2] == said[spoke : spoke + RATE // 2], "heard as said, frames later"
    assert t.ended_by == "caller" and t.close_reason == "the caller hung up"


# S10 --------------------------------------------------------------------


def test_s10_clear_drops_the_queued_audio() -> None:
    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        await ws.send(tone(2.0))  # two seconds at once: the platform plays them in real time
        await asyncio.sleep(0.2)
        await ws.send(json.dumps(fixture("stream-control-clear.sinch-docs.json")["body"]))
        async for _ in ws:
            pass

    with app_server(app) as url:
        t = run_stream(url, bytes(2 * RATE), model=PlatformModel().but(stream_caller_pause_s=0))
    heard = voiced_seconds(t.app_track)
    assert 0.12 <= heard <= 0.4, f"heard {heard:.2f} s of the 2 s: the clear came after 0.2 s"
    ((at, dropped),) = t.clears
    assert 1.5 * 2 * RATE < dropped < 1.9 * 2 * RATE
    assert 0.15 < at - (t.answered_at or 0) < 0.5
    assert [m.kind for m in t.messages if m.kind in ("clear", "cleared")] == ["clear", "cleared"]


# S11 --------------------------------------------------------------------


@pytest.mark.parametrize("heartbeat", [True, False])
def test_s11_heartbeat_keeps_a_silent_stream_alive(heartbeat: bool) -> None:
    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        reading = asyncio.ensure_future(read_all(ws))  # an app reads what it is sent
        while heartbeat and not reading.done():
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(fixture("stream-control-heartbeat.sinch-docs.json")["body"]))
            await asyncio.sleep(0.1)
        await reading

    model = PlatformModel().but(stream_idle_timeout_s=0.3)
    with app_server(app) as url:
        t = run_stream(url, b"", model=model, duration=1.0)
    if heartbeat:
        assert (t.ended_by, t.close_reason) == ("caller", "the caller hung up")
        assert t.frames_sent == 50
    else:
        assert (t.ended_by, t.close_reason) == ("sinch", "no audio or heartbeat from the app for 0.3 s")
        assert 0.3 <= (t.ended_at - (t.answered_at or 0)) < 0.6


# S12 --------------------------------------------------------------------


def test_s12_the_buffer_limit_drops_the_oldest_audio() -> None:
    numbered = b"".join(np.full(FRAME // 2, 100 * (n + 1), dtype="<i2").tobytes() for n in range(100))  # 2 s

    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        await ws.send(numbered)
        async for _ in ws:
            pass

    model = PlatformModel().but(stream_buffer_bytes=25 * FRAME)  # half a second at 8 kHz
    with app_server(app) as url:
        t = run_stream(url, b"", model=model, duration=1.0)
    assert t.overflow_bytes == 75 * FRAME
    played = np.frombuffer(bytes(t.app_track), dtype="<i2").reshape(-1, FRAME // 2)[:, 0]
    values = [int(v) for v in played if v]
    assert values == [100 * (n + 1) for n in range(75, 100)], "the newest half second, in order"


# S13 --------------------------------------------------------------------


def test_s13_the_app_closing_ends_the_leg() -> None:
    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        await asyncio.sleep(0.2)
        await ws.close(1000, "bye")

    with app_server(app) as url:
        t = run_stream(url, tone(2.0))
    assert (t.outcome, t.ended_by, t.close_code, t.close_reason) == ("answered", "app", 1000, "bye")
    assert t.ended_at < 1.0 and 5 <= t.frames_sent <= 20


# S14, S15: the caller's voice ------------------------------------------


def goertzel(pcm: bytes, hz: float, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    t = np.arange(len(samples)) / rate
    return float(abs(np.sum(samples * np.exp(-2j * np.pi * hz * t))) / len(samples))


def test_s14_press_is_in_band_dtmf() -> None:
    five = voice_audio.dtmf("5", RATE)
    assert len(five) == 2 * RATE // 10  # 50 ms tone + 50 ms gap
    tone_part = five[: len(five) // 2]
    strong = {hz: goertzel(tone_part, hz, RATE) for hz in (697, 770, 852, 941, 1209, 1336, 1477)}
    assert sorted(strong, key=strong.__getitem__)[-2:] in ([770, 1336], [1336, 770])
    assert five[len(five) // 2 :] == bytes(len(five) // 2)
    with pytest.raises(ValueError, match="no DTMF key"):
        voice_audio.dtmf("5x", RATE)


def test_s15_say_speaks_with_espeak_ng() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng (./dev test and .ci/run install it)")
    text = "Hello, I would like to book a table for two."
    pcm = voice_audio.speak(text, 16000)
    seconds = len(pcm) / 2 / 16000
    assert 1.5 < seconds < 6, f"{seconds:.2f} s for {len(text)} characters"
    assert voiced_seconds(pcm, 16000) > 1.0
    narrow = voice_audio.speak(text, 8000)
    assert abs(len(narrow) / 2 / 8000 - seconds) < 0.01


def test_s15_say_without_espeak_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_audio.shutil, "which", lambda name: None)
    with pytest.raises(voice_audio.SpeechUnavailableError, match=r"apt-get install espeak-ng.*audio="):
        voice_audio.speak("hello", 8000)


def test_s15_audio_takes_any_wav() -> None:
    stereo = np.repeat((np.sin(np.arange(22050) * 2 * np.pi * 300 / 22050) * 8000).astype("<i2"), 2)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(stereo.tobytes())
    pcm = voice_audio.read_wav(buffer.getvalue(), RATE)
    assert len(pcm) == 2 * RATE  # one second, mono, at the stream's rate
    assert goertzel(pcm, 300, RATE) > 10 * goertzel(pcm, 1000, RATE)
    assert voice_audio.read_wav(voice_audio.wav_bytes(pcm, RATE), RATE) == pcm


# The call object: audio() and plot() ------------------------------------


def test_stream_call_hears_plots_and_plays_both_directions() -> None:
    with app_server(answer_then_echo) as url:
        call = stream_call(url, audio=tone(0.4), sample_rate=RATE, pause=0.3)
    assert call.outcome == "answered" and call.frame["kind"].tolist()[:2] == ["connect", "answer"]
    caller, app = call.audio()
    assert caller.data[:4] == b"RIFF" and app.data[:4] == b"RIFF"
    assert caller.data != app.data and "caller → app" in call.audio()._repr_html_()
    figure = call.plot()
    lines = [ax.get_lines()[0] for ax in figure.axes]
    assert len(lines) == 2
    caller_line, app_line = (np.asarray(line.get_ydata()) for line in lines)
    assert np.abs(caller_line).max() > 0.2 and np.abs(app_line).max() > 0.2, "both tracks drawn"


def test_plot_marks_the_clears() -> None:
    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(ANSWER)
        await ws.send(tone(1.0))
        await asyncio.sleep(0.1)
        await ws.send('{"command": "clear"}')
        async for _ in ws:
            pass

    with app_server(app) as url:
        call = stream_call(url, audio=b"", sample_rate=RATE, duration=0.4)
    ((at, _),) = call.transcript.clears
    marks = [line for line in call.plot().axes[1].get_lines() if line.get_linestyle() == "--"]
    assert [float(np.asarray(line.get_xdata())[0]) for line in marks] == [at]


# S16, S17: sn.dial follows the stream ----------------------------------


def test_s16_v1_connect_stream_is_followed_and_ends_the_call() -> None:
    seen: list[dict[str, Any]] = []
    posted: list[dict[str, Any]] = []

    async def app(ws: ServerConnection) -> None:
        seen.append(json.loads(await ws.recv()))
        await answer_then_echo_answered(ws)

    with app_server(app) as url:
        action = fixture("stream-v1-connectStream-action.sinch-docs.json")["body"]["action"]
        action = {**action, "destination": {"type": "Websocket", "endpoint": url}, "streamingOptions": {"version": 1}}

        def transport(path: str, body: bytes, headers: dict[str, str]) -> Reply:
            event = json.loads(body)
            posted.append(event)
            answer = {"action": action} if event["event"] == "ice" else {}
            return Reply(200, json.dumps(answer).encode() if answer else b"")

        call = Call(
            transport, "+15551234567", "+15559876543", stream_voice=StreamVoice(audio=tone(0.3)), stream_runtime=None
        )
        call.start()
    (connect,) = seen
    assert connect["callId"] == call.transcript.call_id
    assert connect["callHeaders"] == {"foo": "bar", "baz": "qux"} and connect["sampleRate"] == RATE
    dice = posted[-1]
    assert (dice["event"], dice["reason"], dice["result"]) == ("dice", "CALLERHANGUP", "ANSWERED")
    assert call.state == "ended" and call.transcript.stream is not None
    assert call.transcript.stream.outcome == "answered"
    frame = call.transcript.to_frame()
    assert frame.stream.outcome == "answered" and len(frame.audio()) == 2
    assert "answer" in frame["action"].tolist()


async def answer_then_echo_answered(ws: ServerConnection) -> None:
    await ws.send(ANSWER)
    async for message in ws:
        if isinstance(message, bytes):
            await ws.send(message)


def test_s17_a_busy_stream_ends_a_v1_call_busy() -> None:
    async def app(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"command": "busy"}')

    posted: list[dict[str, Any]] = []
    with app_server(app) as url:
        action = {"name": "connectStream", "destination": {"type": "Websocket", "endpoint": url}}

        def transport(path: str, body: bytes, headers: dict[str, str]) -> Reply:
            posted.append(json.loads(body))
            return Reply(200, json.dumps({"action": action}).encode() if len(posted) == 1 else b"")

        Call(transport, "+1555", "+1666", stream_voice=StreamVoice(audio=tone(0.2))).start()
    assert (posted[-1]["reason"], posted[-1]["result"]) == ("CALLEEHANGUP", "BUSY")


def test_s16_v2_stream_dial_is_followed_and_ends_the_call() -> None:
    seen: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    async def app(ws: ServerConnection) -> None:
        seen.append(json.loads(await ws.recv()))
        await ws.send(ANSWER)
        await asyncio.sleep(0.2)
        await ws.close()

    with app_server(app) as url:
        stream = {
            "endpoint": url,
            "streamOptions": {"version": 1, "codec": "PCM", "sampleRate": 16000},
            "callHeaders": [{"key": "agent", "value": "support"}],
        }
        commands = [{"command": "answer"}, {"command": "dial", "to": {"type": "STREAM", "stream": stream}}]

        def transport(path: str, body: bytes, headers: dict[str, str]) -> Reply:
            events.append(json.loads(body))
            first = events[-1]["event"] == "call.incoming"
            return Reply(200, json.dumps({"commands": commands if first else []}).encode())

        call = CallV2(transport, "+1555", "+1666", service_id="svc", stream_voice=StreamVoice(audio=b"\1\0" * 16000))
        call.start()
    (connect,) = seen
    assert connect["applicationKey"] == "svc" and connect["sampleRate"] == 16000
    assert connect["callHeaders"] == {"agent": "support"}
    hangup = events[-1]
    assert hangup["event"] == "call.hangup" and hangup["call"]["callReason"] == "CALLEE_HANGUP"
    assert call.transcript.stream is not None and call.transcript.stream.ended_by == "app"


def test_s16_an_endpoint_off_this_machine_reaches_the_runtime() -> None:
    runtime = "http://127.0.0.1:8123"
    assert (
        runtime_url("wss://yourcompany.com/websocket-server?t=1", runtime) == "ws://127.0.0.1:8123/websocket-server?t=1"
    )
    assert runtime_url("ws://127.0.0.1:9999/x", runtime) == "ws://127.0.0.1:9999/x"
    with pytest.raises(ValueError, match="ws:// or wss://"):
        runtime_url("https://example.com/x", runtime)


def test_s16_sn_dial_says_into_the_stream_its_handler_connects(sn: Any) -> None:
    """Through the public face: an ICE handler answers connectStream; sn.dial(audio=...) speaks into it."""
    seen: list[dict[str, Any]] = []

    async def app(ws: ServerConnection) -> None:
        seen.append(json.loads(await ws.recv()))
        await answer_then_echo_answered(ws)

    with app_server(app) as url:
        answer = sn.svaml.ice().connect_stream(url, sample_rate=16000, call_headers={"caller": "simulated"})
        sn.get_session().registry.register("ice", lambda context, event: answer, "test ice")
        transcript = sn.dial("+15551234567", "+15559876543", audio=tone(0.3, rate=16000))
    (connect,) = seen
    assert connect["callId"] == transcript.call_id and connect["callHeaders"] == {"caller": "simulated"}
    assert transcript.stream.outcome == "answered" and transcript.stream.transcript.sample_rate == 16000
    assert 0.2 <= voiced_seconds(transcript.stream.transcript.app_track, 16000) <= 0.4
    assert transcript["text"].iloc[-1].startswith("CALLERHANGUP, ANSWERED")
    assert {"connect", "answer", "close"} <= set(transcript["action"])
