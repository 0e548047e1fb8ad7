"""Media stream handlers in the exported Function: ``setup(runtime)`` registers each path with ``onWebSocket``,
and the local runtime serves them over real WebSockets (the ``ws`` package) with real Node and Pyodide.
The client speaks the platform's side of the protocol (reference sinch-voice-v2.md §8): TEXT connect,
then BINARY PCM frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from sinch_nb.deployment.parity import LOCAL_RUNTIME

SUMMARY = "sinch_nb stream summary "

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
        calls = context.cache.get("three", 0) + 1  # the Function's cache, through a host call from the stream
        context.cache.set("three", calls)
        context.log.info(f"{stream.call_id} at {stream.sample_rate} Hz sent {len(frames)} frames (call {calls})")
        await stream.send(b"".join(reversed(frames)))

    @sn.stream("/digits")
    async def digits(context: Any, stream: Any) -> None:
        await stream.answer()
        if await stream.dtmf(timeout=30) == "5":
            await stream.hangup()

    @sn.stream("/slow")
    async def slow(context: Any, stream: Any) -> None:
        import time

        await stream.answer()
        time.sleep(0.3)  # holds the worker's one loop: every stream and callback waits
        await stream.hangup()


class Served:
    def __init__(self, port: int, node: subprocess.Popen[str]) -> None:
        self.port, self.node = port, node
        self.text = ""  # what the runtime wrote to stderr so far

    def __index__(self) -> int:
        return self.port

    def __format__(self, spec: str) -> str:
        return format(self.port, spec)

    def lines(self, count: int, summaries: bool = False) -> list[list[str]]:
        """The first ``count`` lines logged (the local runtime writes them to stderr as they come): the handlers'
        and the runtime's, or (``summaries``) the streams' summary lines."""
        assert self.node.stderr is not None
        fd = self.node.stderr.fileno()  # read the fd itself: a buffered readline would hide lines from select
        deadline = time.monotonic() + 30
        while len(found := _log_lines(self.text, summaries)) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            self.text += os.read(fd, 65536).decode() if ready else ""
        return found[:count]

    def logs(self, count: int) -> list[list[str]]:
        """The first ``count`` lines the handlers (and the runtime, for them) logged, summaries left out."""
        return self.lines(count)

    def summaries(self, count: int) -> list[dict[str, Any]]:
        """The first ``count`` streams' summary lines, parsed."""
        lines = self.lines(count, summaries=True)
        assert all(level == "info" for level, _ in lines)
        return [json.loads(message.removeprefix(SUMMARY)) for _, message in lines]


def _log_lines(text: str, summaries: bool) -> list[list[str]]:
    """The whole log lines in what stderr gave so far: the summary lines, or the others."""
    lines = text.splitlines(keepends=True)
    logged = [json.loads(line)["log"] for line in lines if line.startswith('{"log"') and line.endswith("\n")]
    return [line for line in logged if line[1].startswith(SUMMARY) == summaries]


@pytest.fixture
def served(sn: Any, tmp_path: Path, pyodide: Path) -> Iterator[Served]:
    """The exported project under Node serving its WebSockets."""
    define_handlers(sn)
    project = sn.export(tmp_path / "build", "streams")
    assert sorted(project.exports["setup"]) == ["stream /digits", "stream /echo", "stream /slow", "stream /three"]
    assert "| `stream /echo` | `setup: onWebSocket('/echo')` |" in (project.path / "README.md").read_text()
    assert "export function setup(runtime)" in (project.path / "function.js").read_text()
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
        assert sorted(listening["paths"]) == ["/digits", "/echo", "/slow", "/three"]
        yield Served(int(listening["listening"]), node)
    finally:
        if node.poll() is None:
            node.terminate()
            node.wait(10)


def frame(n: int) -> bytes:
    return bytes([n % 256, n // 256]) * 160  # 320 bytes: 20 ms at 8 kHz, each frame different


async def echo_call(port: int, count: int, first: int = 0) -> tuple[Any, list[bytes]]:
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as ws:
        await ws.send(json.dumps(CONNECT))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 120))  # the first stream starts Pyodide
        echoed = []
        for n in range(first, first + count):
            await ws.send(frame(n))
            await asyncio.sleep(0)
        for _ in range(count):
            echoed.append(await asyncio.wait_for(ws.recv(), 30))
    return answer, echoed


def test_an_exported_echo_handler_answers_and_echoes_the_frames_in_order(served: Served) -> None:
    answer, echoed = asyncio.run(echo_call(served, 50))

    assert answer == {"command": "answer"}
    assert echoed == [frame(n) for n in range(50)]
    # a second call on the same Function instance: Python is warm, the stream is its own
    answer, echoed = asyncio.run(echo_call(served, 5))
    assert answer == {"command": "answer"} and echoed == [frame(n) for n in range(5)]


def test_streams_open_at_once_each_get_their_own_frames(served: Served) -> None:
    async def calls() -> list[tuple[Any, list[bytes]]]:
        return await asyncio.gather(*(echo_call(served.port, 30, first=1000 * k) for k in range(4)))

    for k, (answer, echoed) in enumerate(asyncio.run(calls())):
        assert answer == {"command": "answer"}
        assert echoed == [frame(1000 * k + n) for n in range(30)]


def test_dtmf_reaches_the_handler_and_its_hangup_closes_the_stream(served: Served) -> None:
    async def call() -> tuple[int | None, str | None]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/digits") as ws:
            await ws.send(json.dumps(CONNECT))
            assert json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"command": "answer"}
            await ws.send(json.dumps({"command": "dtmf", "digit": "5"}))
            await asyncio.wait_for(ws.wait_closed(), 30)
            return ws.close_code, ws.close_reason

    assert asyncio.run(call()) == (1000, "hangup by the handler")


def test_a_handler_that_returns_closes_the_stream_1000_after_what_it_sent(served: Served) -> None:
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
    sent, code, reason = asyncio.run(call())
    assert (code, reason) == (1000, "the handler returned")
    assert served.logs(2) == [
        ["info", "call-1 at 8000 Hz sent 3 frames (call 1)"],
        ["info", "call-1 at 8000 Hz sent 3 frames (call 2)"],  # the second stream read what the first stored
    ]


def test_a_stream_whose_first_message_is_not_connect_is_closed_1008(served: Served) -> None:
    async def call() -> tuple[int | None, str | None]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/echo") as ws:
            await ws.send(frame(0))
            await asyncio.wait_for(ws.wait_closed(), 120)
            return ws.close_code, ws.close_reason

    code, reason = asyncio.run(call())
    assert code == 1008
    assert reason is not None and reason.startswith("bad connect message: the first message must be the TEXT connect")


def test_each_stream_ends_with_one_summary_line_in_the_functions_log(served: Served) -> None:
    asyncio.run(echo_call(served, 7))

    (summary,) = served.summaries(1)
    assert summary["path"] == "/echo" and summary["call_id"] == "call-1"
    assert (summary["frames_in"], summary["bytes_in"]) == (7, 7 * 320)
    assert (summary["frames_out"], summary["bytes_out"]) == (7, 7 * 320)
    assert summary["sent"] == {"answer": 1} and summary["received"] == {}
    assert (summary["close_code"], summary["close_reason"], summary["closed_by"]) == (1000, "", "platform")
    assert 0 < summary["duration_s"] < 30 and summary["answer_ms"] > 0 and summary["held_loop_s"] == []


def test_binary_frames_of_any_size_cross_both_ways_byte_exact(served: Served) -> None:
    sizes = [2, 320, 640, 4000, 65536, 320 * 50]
    frames = [bytes((n * 7 + i) % 256 for i in range(size)) for n, size in enumerate(sizes)]

    async def call() -> list[bytes]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/echo", max_size=None) as ws:
            await ws.send(json.dumps(CONNECT))
            assert json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"command": "answer"}
            for data in frames:
                await ws.send(data)
            return [await asyncio.wait_for(ws.recv(), 30) for _ in frames]

    assert asyncio.run(call()) == frames
    (summary,) = served.summaries(1)
    assert summary["bytes_in"] == summary["bytes_out"] == sum(sizes)


def test_one_stream_more_than_max_streams_at_once_is_closed_1013_with_the_notebooks_reason(served: Served) -> None:
    from sinch_nb.functions.stream import MAX_STREAMS
    from sinch_nb.runtime import streams

    assert streams.MAX_STREAMS is MAX_STREAMS == 64  # one limit for the notebook and the Function

    async def calls() -> tuple[int | None, str | None, Any]:
        sockets = [await websockets.connect(f"ws://127.0.0.1:{served}/echo") for _ in range(MAX_STREAMS)]
        try:
            for ws in sockets:
                await ws.send(json.dumps(CONNECT))
            for ws in sockets:
                assert json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"command": "answer"}
            async with websockets.connect(f"ws://127.0.0.1:{served}/echo") as extra:
                with contextlib.suppress(websockets.ConnectionClosed):  # refused at once, as in the notebook
                    await extra.send(json.dumps(CONNECT))
                await asyncio.wait_for(extra.wait_closed(), 30)
            await sockets.pop().close()  # one ends (its handler too: its summary is logged), and the next is served
            await asyncio.to_thread(served.summaries, 2)
            answer, _ = await echo_call(served.port, 1)
            return extra.close_code, extra.close_reason, answer
        finally:
            for ws in sockets:
                await ws.close()

    code, reason, answer = asyncio.run(calls())
    assert (code, reason) == (1013, "64 streams are open already: try again when one ends")
    assert answer == {"command": "answer"}
    refused = [summary for summary in served.summaries(MAX_STREAMS + 2) if summary["close_code"] == 1013]
    assert refused == [refused[0]] and refused[0]["closed_by"] == "runtime" and refused[0]["call_id"] is None
    assert ["error", "64 streams are open already: try again when one ends"] in served.logs(1)


def test_a_handler_that_holds_the_loop_is_named_in_the_functions_log_with_the_fix(served: Served) -> None:
    async def call() -> tuple[int | None, str | None]:
        async with websockets.connect(f"ws://127.0.0.1:{served}/slow") as ws:
            await ws.send(json.dumps(CONNECT))
            assert json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"command": "answer"}
            await asyncio.wait_for(ws.wait_closed(), 30)
            return ws.close_code, ws.close_reason

    assert asyncio.run(call()) == (1000, "hangup by the handler")
    ((level, warning),) = served.logs(1)
    assert level == "warning"
    assert warning.startswith("the stream /slow handler ran without awaiting for more than 0.2 s (once, for 0.3")
    assert "every stream and callback of the Function waited meanwhile" in warning
    assert "await asyncio.sleep() instead of time.sleep()" in warning
    (summary,) = served.summaries(1)
    assert summary["closed_by"] == "handler" and summary["held_loop_s"][0] >= 0.3


# The worker's side in CPython (no Node): what the session posts back for the cases above and the failures.


def bridge_posts(handler_source: str, messages: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Drive ``Bridge``'s stream methods as function.js's worker does; what ``post`` got, decoded."""
    from conftest import MemoryHost

    from sinch_nb.functions.bridge import Bridge

    handlers = [{"key": "stream /s", "kind": "stream", "cell": True, "source": handler_source, "origin": "cell [1]"}]
    sources = json.dumps({"modules": [], "handlers": handlers, "fallback": None})
    posts: list[dict[str, Any]] = []

    async def run() -> None:
        bridge = Bridge.from_json(sources, MemoryHost())
        bridge.stream_open("s1", json.dumps({"key": "stream /s"}), lambda out: posts.append(json.loads(out)))
        for kind, value in messages:
            getattr(bridge, f"stream_{kind}")("s1", *value)
            await asyncio.sleep(0.01)
        for _ in range(100):
            if posts and posts[-1].get("done"):
                return
            await asyncio.sleep(0.01)

    asyncio.run(run())
    return posts


def test_a_handler_that_raises_closes_its_stream_1011_and_reports_the_traceback() -> None:
    posts = bridge_posts("await stream.answer()\nraise ValueError('no model')", [("text", (json.dumps(CONNECT),))])
    assert posts[0] == {"text": json.dumps({"command": "answer"})}
    assert posts[1] == {"close": [1011, "the stream /s handler raised ValueError: no model"]}
    assert posts[2]["done"] and "Traceback" in posts[2]["error"] and "no model" in posts[2]["error"]


def test_a_handler_that_returns_without_answering_closes_1011_naming_the_fix() -> None:
    posts = bridge_posts("return None", [("text", (json.dumps(CONNECT),))])
    assert posts[0]["close"][0] == 1011 and "await stream.answer() first" in posts[0]["close"][1]
    assert posts[1]["done"]


def test_the_platform_closing_ends_audio_and_the_handler_finishes() -> None:
    source = "await stream.answer()\nasync for f in stream.audio():\n    await stream.send(f)\n"
    source += "context.log.info('ended')"
    posts = bridge_posts(
        source, [("text", (json.dumps(CONNECT),)), ("bytes", ("AAA=",)), ("closed", (1000, "caller hung up"))]
    )
    assert [next(iter(p)) for p in posts] == ["text", "bytes", "done"]  # no close: the platform closed it
    assert posts[-1]["error"] is None and posts[-1]["logs"][0]["message"] == "ended"


def test_a_platform_close_before_connect_is_reported() -> None:
    posts = bridge_posts("await stream.answer()", [("closed", (1001, ""))])
    (done,) = posts
    assert done["error"] == "the platform closed the stream before its connect message" and done["logs"] == []
    summary = json.loads(done["summary"].removeprefix(SUMMARY))
    assert (summary["close_code"], summary["closed_by"], summary["call_id"]) == (1001, "platform", None)


def test_the_summary_counts_controls_digits_and_a_runtime_close() -> None:
    source = "await stream.answer()\nawait stream.clear()\nawait stream.dtmf(timeout=5)\nraise ValueError('no model')"
    messages = [("text", (json.dumps(CONNECT),)), ("text", (json.dumps({"command": "dtmf", "digit": "7"}),))]
    done = bridge_posts(source, messages)[-1]
    summary = json.loads(done["summary"].removeprefix(SUMMARY))
    assert summary["sent"] == {"answer": 1, "clear": 1} and summary["received"] == {"dtmf": 1}
    assert summary["digits"] == "7" and summary["call_id"] == "call-1" and summary["path"] == "/s"
    assert (summary["close_code"], summary["closed_by"]) == (1011, "runtime")
    assert summary["close_reason"] == "the stream /s handler raised ValueError: no model"


def test_a_handler_holding_the_loop_logs_the_shared_warning_in_the_bridge() -> None:
    from sinch_nb.functions.step_timer import held_warning

    source = "await stream.answer()\nimport time\ntime.sleep(0.25)\nawait stream.hangup()"
    done = bridge_posts(source, [("text", (json.dumps(CONNECT),))])[-1]
    (record,) = done["logs"]
    held = json.loads(done["summary"].removeprefix(SUMMARY))["held_loop_s"]
    assert record["level"] == "warning" and len(held) == 1 and held[0] >= 0.25
    assert record["message"].startswith("the stream /s handler ran without awaiting for more than 0.2 s (once, for 0.2")
    assert record["message"].split(")", 1)[1] == held_warning("x", [1.0], deployed=True).split(")", 1)[1]


def test_a_handler_that_does_not_answer_within_handler_timeout_is_closed_1011() -> None:
    from conftest import MemoryHost

    from sinch_nb.functions.bridge import Bridge

    handlers = [
        {"key": "stream /s", "kind": "stream", "cell": True, "source": "await asyncio.sleep(60)", "origin": "cell [1]"}
    ]
    sources = json.dumps({"modules": ["import asyncio"], "handlers": handlers, "fallback": None})
    posts: list[dict[str, Any]] = []

    async def run() -> None:
        bridge = Bridge.from_json(sources, MemoryHost())
        request = json.dumps({"key": "stream /s", "handler_timeout": 0.1})
        bridge.stream_open("s1", request, lambda out: posts.append(json.loads(out)))
        bridge.stream_text("s1", json.dumps(CONNECT))
        for _ in range(100):
            if posts and posts[-1].get("done"):
                return
            await asyncio.sleep(0.02)

    asyncio.run(run())
    assert posts[0]["close"][0] == 1011 and posts[0]["close"][1].startswith("the stream /s handler did not answer")
    assert posts[1]["done"] and "did not answer within 0.1 s" in posts[1]["error"]
