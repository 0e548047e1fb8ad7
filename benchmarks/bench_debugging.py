"""Debugging tools at speed. Targets (issue 4): callback to visible monitor row <= 500 ms at 50
callbacks/s; explore a 3-level, 27-leaf IVR <= 1 s; replay >= 500 per second in process.
Baselines, same run: the journal's own commit latency; the same callbacks sent straight
through the runtime in process.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time

from _common import ICE_BODY, ROOT, report

sys.path.insert(0, str(ROOT / "tests"))
os.chdir(tempfile.mkdtemp())

import httpx  # noqa: E402
from test_debugging import ivr  # noqa: E402

import sinch_nb as sn  # noqa: E402
from sinch_nb import get_session  # noqa: E402


def monitor_latency() -> None:
    ivr(sn)
    server = sn.start()
    monitor = sn.monitor()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    committed: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            now = time.perf_counter()
            for label in monitor.labels():
                key = label.split()[3]
                seen.setdefault(key, now)
            time.sleep(0.005)

    def watch_journal() -> None:
        seen_count = 0
        while not stop.is_set():
            if get_session().journal.committed_count != seen_count:
                seen_count = get_session().journal.committed_count
                now = time.perf_counter()
                for row in get_session().journal.recent:
                    committed.setdefault(str(row.call_id)[:8], now)
            time.sleep(0.002)

    threads = [threading.Thread(target=watch), threading.Thread(target=watch_journal)]
    for thread in threads:
        thread.start()
    with httpx.Client(base_url=server.url) as http:
        start = time.perf_counter()
        for n in range(200):  # 4 s at 50 callbacks per second
            due = start + n / 50
            time.sleep(max(0.0, due - time.perf_counter()))
            key = f"{n:08d}"
            sent[key] = time.perf_counter()
            http.post("/ice", content=ICE_BODY.replace('"a call id"', f'"{key}"'))
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    monitor.close()
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    commits = sorted((committed[k] - sent[k]) * 1000 for k in sent if k in committed)
    worst = max(latencies) if len(latencies) == len(sent) else float("inf")
    p99 = statistics.quantiles(latencies, n=100)[98]
    baseline = statistics.quantiles(commits, n=100)[98]
    report("callback → visible monitor row, max", worst, "ms", "<= 500", worst <= 500, f"p99 {p99:.0f} ms")
    report("  baseline: journal commit p99", baseline, "ms", "(baseline)", True, f"ratio {p99 / baseline:.1f}x")


def explore_time() -> None:
    get_session().registry.clear()
    ivr(sn)
    sn.start()
    started = time.perf_counter()
    exploration = sn.explore(max_depth=5)
    elapsed = time.perf_counter() - started
    leaves = sum(1 for h in exploration.paths()["heard"] if h.startswith("You chose"))
    assert leaves == 27, leaves
    # Baseline: the same number of callbacks, one request each, straight through the runtime.
    body = ICE_BODY.encode()
    headers = {"content-type": "application/json"}
    started = time.perf_counter()
    for _ in range(exploration.callbacks):
        get_session().answer("POST", "/ice", headers, body)
    bare = time.perf_counter() - started
    report(
        f"explore 27-leaf IVR ({exploration.callbacks} callbacks)",
        elapsed,
        "s",
        "<= 1",
        elapsed <= 1,
        f"ratio {elapsed / bare:.1f}x the bare callbacks",
    )


def replay_rate() -> None:
    get_session().registry.clear()

    @sn.ice
    def on_ice(context: object, event: object) -> object:
        return sn.svaml.ice().say("Hi").hangup()

    sn.start()
    record = get_session().answer("POST", "/ice", {"content-type": "application/json"}, ICE_BODY.encode()).record_id
    n = 2000
    started = time.perf_counter()
    for _ in range(n):
        sn.replay(record)
    rate = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(n):
        get_session().answer("POST", "/ice", {"content-type": "application/json"}, ICE_BODY.encode())
    bare = n / (time.perf_counter() - started)
    report("replay in process", rate, "/s", ">= 500", rate >= 500, f"ratio {rate / bare:.2f}x bare in-process requests")
    json.dumps(sn.status())


if __name__ == "__main__":
    monitor_latency()
    explore_time()
    replay_rate()
    sn.stop()
