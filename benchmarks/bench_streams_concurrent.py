"""Eight concurrent 16 kHz media streams in real time while a cell computes.

Target (issue 12): 8 concurrent 16 kHz streams without underrun while a cell computes. The
runtime starts in this process as a kernel starts it (``sn.start()``: uvicorn in a daemon thread,
the switch interval shortened); its ``/talk`` handler answers, then sends 20 ms of a steady tone
(a square wave, never a zero sample) for every 20 ms frame it receives. Eight threads each run
``sn.stream_call`` (the simulated platform: its own event loop in its own thread, sending the
caller's frames on a monotonic schedule and playing the app's audio from its buffer each tick),
while the main thread computes like a cell:

- ``a pure-Python cell``: ``n += 1`` in a loop (the interpreter hands the GIL over every switch interval);
- ``a cell in C bursts``: ``sum(range(N))`` in a loop, each call holding the GIL for its whole length
  (about ``BURST_MS``, measured below), as numpy or a big ``sorted`` would.

Baselines in the same run: one stream with nothing computing, eight with nothing computing; the
cells' rows print ratios against the idle eight.

Measured from each call's transcript:

- underrun: a 20 ms tick, after the first tick that played the app's tone, at which the platform's
  playout buffer was empty: that tick's frame of ``app_track`` is all zero bytes (the tone has no
  zero sample and the handler sends whole frames, so a tick plays a whole tone frame or nothing);
- tick lateness: when the platform sent caller frame n against its schedule (frame 0's time + n x 20 ms);
- reply: when the app's n-th frame arrived at the platform after the platform sent frame n (one
  reply per frame); past about 20 ms it misses its tick and is an underrun, unless an earlier
  underrun has already put a frame of slack in the buffer (the simulated platform has no jitter buffer).

Each scenario runs twice: the platform in this process, as ``sn.stream_call`` runs in a notebook (a
busy cell slows both sides; tick lateness shows the platform's own share), then the same eight
streams from a child process running ``run_stream`` alone (``--platform URL COUNT``), as Sinch is
outside the kernel: there every underrun is the runtime's.

What is held to the target (0 underruns): the platform outside the kernel, as Sinch is, beside a
pure-Python cell. The other computing rows are reported (``info``), not held to it:

- the platform in this process: a late tick of the simulated caller (it computes beside the cell
  too) shortens the app's next reply window, and the platform has no jitter buffer (S9), so an
  underrun there can be the simulator's own;
- a cell in C bursts: every thread of the kernel waits for each burst, and every system call the
  runtime makes (recv, send, epoll) hands the GIL to the cell for a whole one (the convoy effect):
  the limit of serving in the kernel, shown so that it is known, not hidden.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import percentile, report  # puts the repository on sys.path

import sinch_nb as sn
from sinch_nb.simulate.stream_platform import run_stream

#: Set in the child process that runs the platform alone (``--platform URL COUNT``).
PLATFORM_URL = ""

RATE = 16000
FRAME_MS = 20
FRAME = RATE * FRAME_MS // 1000 * 2  # 640 bytes of s16le mono
STREAMS = 8
SECONDS = 6.0
BURST_MS = 10.0
#: 400 Hz square wave, +-6000: 20 samples up, 20 down, never zero (an empty tick is all zeros).
TONE = (b"\x70\x17" * 20 + b"\x90\xe8" * 20) * 8
assert len(TONE) == FRAME
#: The caller's voice: a quieter 250 Hz square wave for the whole call.
VOICE = (b"\xe8\x03" * 32 + b"\x18\xfc" * 32) * int(RATE * SECONDS / 64 + 1)


async def talk(context: Any, stream: Any) -> None:
    """Answer, then 20 ms of tone back for every 20 ms frame the caller sends."""
    await stream.answer()
    async for _ in stream.audio():
        await stream.send(TONE)


def measure(transcript: Any) -> dict[str, Any]:
    """Underruns, tick lateness and reply times (ms) of one stream's transcript."""
    track = bytes(transcript.app_track)
    frames = [track[i : i + FRAME] for i in range(0, len(track) - FRAME + 1, FRAME)]
    empty = bytes(FRAME)
    first = next((n for n, frame in enumerate(frames) if frame != empty), None)
    played = frames[first:] if first is not None else []
    sent = [m.at for m in transcript.messages if m.sender == "sinch" and m.kind == "audio"]
    arrived = [m.at for m in transcript.messages if m.sender == "app" and m.kind == "audio"]
    step = FRAME_MS / 1000
    origin = min((at - n * step for n, at in enumerate(sent)), default=0.0)  # never sent early: the schedule's 0
    return {
        "outcome": transcript.outcome,
        "ticks": len(played),
        "underruns": sum(1 for frame in played if frame == empty),
        "first_tick": first,
        "late": [(at - (origin + n * step)) * 1000 for n, at in enumerate(sent)],
        "reply": [(got - at) * 1000 for at, got in zip(sent, arrived, strict=False)],
    }


def run_streams(count: int, url: str | None = None) -> list[dict[str, Any]]:
    """``count`` stream calls at once, each in its own thread, as a notebook's threads would make them.

    With ``url`` (the runtime's ws:// URL) the platform runs in another process instead, with nothing else in it.
    """
    if url is not None:
        command = [sys.executable, __file__, "--platform", url, str(count)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return list(json.loads(output))
    results: list[dict[str, Any] | BaseException] = [RuntimeError("not run")] * count
    go = threading.Barrier(count)

    def one(index: int) -> None:
        try:
            go.wait()
            if PLATFORM_URL:  # the child process: the platform alone
                transcript = run_stream(PLATFORM_URL, VOICE, sample_rate=RATE, duration=SECONDS)
            else:
                transcript = sn.stream_call("/talk", audio=VOICE, sample_rate=RATE, duration=SECONDS).transcript
            results[index] = measure(transcript)
        except BaseException as error:  # reported below
            results[index] = error

    threads = [threading.Thread(target=one, args=(n,), name=f"bench-stream-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, dict)]


def python_cell(stop: threading.Event) -> int:
    n = 0
    while not stop.is_set():
        for _ in range(10_000):
            n += 1
    return n


def burst_size() -> int:
    """The ``range`` whose ``sum`` takes about ``BURST_MS`` here (one call, the GIL held throughout)."""
    size = 100_000
    while True:
        started = time.perf_counter()
        sum(range(size))
        took = (time.perf_counter() - started) * 1000
        if took >= BURST_MS / 4:
            return int(size * BURST_MS / took)
        size *= 2


def c_burst_cell(size: int) -> Callable[[threading.Event], int]:
    def cell(stop: threading.Event) -> int:
        n = 0
        while not stop.is_set():
            sum(range(size))
            n += 1
        return n

    return cell


def while_computing(
    count: int, cell: Callable[[threading.Event], int] | None, url: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """``count`` streams from worker threads (or another process: ``url``) while ``cell`` computes on this thread."""
    if cell is None:
        return run_streams(count, url), 0
    stop = threading.Event()
    box: list[list[dict[str, Any]] | BaseException] = []

    def streams() -> None:
        try:
            box.append(run_streams(count, url))
        except BaseException as error:
            box.append(error)
        finally:
            stop.set()

    runner = threading.Thread(target=streams, name="bench-streams")
    runner.start()
    work = cell(stop)  # the cell: on the main thread, as a kernel runs one
    runner.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0], work


def cell_rate(cell: Callable[[threading.Event], int], seconds: float = 1.0) -> float:
    """The cell's work per second with nothing else running."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    started = time.perf_counter()
    timer.start()
    work = cell(stop)
    return work / (time.perf_counter() - started)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    os.chdir(folder)
    sn.reset_session().configure(journal=folder / "journal.db", base_dir=folder)
    size = burst_size()
    cells: dict[str, Callable[[threading.Event], int]] = {
        "a pure-Python cell": python_cell,
        f"a cell in {BURST_MS:g} ms C bursts": c_burst_cell(size),
    }
    alone = {name: cell_rate(cell) for name, cell in cells.items()}  # before the runtime starts
    sn.stream("/talk")(talk)
    server = sn.start(link=False)
    url = server.url.replace("http://", "ws://") + "/talk"
    try:
        print(f"{STREAMS} x {RATE // 1000} kHz streams, {SECONDS:g} s each, 20 ms of tone back per frame")
        print(f"python {sys.version.split()[0]}, switch interval {sys.getswitchinterval() * 1000:g} ms while serving")
        run_streams(1)  # warm up: imports, the journal, the first connection (not reported)
        header = f"{'scenario':<44} {'ticks':>6} {'underrun':>8} {'late p50':>8} {'p99':>6} {'max':>6}"
        print(header + f" {'reply p50':>9} {'p99':>6} {'max':>6}   (ms)")
        places = {"platform in this process": None, "platform in another process": url}
        scenarios: list[tuple[str, str, int, str | None]] = []
        for place in places:
            scenarios += [(place, "1 stream, nothing computing", 1, None)]
            scenarios += [(place, f"{STREAMS} streams, nothing computing", STREAMS, None)]
            scenarios += [(place, f"{STREAMS} streams, {name}", STREAMS, name) for name in cells]
        summary: dict[tuple[str, str], dict[str, Any]] = {}
        for place, name, count, cell_name in scenarios:
            if name.startswith("1 "):
                print(place)
            cell = cells[cell_name] if cell_name else None
            started = time.perf_counter()
            results, work = while_computing(count, cell, places[place])
            took = time.perf_counter() - started
            late = [v for r in results for v in r["late"]]
            reply = [v for r in results for v in r["reply"]]
            row = {
                "ticks": sum(r["ticks"] for r in results),
                "underruns": sum(r["underruns"] for r in results),
                "per_stream": [r["underruns"] for r in results],
                "late99": percentile(late, 0.99),
                "reply99": percentile(reply, 0.99),
                "outcomes": sorted({r["outcome"] for r in results}),
                "speed": work / took / alone[cell_name] if cell_name else 0.0,
            }
            summary[place, name] = row
            print(
                f"  {name:<42} {row['ticks']:>6} {row['underruns']:>8} {percentile(late, 0.5):>8.2f}"
                f" {row['late99']:>6.2f} {max(late):>6.2f} {statistics.median(reply):>9.2f} {row['reply99']:>6.2f}"
                f" {max(reply):>6.2f}"
            )
        print()
        for place in places:
            where = "in" if places[place] is None else "out"
            one = summary[place, "1 stream, nothing computing"]
            idle = summary[place, f"{STREAMS} streams, nothing computing"]
            for name, row, extra in [
                ("1 stream, idle (baseline)", one, "baseline"),
                (
                    f"{STREAMS} streams, idle (baseline)",
                    idle,
                    f"reply p99 {idle['reply99'] / one['reply99']:.1f}x 1 stream",
                ),
            ] + [(f"{STREAMS} streams, {n}", summary[place, f"{STREAMS} streams, {n}"], "") for n in cells]:
                if not extra:
                    extra = (
                        f"tick late p99 {row['late99'] / idle['late99']:.1f}x, reply p99 "
                        f"{row['reply99'] / idle['reply99']:.1f}x idle; cell speed {row['speed']:.2f}x alone"
                    )
                per = f"of {row['ticks']} ticks, per stream {row['per_stream']}, {'/'.join(row['outcomes'])}"
                held = "idle" in name or (where == "out" and "pure-Python" in name)  # see the docstring
                ok = row["underruns"] == 0 if held else None
                report(
                    f"underruns, platform {where}, {name}",
                    row["underruns"],
                    "ticks",
                    "0",
                    ok,
                    f"{per}; {extra}" if extra != "baseline" else per,
                )
        print(f"(C burst: sum(range({size})), about {BURST_MS:g} ms each with the GIL held)")
    finally:
        sn.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--platform"]:
        PLATFORM_URL = sys.argv[2]
        print(json.dumps(run_streams(int(sys.argv[3]))))
    else:
        main()
