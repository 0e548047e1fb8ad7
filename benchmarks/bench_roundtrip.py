"""ICE round trip with capture on, against a bare Starlette+uvicorn app serving the same handler.

Targets (issue 2): throughput ratio >= 0.8; p99 <= 5 ms at 200 req/s on loopback.
All servers run the same way (uvicorn in a daemon thread of this process, the same
HTTP implementation); the load comes from other processes (wrk, a paced client).
A plain ``def`` handler runs on a thread pool in both (Starlette's own rule for sync
endpoints). An ``async def`` handler runs on the loop in the bare app, while sinch_nb runs it
on a pool thread's own loop, so that one that blocks cannot delay other callbacks (issue 15):
that ratio prices the isolation, and is reported, not held to 0.8.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from _common import bare_app, ivr_answer, p99, paced, report, wrk

from sinch_nb.runtime.server import Server
from sinch_nb.runtime.session import Session


def sinch_nb_server(sync: bool) -> tuple[Session, Server]:
    session = Session()
    folder = Path(tempfile.mkdtemp())
    session.configure(journal=folder / "journal.db", base_dir=folder)

    def handler(context: Any, event: Any) -> Any:
        return ivr_answer(event.cli)

    async def async_handler(context: Any, event: Any) -> Any:
        return ivr_answer(event.cli)

    session.registry.register("ice", handler if sync else async_handler, "benchmark")
    return session, session.start()


def ratio_of(bare_url: str, ours_url: str, pairs: int = 3) -> tuple[float, float, float]:
    """Median over interleaved runs (bare, ours, bare, ours, …): this machine is noisy."""
    import statistics

    for url in (bare_url, ours_url):
        wrk(f"{url}/ice", seconds=1)  # warm up
    runs = [(wrk(f"{bare_url}/ice", seconds=3), wrk(f"{ours_url}/ice", seconds=3)) for _ in range(pairs)]
    ratio = statistics.median(o / b for b, o in runs)
    return statistics.median(b for b, _ in runs), statistics.median(o for _, o in runs), ratio


def main() -> None:
    for sync in (True, False):
        label = "def handler (thread pool)" if sync else "async def handler (own loop per thread)"
        bare = Server(bare_app(sync=sync))
        bare.start()
        session, ours = sinch_nb_server(sync)
        try:
            bare_rps, ours_rps, ratio = ratio_of(bare.url, ours.url)
            print(f"{label}: bare {bare_rps:,.0f} req/s, sinch_nb with capture {ours_rps:,.0f} req/s (medians)")
            report(f"throughput ratio, {label}", ratio, "x", ">= 0.8", ratio >= 0.8)
            bare_p99, ours_p99 = p99(paced(bare.url, 200, 5)), p99(paced(ours.url, 200, 5))
            report(f"p99 at 200 req/s, bare, {label}", bare_p99, "ms", "(baseline)", True)
            report(
                f"p99 at 200 req/s, sinch_nb, {label}",
                ours_p99,
                "ms",
                "<= 5",
                ours_p99 <= 5,
                f"ratio {ours_p99 / bare_p99:.2f}x",
            )
        finally:
            bare.stop()
            session.shutdown()


if __name__ == "__main__":
    main()
