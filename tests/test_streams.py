"""Media streams over a real WebSocket on loopback, the client written from §8 with ``websockets`` directly.

Sinch's protocol (shared/reference/sinch-voice-v2.md §8, fixtures in fixtures/sinch/streams/): a
TEXT ``connect``, the app's ``answer`` / ``busy`` / ``reject``, BINARY PCM both ways, ``clear`` and
``heartbeat`` from the app. Every stream is one journal row (docs/simulation.md S1–S6).
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from sinch_nb.functions.errors import RouteError, ServerError
from sinch_nb.runtime import protocol
from sinch_nb.runtime.session import Session
from sinch_nb.runtime.stream_audio import heard_track, reply_latencies, voiced

STREAMS = Path(__file__).parent / "fixtures" / "sinch" / "streams"
#: The connect message composed from the AsyncAPI schema (no verbatim Sinch example exists).
CONNECT: dict[str, Any] = json.loads((STREAMS / "stream-connect-request.composed-from-schema.json").read_text())["body"]
#: 20 ms of a 440 Hz tone at 8 kHz: speech, as far as the reply latency is concerned.
TONE = (STREAMS / "stream-audio-frame-8k-20ms-440hz.s16le").read_bytes()
SILENCE = bytes(len(TONE))

Handler = Callable[[Any, Any], Awaitable[None]]


async def echo(context: Any, stream: Any) -> None:
    await stream.answer()
    async for frame in stream.audio():
        await stream.send(frame)


def serve(session: Session, path: str, handler: Handler) -> str:
    """Register ``handler`` at ``path``, start the runtime, return the stream's ws:// URL."""
    session.registry.register("stream", handler, "test", key=f"stream {path}", defined_in=f"test {path}")
    server = session.start()
    return server.url.replace("http://", "ws://") + path


def row_of(session: Session, path: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """The last stream row (at ``path``) once the stream is over and journaled."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in session.journal.rows() if r["kind"] == "stream" and (path is None or r["path"] == path)]
        if rows and rows[-1]["outcome"] != "running":
            row = rows[-1]
            row["stream"] = json.loads(row["stream"]) if row["stream"] else None
            return row
        assert time.monotonic() < deadline, f"no finished stream row: {rows}"
        time.sleep(0.02)


async def open_stream(url: str, message: Any = None) -> ClientConnection:
    """Connect as Sinch does: the upgrade, then the TEXT connect message."""
    ws = await connect(url)
    await ws.send(json.dumps(CONNECT if message is None else message))
    return ws


async def closed(ws: ClientConnection) -> tuple[int | None, str]:
    """Read until the server closes: its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except ConnectionClosed:
        pass
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


def test_connect_gets_answer_and_the_row_keeps_the_connect_message(session: Session) -> None:
    url = serve(session, "/echo", echo)

    async def call() -> Any:
        async with await open_stream(url) as ws:
            return json.loads(await ws.recv())

    assert asyncio.run(call()) == {"command": "answer"}
    row = row_of(session)
    assert (row["path"], row["call_id"], row["status"], row["outcome"]) == ("/echo", CONNECT["callId"], 101, "ok")
    assert json.loads(row["request_body"]) == CONNECT
    assert json.loads(row["response_body"]) == {"command": "answer"}
    assert row["handler"] == "stream /echo v1 (test)"
    summary = row["stream"]
    assert (summary["sample_rate"], summary["codec"], summary["call_headers"]) == (
        8000,
        "PCM",
        {"my-key": "my-key-value"},
    )
    assert (summary["close_code"], summary["closed_by"], summary["sent"]) == (1000, "platform", {"answer": 1})


def test_echo_returns_every_frame_intact_in_order_and_both_wavs_hold_them(session: Session, tmp_path: Path) -> None:
    url = serve(session, "/echo", echo)
    frames = [bytes([n % 251, n % 7]) * 160 for n in range(60)]

    async def call() -> list[bytes]:
        async with await open_stream(url) as ws:
            assert json.loads(await ws.recv()) == {"command": "answer"}
            echoed = []
            for frame in frames:
                await ws.send(frame)
            for _ in frames:
                echoed.append(await asyncio.wait_for(ws.recv(), 10))
            return echoed

    assert asyncio.run(call()) == frames
    row = row_of(session)
    summary = row["stream"]
    assert (summary["frames_in"], summary["bytes_in"]) == (60, 60 * 320)
    assert (summary["frames_out"], summary["bytes_out"]) == (60, 60 * 320)
    for way in ("in", "out"):
        path = Path(summary[f"audio_{way}"])
        assert path == tmp_path / ".sinch_nb" / "streams" / f"{row['id']}-{way}.wav"
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
            assert wav.readframes(wav.getnframes()) == b"".join(frames)


def test_clear_and_heartbeat_reach_the_platform_as_text_after_the_audio(session: Session) -> None:
    async def speak(context: Any, stream: Any) -> None:
        await stream.answer()
        await stream.send(TONE)
        await stream.clear()
        await stream.heartbeat()
        await stream.hangup()

    url = serve(session, "/talk", speak)

    async def call() -> list[Any]:
        async with await open_stream(url) as ws:
            got = [await ws.recv() for _ in range(4)]
            code, _ = await closed(ws)
            return [*got, code]

    answer, audio, clear, heartbeat, code = asyncio.run(call())
    assert json.loads(answer) == {"command": "answer"}
    assert audio == TONE
    assert isinstance(clear, str) and json.loads(clear) == {"command": "clear"}
    assert isinstance(heartbeat, str) and json.loads(heartbeat) == {"command": "heartbeat"}
    assert code == 1000
    summary = row_of(session)["stream"]
    assert summary["sent"] == {"answer": 1, "clear": 1, "heartbeat": 1}
    assert (summary["closed_by"], summary["close_reason"]) == ("handler", "hangup by the handler")


@pytest.mark.parametrize("reply", ["busy", "reject"])
def test_busy_and_reject_end_the_stream(session: Session, reply: str) -> None:
    async def refuse(context: Any, stream: Any) -> None:
        await getattr(stream, reply)()
        with pytest.raises(Exception, match="has ended"):  # nothing more goes out
            await stream.send(TONE)

    url = serve(session, "/busy", refuse)

    async def call() -> tuple[Any, int | None]:
        async with await open_stream(url) as ws:
            first = json.loads(await ws.recv())
            code, _ = await closed(ws)
            return first, code

    assert asyncio.run(call()) == ({"command": reply}, 1000)
    row = row_of(session)
    assert (row["outcome"], json.loads(row["response_body"])) == ("ok", {"command": reply})
    assert row["stream"]["sent"] == {reply: 1}
    assert row["stream"]["frames_out"] == 0


def test_audio_before_answer_is_refused_with_the_fix(session: Session) -> None:
    async def eager(context: Any, stream: Any) -> None:
        await stream.send(TONE)

    url = serve(session, "/eager", eager)

    async def call() -> tuple[int | None, str]:
        async with await open_stream(url) as ws:
            return await closed(ws)

    code, reason = asyncio.run(call())
    assert code == 1011 and "before answer()" in reason
    row = row_of(session)
    assert row["outcome"] == "error"
    assert "send() before answer(): await stream.answer() first" in row["error"]
    assert row["stream"]["frames_out"] == 0


def test_a_handler_that_raises_closes_1011_is_journaled_and_the_next_stream_works(session: Session) -> None:
    async def broken(context: Any, stream: Any) -> None:
        await stream.answer()
        async for _ in stream.audio():
            raise ValueError("no speech model loaded")

    url = serve(session, "/broken", broken)
    echo_url = serve(session, "/echo", echo)

    async def call() -> tuple[int | None, str, bytes]:
        async with await open_stream(url) as ws:
            await ws.recv()
            await ws.send(TONE)
            code, reason = await closed(ws)
        async with await open_stream(echo_url) as ws:
            await ws.recv()
            await ws.send(TONE)
            return code, reason, await asyncio.wait_for(ws.recv(), 10)

    code, reason, echoed = asyncio.run(call())
    assert code == 1011 and "ValueError: no speech model loaded" in reason
    assert echoed == TONE
    row = row_of(session, "/broken")
    assert row["outcome"] == "error"
    assert "raised ValueError: no speech model loaded" in row["error"]
    assert "in broken" in row["traceback"] and 'raise ValueError("no speech model loaded")' in row["traceback"]
    assert row["stream"]["close_code"] == 1011
    assert session.last_error() is not None and session.last_error().record_id == row["id"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("first", "why"),
    [
        ({k: v for k, v in CONNECT.items() if k != "sampleRate"}, "connect lacks sampleRate"),
        (
            {"command": "connect", "callId": "test-1", "applicationId": "app-1"},
            "applicationId is the tutorials' name for applicationKey",
        ),
        ({**CONNECT, "codec": "OPUS"}, "codec 'OPUS' (only PCM)"),
        ({**CONNECT, "sampleRate": 11025}, "sampleRate 11025"),
        ({"command": "answer"}, "must be command 'connect'"),
        (TONE, "TEXT connect message, not audio"),
    ],
)
def test_a_bad_first_message_is_refused_with_its_reason_and_journaled(session: Session, first: Any, why: str) -> None:
    url = serve(session, "/echo", echo)

    async def call() -> tuple[int | None, str]:
        async with connect(url) as ws:
            await ws.send(first if isinstance(first, bytes) else json.dumps(first))
            return await closed(ws)

    code, reason = asyncio.run(call())
    assert code == 1008 and reason.startswith("bad connect message")
    assert len(reason.encode()) <= 123  # what a close frame carries; the journal keeps it whole
    row = row_of(session)
    assert row["outcome"] == "rejected" and why in row["error"]
    assert row["error"].startswith(reason.removesuffix("..."))
    assert row["handler"] == "stream /echo v1 (test)"
    if not isinstance(first, bytes):
        assert json.loads(row["request_body"]) == first


def test_an_unknown_path_is_closed_with_the_routes_and_journaled(session: Session) -> None:
    url = serve(session, "/echo", echo).replace("/echo", "/nowhere")

    async def call() -> tuple[int | None, str]:
        async with connect(url) as ws:
            return await closed(ws)

    code, reason = asyncio.run(call())
    assert code == 1008
    assert reason == "no stream handler at /nowhere: define one with %%sinch stream /nowhere (stream routes: /echo)"
    row = row_of(session)
    assert (row["path"], row["outcome"], row["error"]) == ("/nowhere", "rejected", reason)


def test_a_handler_that_never_answers_is_refused_after_the_handler_timeout(session: Session) -> None:
    async def slow(context: Any, stream: Any) -> None:
        await asyncio.sleep(30)

    session.configure(handler_timeout=0.3)
    url = serve(session, "/slow", slow)

    async def call() -> tuple[int | None, str]:
        async with await open_stream(url) as ws:
            return await closed(ws)

    started = time.monotonic()
    code, reason = asyncio.run(call())
    assert code == 1011 and "did not answer within 0.3 s" in reason
    assert time.monotonic() - started < 5
    assert "sn.configure(handler_timeout=...)" in row_of(session)["error"]


def test_the_platform_hanging_up_ends_audio_and_the_handler_returns(session: Session) -> None:
    seen: list[int] = []

    async def count(context: Any, stream: Any) -> None:
        await stream.answer()
        async for _ in stream.audio():
            seen.append(1)
        seen.append(stream.close_code)

    url = serve(session, "/count", count)

    async def call() -> None:
        async with await open_stream(url) as ws:
            await ws.recv()
            for _ in range(5):
                await ws.send(SILENCE)

    asyncio.run(call())
    row = row_of(session)
    assert seen == [1, 1, 1, 1, 1, 1000]
    assert (row["outcome"], row["stream"]["closed_by"], row["stream"]["close_code"]) == ("ok", "platform", 1000)


def test_dtmf_reaches_the_handler_as_sinch_nbs_text_message(session: Session) -> None:
    async def keys(context: Any, stream: Any) -> None:
        await stream.answer()
        digit = await stream.dtmf(timeout=5)
        await stream.send(TONE if digit == "5" else SILENCE)
        await stream.hangup()

    url = serve(session, "/keys", keys)

    async def call() -> bytes:
        async with await open_stream(url) as ws:
            await ws.recv()
            await ws.send(json.dumps({"command": "dtmf", "digit": "5"}))
            return await asyncio.wait_for(ws.recv(), 10)

    assert asyncio.run(call()) == TONE
    summary = row_of(session)["stream"]
    assert (summary["digits"], summary["received"]) == ("5", {"dtmf": 1})


def test_reply_latency_runs_from_the_end_of_the_callers_speech_to_the_first_spoken_reply(session: Session) -> None:
    async def reply(context: Any, stream: Any) -> None:
        await stream.answer()
        quiet = 0
        async for frame in stream.audio():
            await stream.send(SILENCE)  # silence back while listening: not a reply
            quiet = 0 if voiced(frame) else quiet + 1
            if quiet == 15:  # 300 ms of silence: the caller's turn is over
                await asyncio.sleep(0.2)
                await stream.send(TONE)

    url = serve(session, "/reply", reply)

    async def call() -> None:
        async with await open_stream(url) as ws:
            await ws.recv()
            for frame in [TONE] * 10 + [SILENCE] * 20:
                await ws.send(frame)
            while await asyncio.wait_for(ws.recv(), 10) != TONE:
                pass

    asyncio.run(call())
    row = row_of(session)
    (latency,) = row["stream"]["reply_latencies_ms"]
    assert row["latency_ms"] == pytest.approx(latency, abs=0.01)
    assert 200 <= latency < 1500


def test_reply_latencies_follow_the_documented_definition() -> None:
    frame = 0.02
    inbound = [(0.00, True, frame), (0.02, True, frame)] + [(0.04 + i * frame, False, frame) for i in range(20)]
    inbound += [(1.00, True, frame), (1.02, False, frame)]  # a second turn: ended by the end of inbound audio
    outbound = [(0.03, False), (0.50, True), (0.60, True), (1.10, True)]
    assert reply_latencies(inbound, outbound) == pytest.approx([480.0, 100.0])
    short_pause = [(0.0, True, frame), (0.02, False, frame), (0.04, True, frame)]  # 20 ms of quiet: one turn
    assert reply_latencies(short_pause, [(0.05, True)]) == pytest.approx([10.0])
    assert reply_latencies([(0.0, True, frame)], []) == []
    assert voiced(TONE) and not voiced(SILENCE) and not voiced(b"\x10\x00" * 160)


def test_the_heard_track_follows_the_platforms_playout_clear_and_end() -> None:
    """S9, S10 applied to the runtime's send times: queued audio plays on, a gap is silence, clear drops the queue."""
    rate, second = 8000, 16000  # bytes a second at 8 kHz
    a, b = b"\x01\x00" * 160, b"\x02\x00" * 4000  # 20 ms, then 0.5 s sent in one go
    track = heard_track([(10.0, a), (10.1, b)], [], origin=10.0, end=11.0, rate=rate)
    assert track == a + bytes(int(0.08 * second)) + b  # a, silence until b was sent, then all of b
    cleared = heard_track([(10.0, a), (10.1, b)], [10.3], origin=10.0, end=11.0, rate=rate)
    assert cleared == a + bytes(int(0.08 * second)) + b[: int(0.2 * second)]  # 0.2 s of b played before the clear
    queued = heard_track([(10.0, b), (10.1, a)], [], origin=10.0, end=10.3, rate=rate)
    assert queued == b[: int(0.3 * second)]  # a was queued behind b; the hang-up at 0.3 s cut both


def test_the_heard_file_lines_up_with_the_callers_and_the_record_plots_both(sn: Any) -> None:
    """A reply sent 0.2 s after the caller's first frame is heard 0.2 s into the call; a clear cuts what was queued."""

    async def reply(context: Any, stream: Any) -> None:
        await stream.answer()
        async for _ in stream.audio():
            break
        await asyncio.sleep(0.2)
        await stream.send(TONE * 100)  # 2 s queued at once
        await asyncio.sleep(0.3)
        await stream.clear()  # barge-in: about 1.7 s of it never plays
        async for _ in stream.audio():  # until the caller hangs up
            pass

    session = sn.get_session()
    url = serve(session, "/reply", reply)

    async def call() -> None:
        async with await open_stream(url) as ws:
            await ws.recv()
            for _ in range(40):  # 0.8 s of the caller, paced
                await ws.send(SILENCE)
                await asyncio.sleep(0.02)

    asyncio.run(call())
    row = row_of(session, "/reply")
    record = sn.callback(row["id"])
    with wave.open(str(record.audio_path("heard"))) as wav:
        heard = wav.readframes(wav.getnframes())
    first = next(i for i in range(0, len(heard), 2) if heard[i : i + 2] != b"\x00\x00") / 2 / 8000
    assert 0.19 <= first < 0.35, first  # when it was sent, not at sample 0 as in the -out file
    played = (len(heard) / 2 / 8000) - first
    assert 0.25 <= played < 0.6, played  # until the clear, not the 2 s sent
    (clear,) = row["stream"]["clears_s"]
    assert clear == pytest.approx(first + played, abs=0.03)
    assert "what the caller heard" in record._repr_html_()
    figure = record.plot()
    assert [ax.get_ylabel() for ax in figure.axes] == ["caller → app", "app → caller"]
    assert len(figure.axes[1].lines) == 2  # the track and the clear's mark


def test_a_stream_outlives_the_http_request_deadlines(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT", 0.2)
    monkeypatch.setattr(protocol, "BODY_TIMEOUT", 0.2)
    url = serve(session, "/echo", echo)

    async def call() -> bytes:
        async with await open_stream(url) as ws:
            await ws.recv()
            await asyncio.sleep(0.6)
            await ws.send(TONE)
            return await asyncio.wait_for(ws.recv(), 10)

    assert asyncio.run(call()) == TONE


def test_the_stream_magic_and_the_decorator_serve_through_the_kernel_session(sn: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "sinch_nb")
        shell.run_cell_magic(
            "sinch",
            "stream /echo",
            "await stream.answer()\nasync for frame in stream.audio():\n    await stream.send(frame)\n",
        )
        with pytest.raises(Exception, match="needs the WebSocket's path"):
            shell.run_cell_magic("sinch", "stream", "await stream.answer()\n")
        shell.run_cell_magic("sinch", "stream /hang", "await stream.busy()")  # no await of its own: async anyway
    finally:
        InteractiveShell.clear_instance()

    @sn.stream("/dec")
    async def louder(context: Any, stream: Any) -> None:
        await stream.answer()
        async for frame in stream.audio():
            await stream.send(frame[::-1])

    with pytest.raises(RouteError, match="needs an async def handler"):
        sn.stream("/sync")(lambda context, stream: None)
    assert {h.key for h in sn.handlers()} == {"stream /echo", "stream /hang", "stream /dec"}

    with pytest.raises(ServerError, match=r"sn\.start"):
        sn.ws_url("/echo")
    server = sn.start()
    assert sn.ws_url("echo") == f"ws://127.0.0.1:{server.port}/echo"

    async def call(path: str, frame: bytes) -> Any:
        async with await open_stream(sn.ws_url(path)) as ws:
            await ws.recv()
            await ws.send(frame)
            return await asyncio.wait_for(ws.recv(), 10)

    assert asyncio.run(call("/echo", TONE)) == TONE
    assert asyncio.run(call("/dec", TONE)) == TONE[::-1]

    async def refused() -> Any:
        async with await open_stream(sn.ws_url("/hang")) as ws:
            return json.loads(await ws.recv()), await closed(ws)

    assert asyncio.run(refused()) == ({"command": "busy"}, (1000, "busy"))

    frame = sn.callbacks(kind="stream")
    assert len(frame) == 3 and set(frame["outcome"].astype(str)) == {"ok"}
    first = sn.callback(int(frame.index[0]))
    assert first["stream"]["frames_in"] == 1 and first["handler"].startswith("stream /echo v1 (cell")
    audio = first.audio("in")
    assert audio.data[44:] == TONE  # a WAV header, then the frame as sent
    assert first.audio("out").data[44:] == TONE
    assert "<audio" in first._repr_html_()
    with pytest.raises(sn.CallbackNotFoundError, match="has no stream audio"):
        sn.callback(int(frame.index[2])).audio("out")

    server.public_url = "https://abc.ngrok.app"
    assert sn.ws_url("/echo") == "wss://abc.ngrok.app/echo"


def test_a_handler_that_holds_the_loop_is_named_on_its_row_and_the_next_stream_is_served(session: Session) -> None:
    """Stream handlers share the server's loop, as in the deployed Function: a blocking one is named, with the fix."""

    async def stuck(context: Any, stream: Any) -> None:
        await stream.answer()
        time.sleep(0.5)  # blocks the loop every stream and callback shares
        await stream.hangup()

    async def patient(context: Any, stream: Any) -> None:
        await stream.answer()
        await asyncio.sleep(0.5)  # waits without holding the loop: nothing to say
        await stream.hangup()

    urls = [serve(session, path, handler) for path, handler in [("/stuck", stuck), ("/patient", patient)]]
    echo_url = serve(session, "/echo", echo)

    async def call(url: str) -> None:
        async with await open_stream(url) as ws:
            assert json.loads(await ws.recv()) == {"command": "answer"}
            await closed(ws)

    asyncio.run(call(urls[0]))
    held = row_of(session, "/stuck")
    assert held["stream"]["held_loop_s"][0] >= 0.5
    warning = json.loads(held["warnings"])[0]
    assert "ran without awaiting for more than 0.2 s (once, for 0.5" in warning
    assert "await asyncio.to_thread(work, ...)" in warning
    asyncio.run(call(urls[1]))
    calm = row_of(session, "/patient")
    assert calm["outcome"] == "ok" and calm["warnings"] is None and calm["stream"]["held_loop_s"] == []

    async def echoed() -> bytes:
        async with await open_stream(echo_url) as ws:
            await ws.recv()
            await ws.send(TONE)
            return bytes(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(echoed()) == TONE


def test_audio_sent_after_the_connection_is_lost_is_dropped_quietly(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler still sending to a vanished platform: counted as dropped, no asyncio warning in the user's cell."""

    async def chatty(context: Any, stream: Any) -> None:
        await stream.answer()
        time.sleep(0.3)  # the platform's socket goes meanwhile, its loss not yet seen by the loop
        for _ in range(300):
            await stream.send(TONE)

    url = serve(session, "/chatty", chatty)

    async def vanish() -> None:
        ws = await open_stream(url)
        assert json.loads(await ws.recv()) == {"command": "answer"}
        ws.transport.abort()  # a lost connection, as a dropped network would leave it

    with caplog.at_level("WARNING", logger="asyncio"):
        asyncio.run(vanish())
        row = row_of(session, "/chatty")
    assert row["stream"]["dropped_out"] + row["stream"]["frames_out"] == 300
    assert row["stream"]["dropped_out"] > 0
    assert not [r for r in caplog.records if "socket.send() raised exception" in r.getMessage()]


def test_reads_pause_only_past_the_backlog_and_uvicorn_still_reads_the_flag_it_rests_on(session: Session) -> None:
    """The runtime's WebSocket protocol: no epoll_ctl pair a frame; uvicorn's pausing code still goes through it."""
    import inspect

    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from sinch_nb.runtime.ws_protocol import BACKLOG, StreamWebSocketProtocol

    protocol = StreamWebSocketProtocol.__new__(StreamWebSocketProtocol)
    protocol.queue = asyncio.Queue()
    assert protocol.read_paused  # a short queue: uvicorn is told not to bother pausing
    for n in range(BACKLOG):
        protocol.queue.put_nowait({"n": n})
    assert not protocol.read_paused  # past the backlog: uvicorn pauses reads
    protocol.read_paused = True
    assert protocol.read_paused and protocol._paused
    for method in ("send_receive_event_to_app", "receive"):
        assert "self.read_paused" in inspect.getsource(getattr(WebSocketsSansIOProtocol, method))
    server = session.start()
    assert server._server is not None and server._server.config.ws_protocol_class is StreamWebSocketProtocol


def test_a_handler_still_running_after_the_platform_closes_is_given_grace_then_cancelled(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S6: the handler has HANDLER_GRACE s after the platform's close, then is cancelled; a stubborn one is named."""
    from sinch_nb.runtime import streams

    monkeypatch.setattr(streams, "HANDLER_GRACE", 0.2)
    ended: list[str] = []

    async def deaf(context: Any, stream: Any) -> None:
        await stream.answer()
        try:
            await asyncio.sleep(30)  # never reads audio(), so never sees the close
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    async def stubborn(context: Any, stream: Any) -> None:
        await stream.answer()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(2)  # swallows the cancellation and goes on

    urls = {path: serve(session, path, handler) for path, handler in [("/deaf", deaf), ("/stubborn", stubborn)]}

    async def hang_up(url: str) -> None:
        async with await open_stream(url) as ws:
            await ws.recv()  # answered; the platform hangs up at once

    asyncio.run(hang_up(urls["/deaf"]))
    row = row_of(session, "/deaf")
    assert ended == ["cancelled"] and row["outcome"] == "ok" and row["warnings"] is None
    assert row["stream"]["closed_by"] == "platform"
    asyncio.run(hang_up(urls["/stubborn"]))
    (warning,) = json.loads(row_of(session, "/stubborn")["warnings"])
    assert "was still running 1.2 s after the stream closed and did not stop when cancelled" in warning
