"""Media stream frame round trip: sinch_nb's runtime against a bare Starlette WebSocket echo.

Target (issue 12): p99 <= 5 ms on loopback. Both servers run the same way (uvicorn in a daemon
thread of this process, ``runtime.server.Server``); the client is another process, written with
``websockets``: it sends ``connect``, waits for ``answer`` (sinch_nb only), then sends a 20 ms
frame of 8 kHz PCM and waits for its echo, one at a time (``ping-pong``) and paced every 20 ms
as Sinch sends audio (``paced``). sinch_nb runs the handler on its own thread's loop and
records both directions to WAV files and the journal; the bare app echoes on the server loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import echo_stream as echo  # noqa: E402
from _common import percentile  # noqa: E402

from sinch_nb.runtime.server import Server  # noqa: E402
from sinch_nb.runtime.session import Session  # noqa: E402

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from websockets.asyncio.client import connect

    CONNECT = {"command": "connect", "version": 1, "callId": "bench", "applicationKey": "k",
               "codec": "PCM", "sampleRate": 8000, "callHeaders": {}}

    async def run(url, answer, count, pace):
        times = []
        async with connect(url, compression=None) as ws:
            await ws.send(json.dumps(CONNECT))
            if answer:
                await ws.recv()
            for n in range(count):
                frame = bytes([n % 256, 3]) * 160
                started = time.perf_counter()
                await ws.send(frame)
                assert await ws.recv() == frame
                times.append((time.perf_counter() - started) * 1000)
                if pace:
                    await asyncio.sleep(max(0.0, pace - (time.perf_counter() - started)))
        return times

    url, answer, count, pace = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, answer, count, pace))))
    """
)


def bare_echo() -> Any:
    """Starlette with one WebSocket route that echoes every frame on the server loop."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()  # connect
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await websocket.send_bytes(message["bytes"])

    return Starlette(routes=[WebSocketRoute("/echo", echo)])


def measure(url: str, answer: bool, count: int, pace: float) -> list[float]:
    output = subprocess.run(
        [sys.executable, "-c", CLIENT, url, "1" if answer else "0", str(count), str(pace)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times: list[float] = json.loads(output)
    return sorted(times[20:])  # the first frames warm up both sides


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    session = Session()
    session.configure(journal=folder / "journal.db", base_dir=folder)
    session.registry.register("stream", echo, "bench", key="stream /echo")
    ours = session.start()
    bare = Server(bare_echo())
    bare.start()
    try:
        print("frame round trip, 8 kHz 20 ms frames (320 B), client in another process")
        print(f"{'server':<10} {'mode':<10} {'frames':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for mode, count, pace in (("ping-pong", 2000, 0.0), ("paced", 400, 0.02)):
            for name, server, answer in (("bare", bare, False), ("sinch_nb", ours, True)):
                url = server.url.replace("http://", "ws://") + "/echo"
                times = measure(url, answer, count, pace)
                p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
                print(f"{name:<10} {mode:<10} {len(times):>6} {p50:>8.3f} {p99:>8.3f} {times[-1]:>8.3f}")
    finally:
        bare.stop()
        session.shutdown()


if __name__ == "__main__":
    main()
