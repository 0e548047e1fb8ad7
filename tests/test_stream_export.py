"""Media stream handlers in the exported Function: ``setup(runtime)`` registers each path with ``onWebSocket``,
and the local runtime serves them over real WebSockets (the ``ws`` package) with real Node and Pyodide.
The client speaks the platform's side of the protocol (reference sinch-voice-v2.md §8): TEXT connect,
then BINARY PCM frames."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from sinch_nb.deployment.parity import LOCAL_RUNTIME

CONNECT = {
    "command": "connect",
    "version": 1,
    "callId": "call-1",
    "applicationKey": "app-1",
    "codec": "PCM",
    "sampleRate": 8000,
    "callHeaders": {"caller": "test"},
}


def define_handlers(sn: Any) -> None:
    @sn.stream("/echo")
    async def echo(context: Any, stream: Any) -> None:
        await stream.answer()
        async for frame in stream.audio():
            await stream.send(frame)

    @sn.stream("/three")
    async def three(context: Any, stream: Any) -> None:
        await stream.answer()
        frames = []
        async for frame in stream.audio():
            frames.append(frame)
            if len(frames) == 3:
                break
        context.log.info(f"{stream.call_id} at {stream.sample_rate} Hz sent {len(frames)} frames")
        await stream.send(b"".join(reversed(frames)))


@pytest.fixture
def served(sn: Any, tmp_path: Path, pyodide: Path) -> Iterator[int]:
    """The exported project under Node, its WebSocket port."""
    define_handlers(sn)
    project = sn.export(tmp_path / "build", "streams")
    assert project.exports["setup"] == ["stream /echo", "stream /three"]
    modules = project.path / "node_modules"
    modules.mkdir()
    for package in ("pyodide", "ws"):
        (modules / package).symlink_to(pyodide / package, target_is_directory=True)
    node = subprocess.Popen(
        ["node", str(LOCAL_RUNTIME), str(project.path)],
        env={**os.environ, "SINCH_NB_WS_PORT": "0", "SINCH_NB_FUNCTION_ENV": "{}"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([node.stdout], [], [], 60)
        assert ready, "the local runtime did not start listening"
        assert node.stdout is not None
        line = node.stdout.readline()
        assert line, node.stderr.read() if node.stderr else ""
        listening = json.loads(line)
        assert sorted(listening["paths"]) == ["/echo", "/three"]
        yield int(listening["listening"])
    finally:
        node.terminate()
        node.wait(10)


def frame(n: int) -> bytes:
    return bytes([n % 256, n // 256]) * 160  # 320 bytes: 20 ms at 8 kHz, each frame different


async def echo_call(port: int, count: int) -> tuple[Any, list[bytes]]:
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as ws:
        await ws.send(json.dumps(CONNECT))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 120))  # the first stream starts Pyodide
        echoed = []
        for n in range(count):
            await ws.send(frame(n))
        for _ in range(count):
            echoed.append(await asyncio.wait_for(ws.recv(), 30))
    return answer, echoed


def test_an_exported_echo_handler_answers_and_echoes_the_frames_in_order(served: int) -> None:
    answer, echoed = asyncio.run(echo_call(served, 50))

    assert answer == {"command": "answer"}
    assert echoed == [frame(n) for n in range(50)]
    # a second call on the same Function instance: Python is warm, the stream is its own
    answer, echoed = asyncio.run(echo_call(served, 5))
    assert answer == {"command": "answer"} and echoed == [frame(n) for n in range(5)]


def test_a_handler_that_returns_closes_the_stream_1000_after_what_it_sent(served: int) -> None:
    async def call() -> tuple[bytes, int | None, str | None]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/three") as ws:
            await ws.send(json.dumps(CONNECT))
            assert json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"command": "answer"}
            for n in range(3):
                await ws.send(frame(n))
            sent = await asyncio.wait_for(ws.recv(), 30)
            await asyncio.wait_for(ws.wait_closed(), 30)
            return sent, ws.close_code, ws.close_reason

    sent, code, reason = asyncio.run(call())
    assert sent == frame(2) + frame(1) + frame(0)
    assert (code, reason) == (1000, "the handler returned")


def test_a_stream_whose_first_message_is_not_connect_is_closed_1008(served: int) -> None:
    async def call() -> tuple[int | None, str | None]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/echo") as ws:
            await ws.send(frame(0))
            await asyncio.wait_for(ws.wait_closed(), 120)
            return ws.close_code, ws.close_reason

    code, reason = asyncio.run(call())
    assert code == 1008
    assert reason is not None and reason.startswith("bad connect message: the first message must be the TEXT connect")
