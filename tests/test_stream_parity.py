"""sn.parity on media streams: each journaled stream replayed into the exported Function (real Node, Pyodide and
ws, as tests/test_stream_export.py runs them) as the platform would, and what its handler did compared with the
notebook's row: the reply, the control messages, the close, the audio sent."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import stream_rows

from sinch_nb.deployment import parity as parity_room
from sinch_nb.deployment.stream_parity import IN_FLIGHT_S, _audio_line, _schedule, plan_stream

#: One second of the caller's audio at 8 kHz, every frame different.
CALLER = bytes((n * 7 + n // 320) % 256 for n in range(16000))


@pytest.fixture
def node_modules(pyodide: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sn.parity finds this machine's Pyodide and ws where a user points SINCH_NB_NODE_MODULES."""
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(pyodide))
    return pyodide


def test_an_echo_stream_replayed_into_the_function_among_the_callbacks_is_alike(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    @sn.http("POST", "/name")
    def name(context: Any, request: Any) -> Any:
        context.cache.set("name", request.json()["name"])
        return {"stored": True}

    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()
        context.log.info(f"echo for {context.cache.get('name')}")  # what the callback before it stored
        async for frame in stream.audio():
            await stream.send(frame)

    server = sn.start(link=False)
    assert httpx.post(f"{server.url}/name", json={"name": "Ada"}).status_code == 200
    assert sn.stream_call("/echo", audio=CALLER, sample_rate=8000, pause=0.3).outcome == "answered"
    (row,) = stream_rows()
    assert json.loads(row["stream"])["closed_by"] == "platform"

    started = time.monotonic()
    parity = sn.parity(sn.export(tmp_path / "build", "echo").path)

    assert time.monotonic() - started > 1.2  # replayed in real time: 1.3 s of the caller's audio
    assert parity.same, repr(parity)
    assert [r["kind"] for r in parity.rows] == ["http", "stream"]  # in arrival order, one Function instance
    (replayed,) = [r for r in parity.rows if r["kind"] == "stream"]
    assert replayed["id"] == row["id"] and replayed["diff"] == []
    assert replayed["function"]["reply"] == "answer" and replayed["function"]["closed_by"] == "platform"
    assert replayed["function"]["audio_out"] == f"{json.loads(row['stream'])['bytes_out']} bytes"
    assert replayed["logs"] == [["info", "echo for Ada"]]  # the Function's cache held what its callback stored
    assert parity.by_kind().loc["stream", ["compared", "same", "differ"]].tolist() == [1, 1, 0]
    assert "stream" in repr(parity) and "<td>stream</td>" in parity._repr_html_()


def test_parity_names_what_a_changed_stream_handler_does_differently(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    @sn.stream("/say")
    async def say(context: Any, stream: Any) -> None:
        await stream.answer()
        await stream.clear()
        await stream.clear()
        async for frame in stream.audio():
            await stream.send(frame)

    sn.start(link=False)
    sn.stream_call("/say", audio=CALLER, sample_rate=8000, pause=0.3)
    (row,) = stream_rows()
    notebook_out = json.loads(row["stream"])["bytes_out"]

    @sn.stream("/say")  # edited after the call: the Function runs this one, the journal has the first
    async def say_edited(context: Any, stream: Any) -> None:
        await stream.answer()
        await stream.clear()
        count = 0
        async for frame in stream.audio():
            await stream.send(frame)
            count += 1
            if count == 25:
                raise RuntimeError("the model is down")

    parity = sn.parity(sn.export(tmp_path / "build", "edited").path)

    assert not parity.same and "1 DIFFERENT" in parity.summary()
    (replayed,) = parity.rows
    assert replayed["diff"] == [
        "sent.clear: 2 → 1",
        "close_code: 1000 → 1011",
        'closed_by: "platform" → "runtime"',
        f"audio_out: {notebook_out} bytes → 8000 bytes (alike for the first 8000 bytes, "
        f"{(notebook_out - 8000) / 16000:.2f} s of audio more on one side)",
        'close_reason: "the caller hung up" → "the stream /say handler raised RuntimeError: the model is down"',
    ]
    assert parity.by_kind().loc["stream", "differing"] == [row["id"]]
    shown = repr(parity)
    assert f"#{row['id']} stream, call {row['call_id']} (notebook → Function):" in shown
    assert "    sent.clear: 2 → 1" in shown


def test_a_digit_reaches_the_functions_handler_at_its_time_into_the_stream(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    @sn.stream("/keys")
    async def keys(context: Any, stream: Any) -> None:
        import asyncio

        await stream.answer()
        loop = asyncio.get_running_loop()
        start = loop.time()
        digit = await stream.dtmf(timeout=10)
        context.log.info(f"{digit} after {loop.time() - start:.3f} s")
        await stream.send(bytes([ord(digit or "x")]) * 320)  # what the caller hears depends on the digit
        async for _ in stream.audio():  # on until the caller hangs up, a second after the digit
            pass

    sn.start(link=False)
    # one second of audio, a second of silence, then 5; the audio goes on for a while after it
    sn.stream_call("/keys", audio=CALLER, sample_rate=8000, pause=1.0, press="5")
    (row,) = stream_rows()
    stream = json.loads(row["stream"])
    (at, digit), *_ = stream["digits_at"]
    assert digit == "5" and at == pytest.approx(2.0, abs=0.1) and stream["duration_s"] > 3.0

    parity = sn.parity(sn.export(tmp_path / "build", "keys").path)

    assert parity.same, repr(parity)
    (replayed,) = parity.rows
    (line,) = [message for level, message in replayed["logs"]]
    heard = float(re.fullmatch(r"5 after ([0-9.]+) s", line)[1])  # type: ignore[index]
    (noted,) = row_logs(row)
    assert heard == pytest.approx(float(re.fullmatch(r"5 after ([0-9.]+) s", noted)[1]), abs=0.1)  # type: ignore[index]
    assert replayed["function"] == {
        "reply": "answer",
        "sent": {"answer": 1},
        "close_code": 1000,
        "closed_by": "platform",
        "audio_out": "320 bytes",
    }


def row_logs(row: dict[str, Any]) -> list[str]:
    """The messages a journal row's handler logged."""
    return [entry["message"] for entry in json.loads(row["logs"] or "[]")]


def test_a_stream_whose_recording_is_gone_is_reported_as_not_comparable(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()
        async for frame in stream.audio():
            await stream.send(frame)

    sn.start(link=False)
    sn.stream_call("/echo", audio=CALLER[:3200], sample_rate=8000, pause=0.1)
    (row,) = stream_rows()
    recording = Path(json.loads(row["stream"])["audio_in"])
    recording.unlink()

    parity = sn.parity(sn.export(tmp_path / "build", "gone").path)

    (replayed,) = parity.rows
    assert replayed["comparable"] is False and replayed["same"] is False
    assert replayed["diff"] == [
        f"not comparable: the caller's audio {recording} is gone (deleted?): the stream cannot be replayed without it"
    ]
    assert "(1 not comparable)" in parity.summary()


def test_parity_names_npm_install_ws_when_the_ws_package_is_missing(
    sn: Any, tmp_path: Path, pyodide: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()

    sn.start(link=False)
    sn.stream_call("/echo", audio=CALLER[:640], sample_rate=8000, pause=0.1)
    stream_rows()
    modules = tmp_path / "only-pyodide" / "node_modules"
    modules.mkdir(parents=True)
    (modules / "pyodide").symlink_to(pyodide / "pyodide", target_is_directory=True)
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(modules))
    monkeypatch.setattr(parity_room, "USER_NODE_CACHE", tmp_path / "empty-cache")

    missing = r"ws package.*npm install --prefix .*only-pyodide.* ws"
    with pytest.raises(parity_room.ParityUnavailableError, match=missing):
        sn.parity(sn.export(tmp_path / "build", "no-ws").path)


# The comparison and the plan, without Node.


def test_outbound_audio_must_match_byte_for_byte_but_a_tail_in_flight_at_the_platforms_hang_up() -> None:
    audio = bytes(range(256)) * 50  # 12800 bytes: 0.8 s at 8 kHz
    in_flight = int(IN_FLIGHT_S * 16000)
    assert _audio_line(audio, audio, 8000, platform_closed=False) is None
    assert _audio_line(audio, audio[:-in_flight], 8000, platform_closed=True) is None
    assert _audio_line(audio, audio[:-in_flight], 8000, platform_closed=False) == (
        f"audio_out: 12800 bytes → {12800 - in_flight} bytes "
        f"(alike for the first {12800 - in_flight} bytes, {IN_FLIGHT_S:.2f} s of audio more on one side)"
    )
    assert _audio_line(audio, audio[: -in_flight - 2], 8000, platform_closed=True) is not None
    changed = audio[:3200] + bytes(1) + audio[3201:]
    assert _audio_line(audio, changed, 8000, platform_closed=True) == (
        "audio_out: 12800 bytes → 12800 bytes (first different byte at 3200, 0.200 s into the audio)"
    )


def test_digits_go_at_their_offset_after_the_answer_or_after_the_audio_for_older_rows(tmp_path: Path) -> None:
    from sinch_nb.runtime.stream_audio import Recording

    recording = Recording(tmp_path, "7", 8000)
    for n in range(5):
        recording.received(0.02 * n, bytes([n]) * 320)
    recording.sent(0.0, bytes(320))
    recording.close(0.1)
    summary = {
        "frames_in": 5,
        "bytes_in": 1600,
        "sample_rate": 8000,
        "answer_ms": 10.0,
        "digits": "12",
        "digits_at": [[0.055, "1"], [0.2, "2"]],
        "closed_by": "platform",
        "close_code": 1000,
        "close_reason": "the caller hung up",
        **{f"audio_{way}": str(path) for way, path in recording.paths.items()},
    }
    row = {"path": "/k", "request_body": "{}", "response_body": '{"command": "answer"}', "stream": json.dumps(summary)}

    plan = plan_stream(row)

    assert plan.frame_s == 0.02 and plan.platform_close == (1000, "the caller hung up")
    dtmf = [json.dumps({"command": "dtmf", "digit": d}) for d in "12"]
    frames = [bytes([n]) * 320 for n in range(5)]
    assert [message for _, message in _schedule(plan)] == [*frames[:3], dtmf[0], *frames[3:], dtmf[1]]
    del summary["digits_at"]  # a row from before digits_at: its digits after the audio
    older = _schedule(plan_stream({**row, "stream": json.dumps(summary)}))
    assert [message for _, message in older] == [*frames, *dtmf] and older[-1][0] == pytest.approx(0.1)
