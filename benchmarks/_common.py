"""Shared pieces of the benchmarks: a bare baseline app, wrk, a paced client in its own process."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "sinch" / "payloads" / "voice-ice.java-IncomingCallEventDto.json"
ICE_BODY = FIXTURE.read_text()


def ivr_answer(cli: str) -> Any:
    """The handler both servers run: the quickstart's ICE answer."""
    from sinch_nb import svaml

    return (
        svaml.ice()
        .say(f"Welcome, caller {cli}")
        .run_menu(
            svaml.menu("main")
            .prompt("#tts[Press 1 for sales, 2 for support]")
            .option("1", "return(sales)")
            .option("2", "return(support)")
        )
        .build()
    )


def bare_app(sync: bool = False) -> Any:
    """Starlette with one route doing the same work minus sinch_nb: parse, answer, reply.

    ``sync=True`` serves it as a plain ``def`` endpoint, which Starlette runs on its
    thread pool, as sinch_nb runs a plain ``def`` handler.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def ice(request: Request) -> Response:
        payload = json.loads(await request.body())
        return Response(json.dumps(ivr_answer(payload["cli"])), media_type="application/json")

    async def ice_sync(request: Request) -> Response:
        payload = json.loads(await request.body())
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(ivr_answer, payload["cli"])
        return Response(json.dumps(answer), media_type="application/json")

    return Starlette(routes=[Route("/ice", ice_sync if sync else ice, methods=["POST"])])


def wrk(url: str, seconds: int = 5, connections: int = 16) -> float:
    """Requests per second wrk reaches posting the ICE fixture."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(ICE_BODY)}\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


PACED_CLIENT = textwrap.dedent(
    """
    import http.client, json, sys, time
    host, port, path, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[6]
    rate, seconds = float(sys.argv[4]), float(sys.argv[5])
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies, interval = [], 1.0 / rate
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        due = start + n * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        sent = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse(); response.read()
        assert response.status == 200, response.status
        latencies.append((time.perf_counter() - sent) * 1000)
    print(json.dumps(latencies))
    """
)


def paced(url: str, rate: float, seconds: float, path: str = "/ice") -> list[float]:
    """Latencies (ms) of requests sent at ``rate`` per second from a separate process."""
    host, port = url.removeprefix("http://").split(":")
    out = subprocess.run(
        [sys.executable, "-c", PACED_CLIENT, host, port, path, str(rate), str(seconds), ICE_BODY],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return list(json.loads(out))


def start_paced(url: str, rate: float, seconds: float, path: str = "/ice") -> subprocess.Popen[str]:
    """``paced`` in the background; read its latencies with ``finish_paced``."""
    host, port = url.removeprefix("http://").split(":")
    return subprocess.Popen(
        [sys.executable, "-c", PACED_CLIENT, host, port, path, str(rate), str(seconds), ICE_BODY],
        stdout=subprocess.PIPE,
        text=True,
    )


def finish_paced(process: subprocess.Popen[str]) -> list[float]:
    out, _ = process.communicate(timeout=120)
    return list(json.loads(out))


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def report(name: str, value: float, unit: str, target: str, ok: bool | None, extra: str = "") -> None:
    """One line of figures; ``ok=None`` for a row that is reported, not held to a target."""
    verdict = "info" if ok is None else "meets" if ok else "MISSES"
    print(f"{name:<48} {value:>10.3f} {unit:<6} target {target:<10} {verdict}{'  ' + extra if extra else ''}")


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``values`` (nan for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


async def echo_stream(context: Any, stream: Any) -> None:
    """The media stream handler the stream benchmarks serve: answer, then every frame back."""
    await stream.answer()
    async for frame in stream.audio():
        await stream.send(frame)
