"""The kernel's session leaves in one fixed order: nothing answered is ever missing from the journal."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from conftest import payload
from kernel import Kernel


def _load(url: str, answered: list[str], stop: threading.Event, name: str) -> None:
    """Post ICEs as fast as the runtime answers, each with its own call id; note those answered 200."""
    body = payload("voice-ice")
    with httpx.Client(base_url=url, timeout=10) as http:
        for number in range(1_000_000):
            if stop.is_set():
                return
            call_id = f"{name}-{number}"
            try:
                response = http.post("/ice", json={**body, "callid": call_id})
            except httpx.HTTPError:  # the runtime has stopped accepting: keep knocking until the test ends
                time.sleep(0.01)
                continue
            if response.status_code == 200:
                answered.append(call_id)


def test_kernel_shutdown_without_stop_under_load_loses_no_answered_callback(tmp_path: Path) -> None:
    kernel = Kernel(tmp_path)
    assert kernel.run("%load_ext sinch_nb\nimport sinch_nb as sn").error is None
    assert kernel.run("%%sinch ice\nreturn svaml.ice().say('Hi').hangup()").error is None
    started = kernel.run("%sinch start")
    match = re.search(r"runtime at (http://\S+)", started.stdout)
    assert match, started.stdout
    answered: list[str] = []
    stop = threading.Event()
    senders = [
        threading.Thread(target=_load, args=(match.group(1), answered, stop, f"t{n}"), daemon=True) for n in range(8)
    ]
    for sender in senders:
        sender.start()
    while len(answered) < 300:  # under load before the kernel goes
        time.sleep(0.05)
    kernel.client.stop_channels()
    kernel.manager.shutdown_kernel(now=False)  # what closing the notebook or "Shut Down Kernel" does
    stop.set()
    for sender in senders:
        sender.join(timeout=30)
    with sqlite3.connect(tmp_path / ".sinch_nb" / "journal.db") as db:
        journaled = {row[0] for row in db.execute("SELECT call_id FROM callbacks WHERE kind = 'ice'")}
    missing = sorted(set(answered) - journaled)
    assert len(answered) >= 300
    assert missing == [], f"{len(missing)} of {len(answered)} answered callbacks missing, e.g. {missing[:5]}"
