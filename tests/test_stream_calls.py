"""The issue's loop end to end: a stream handler in the runtime, the simulated caller speaking into it (espeak-ng),
the call heard, plotted and journaled; sn.dial following an ICE's connectStream into the same handler."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path
from typing import Any

import pytest
from conftest import stream_rows

from sinch_nb import get_session

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="apt-get install espeak-ng (./dev does)")


def echo_handler(sn: Any) -> None:
    """The issue's first example: answer, then send every frame back."""

    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()
        async for frame in stream.audio():
            await stream.send(frame)


def voiced(pcm: bytes) -> int:
    """How many 20 ms frames at 16 kHz carry sound (mean absolute sample above 200)."""
    samples = memoryview(pcm).cast("h")
    frame = 320
    return sum(
        1
        for start in range(0, len(samples) - frame + 1, frame)
        if sum(abs(s) for s in samples[start : start + frame]) / frame > 200
    )


def test_the_simulated_caller_speaks_into_the_echo_handler_and_hears_itself(sn: Any) -> None:
    echo_handler(sn)
    sn.start()

    call = sn.stream_call("/echo", say="I would like a pizza", sample_rate=16000)

    assert call.outcome == "answered", call.transcript
    caller, app = call.transcript.caller_track, call.transcript.app_track
    assert voiced(caller) > 20  # espeak-ng said something, about a second of it
    assert abs(voiced(app) - voiced(caller)) <= 3  # the echo: what was said came back
    (row,) = stream_rows()
    assert (row["simulated"], row["outcome"], row["path"]) == (1, "ok", "/echo"), row["error"]
    stream = json.loads(row["stream"])
    assert stream["frames_in"] > 50 and stream["bytes_in"] == len(caller)  # every frame the caller sent
    # and echoed, all but the last frame or two, in flight when the caller hung up (then dropped or never sent)
    echoed = stream["bytes_out"] + stream["dropped_out"] * 640
    assert stream["bytes_in"] - 2 * 640 <= echoed <= stream["bytes_in"]
    with wave.open(str(Path(stream["audio_in"]))) as recorded:
        assert recorded.getframerate() == 16000 and recorded.getnframes() * 2 == stream["bytes_in"]
    players = call.audio()
    assert len(players) == 2
    figure = call.plot()
    assert len(figure.axes) == 2


def test_sn_dial_follows_the_ices_connect_stream_into_the_stream_handler(sn: Any) -> None:
    echo_handler(sn)
    server = sn.start()
    url = sn.ws_url("/echo")
    assert url == f"ws://127.0.0.1:{server.port}/echo"
    answer = sn.svaml.ice().connect_stream(url, sample_rate=16000)
    get_session().registry.register("ice", lambda context, event: answer, "cell [2]")

    call = sn.dial("+15551234567", "+15559876543", say="Hello")

    assert call.stream.outcome == "answered"
    assert voiced(call.stream.transcript.app_track) > 5  # the handler's echo reached the caller
    assert call["text"].iloc[-1].startswith("CALLERHANGUP, ANSWERED")  # the stream's end ends the call (S17)
    (row,) = stream_rows()
    assert row["call_id"] == call.call_id  # the connect message carried the call's id (S16)
    kinds = [row["kind"] for row in get_session().journal.rows("", ())]
    assert kinds[0] == "ice" and kinds[-1] == "dice" and "stream" in kinds


def test_keys_the_caller_presses_reach_the_handlers_stream_dtmf_after_its_words(sn: Any) -> None:
    heard: list[str] = []

    @sn.stream("/keys")
    async def keys(context: Any, stream: Any) -> None:
        await stream.answer()
        while (digit := await stream.dtmf(timeout=10)) is not None:
            heard.append(digit)
            if digit == "#":
                break
        await stream.hangup()

    sn.start()

    call = sn.stream_call("/keys", say="My order number is", press="12#", sample_rate=8000)

    assert heard == ["1", "2", "#"]
    sent = [m for m in call.transcript.messages if m.kind == "dtmf"]
    assert [m.text for m in sent] == ["1", "2", "#"]
    assert sent[0].at > 0.5 and sent[1].at - sent[0].at == pytest.approx(0.1, abs=0.05)  # after the words, 100 ms apart
    assert call.transcript.ended_by == "app"  # the handler hung up after '#'
    (row,) = stream_rows()
    assert json.loads(row["stream"])["digits"] == "12#"
