"""Media stream frame round trip through the exported Function: Node's ``local_runtime.mjs`` serving
``setup(runtime)``'s ``onWebSocket`` path, the handler in Pyodide on the worker thread.

The client (another process, ``websockets``) sends ``connect``, waits for ``answer``, then one frame at a
time waiting for its echo (``ping-pong``) and paced every 20 ms as Sinch sends audio (``paced``), at 8 kHz
(320 B frames) and 16 kHz (640 B). ``SINCH_NB_ROOT`` picks the sinch_nb tree that exports the project
(default: this one), to compare two versions of ``function.js`` / ``stream_session.py`` on one machine:

    python benchmarks/bench_function_stream.py                       # this tree
    SINCH_NB_ROOT=/path/to/other/checkout python benchmarks/bench_function_stream.py

Pyodide and ``ws`` come from ``SINCH_NB_NODE_MODULES`` (default ``tests/.cache/node/node_modules``).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _common import echo_stream as echo
from _common import percentile

HERE = Path(__file__).resolve().parents[1]
ROOT = Path(os.environ.get("SINCH_NB_ROOT", HERE))
sys.path.insert(0, str(ROOT))  # after _common's own: SINCH_NB_ROOT's sinch_nb is the one measured

import sinch_nb  # noqa: E402
from sinch_nb.deployment.parity import LOCAL_RUNTIME  # noqa: E402

MODULES = Path(os.environ.get("SINCH_NB_NODE_MODULES", HERE / "tests" / ".cache" / "node" / "node_modules"))

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from websockets.asyncio.client import connect

    CONNECT = {"command": "connect", "version": 1, "callId": "bench", "applicationKey": "k",
               "codec": "PCM", "sampleRate": 8000, "callHeaders": {}}

    async def run(url, count, pace, size):
        times = []
        async with connect(url, compression=None) as ws:
            await ws.send(json.dumps(CONNECT))
            await ws.recv()
            for n in range(count):
                frame = bytes([n % 256, 3]) * (size // 2)
                started = time.perf_counter()
                await ws.send(frame)
                assert await ws.recv() == frame
                times.append((time.perf_counter() - started) * 1000)
                if pace:
                    await asyncio.sleep(max(0.0, pace - (time.perf_counter() - started)))
        return times

    url, count, pace, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, count, pace, size))))
    """
)


def measure(url: str, count: int, pace: float, size: int) -> list[float]:
    output = subprocess.run(
        [sys.executable, "-c", CLIENT, url, str(count), str(pace), str(size)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times: list[float] = json.loads(output)
    return sorted(times[20:])  # the first frames warm up both sides


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    os.chdir(folder)
    sinch_nb.reset_session().configure(journal=folder / "journal.db", base_dir=folder)
    sinch_nb.stream("/echo")(echo)
    project = sinch_nb.export(folder / "build", "bench").path
    (project / "node_modules").mkdir()
    for package in ("pyodide", "ws"):
        (project / "node_modules" / package).symlink_to(MODULES / package, target_is_directory=True)
    node = subprocess.Popen(
        ["node", str(LOCAL_RUNTIME), str(project)],
        env={**os.environ, "SINCH_NB_WS_PORT": "0", "SINCH_NB_FUNCTION_ENV": "{}"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([node.stdout], [], [], 60)
        if not ready or node.stdout is None:
            raise SystemExit("the local runtime did not start")
        url = f"ws://127.0.0.1:{json.loads(node.stdout.readline())['listening']}/echo"
        measure(url, 40, 0.0, 320)  # Pyodide starts on the first stream
        print(f"Function stream echo through local_runtime.mjs, sinch_nb from {ROOT}")
        print(f"{'mode':<10} {'frame B':>7} {'frames':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for mode, count, pace in (("ping-pong", 2000, 0.0), ("paced", 400, 0.02)):
            for size in (320, 640):
                times = measure(url, count, pace, size)
                p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
                print(f"{mode:<10} {size:>7} {len(times):>6} {p50:>8.3f} {p99:>8.3f} {times[-1]:>8.3f}")
    finally:
        node.terminate()
        node.wait(10)
        sinch_nb.reset_session()


if __name__ == "__main__":
    main()
