"""Nothing answered is lost, and a crash leaves a trace: a kernel shut down, a runtime killed, flooded, locked."""

from __future__ import annotations

import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import payload
from kernel import Kernel

from sinch_nb import svaml
from sinch_nb.journal import Journal

CHILD = Path(__file__).parent / "runtime_child.py"


class Child:
    """``runtime_child.py`` journaling to ``journal``; ``open_files`` caps its file descriptors (soft and hard)."""

    def __init__(self, journal: Path, open_files: int | None = None, *args: str) -> None:
        self.stderr = journal.parent / "stderr.txt"

        def cap() -> None:
            if open_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        with self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(CHILD), str(journal), *args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=journal.parent,
                preexec_fn=cap,
            )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://"), self.url

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


def _load(url: str, answered: list[str], stop: threading.Event, name: str, *, knock: bool = False) -> None:
    """Post ICEs as fast as the runtime answers, each with its own call id; note those answered 200.

    When the runtime stops answering, return (or with ``knock``, keep trying until ``stop``).
    """
    body = payload("voice-ice")
    with httpx.Client(base_url=url, timeout=10) as http:
        for number in range(1_000_000):
            if stop.is_set():
                return
            call_id = f"{name}-{number}"
            try:
                response = http.post("/ice", json={**body, "callid": call_id})
            except httpx.HTTPError:  # stopped or killed: nothing more is answered
                if not knock:
                    return
                time.sleep(0.01)
                continue
            if response.status_code == 200:
                answered.append(call_id)


def _rows(path: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, call_id, outcome FROM callbacks ORDER BY id").fetchall()


def test_sigkill_under_load_loses_no_answered_callback_and_reuses_no_id(journal_path: Path) -> None:
    child = Child(journal_path)
    answered: list[str] = []
    stop = threading.Event()
    senders = [threading.Thread(target=_load, args=(child.url, answered, stop, f"t{n}")) for n in range(8)]
    for sender in senders:
        sender.start()
    while len(answered) < 2000:
        time.sleep(0.01)
    child.kill()  # mid-stream: callbacks answered a moment ago are not committed to SQLite yet
    stop.set()
    for sender in senders:
        sender.join(timeout=30)
    reopened = Journal(journal_path)  # the next start: reads the dead kernel's pending log back
    new_id = reopened.append({"kind": "ice", "call_id": "after-the-crash"})
    reopened.close()
    rows = _rows(journal_path)
    journaled = [call_id for _, call_id, _ in rows]
    missing = sorted(set(answered) - set(journaled))
    assert missing == [], f"{len(missing)} of {len(answered)} answered callbacks missing, e.g. {missing[:5]}"
    assert len(journaled) == len(set(journaled)), "a callback journaled twice"
    assert new_id > max(record_id for record_id, call_id, _ in rows if call_id != "after-the-crash")
    assert reopened.recovered > 0  # this test is about the window SQLite had not committed yet


@pytest.mark.parametrize("path", ["/die", "/crash"])
def test_a_handler_that_kills_its_process_leaves_its_callback_as_interrupted(journal_path: Path, path: str) -> None:
    child = Child(journal_path)
    assert httpx.post(f"{child.url}/ice", json=payload("voice-ice")).status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{child.url}{path}", content=b"the last request")
    child.process.wait(timeout=30)
    reopened = Journal(journal_path)
    reopened.close()
    rows = [row for row in reopened.rows() if row["path"] == path]
    assert len(rows) == 1
    assert rows[0]["outcome"] == "interrupted"
    assert rows[0]["error"] == "interrupted: the kernel stopped while handling it"
    assert rows[0]["request_body"] == "the last request"
    assert reopened.interrupted == 1


def test_a_journal_that_cannot_write_is_reported_and_loses_nothing(sn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    session = sn.get_session()
    session.journal.busy_timeout = 0.1
    sn.ice(lambda context, event: svaml.ice().say("Hi").hangup())
    server = sn.start()
    holder = sqlite3.connect(session.journal.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file: every write fails
    assert httpx.post(f"{server.url}/ice", json={**payload("voice-ice"), "callid": "while-locked"}).status_code == 200
    deadline = time.monotonic() + 10
    while session.journal.problem is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "locked" in str(sn.status()["journal_problem"])
    assert "sinch_nb: cannot write the journal" in capsys.readouterr().err  # said on the next sn.* call
    sn.handlers()
    assert capsys.readouterr().err == ""  # once, not on every call
    holder.execute("ROLLBACK")
    holder.close()
    assert httpx.post(f"{server.url}/ice", json={**payload("voice-ice"), "callid": "after"}).status_code == 200
    assert sorted(sn.callbacks()["call_id"].tolist()) == ["after", "while-locked"]
    assert session.journal.problem is None


def test_settings_reach_the_running_server_at_once(sn: Any, tmp_path: Path) -> None:
    sn.ice(lambda context, event: svaml.ice().say("Hi").hangup())
    server = sn.start()
    assert httpx.post(f"{server.url}/ice", json=payload("voice-ice")).status_code == 200
    sn.configure(journal=tmp_path / "moved.db")
    assert httpx.post(f"{server.url}/ice", json={**payload("voice-ice"), "callid": "moved"}).status_code == 200
    assert sn.callbacks()["call_id"].tolist() == ["moved"]
    assert sn.status()["journal"] == str(tmp_path / "moved.db")
    sn.configure(application_key="app-key", application_secret="BeIukql3pTKJ8RGL5zo0DA==")
    assert sn.status()["signatures"]["voice"] == "checked"
    assert httpx.post(f"{server.url}/ice", json=payload("voice-ice")).status_code == 401


def test_the_interpreter_exit_never_waits_for_a_stuck_handler(journal_path: Path) -> None:
    child = Child(journal_path)
    assert httpx.post(f"{child.url}/hang", timeout=10).status_code == 500  # timed out; its thread never returns
    httpx.post(f"{child.url}/exit", timeout=10)
    assert child.process.wait(timeout=30) == 0  # a thread pool that is joined at exit would wait forever


def test_stalled_connections_leave_room_for_a_real_callback(journal_path: Path) -> None:
    child = Child(journal_path, open_files=1024)  # a common default: 1,100 connections would exhaust it
    host, port = httpx.URL(child.url).host, httpx.URL(child.url).port
    stalled = []
    for number in range(1100):
        connection = socket.create_connection((host, port))
        if number % 2:
            connection.sendall(b"POST /ice HTTP/1.1\r\nHost: x\r\n")  # half a head, then nothing
        stalled.append(connection)
    try:
        response = httpx.post(f"{child.url}/ice", json=payload("voice-ice"), timeout=10)
        assert response.status_code == 200, "a real callback is answered beside 1,100 stalled connections"
    finally:
        for connection in stalled:
            connection.close()
        child.kill()
    assert child.stderr.stat().st_size < 10_000, child.stderr.read_text()[:2000]  # nothing floods the output


def test_oversized_headers_are_refused_with_431_and_journaled(session: Any, client: httpx.Client) -> None:
    response = client.post("/ice", json=payload("voice-ice"), headers={"x-big": "x" * (200 * 1024)})
    assert response.status_code == 431 and "at most 65536" in response.json()["error"]
    assert client.post("/ice", json=payload("voice-ice")).status_code in (200, 500)  # still serving
    first = next(session.journal.rows())
    assert first["status"] == 431 and len(first["request_headers"] or "") < 70 * 1024


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
        threading.Thread(target=_load, args=(match.group(1), answered, stop, f"t{n}"), kwargs={"knock": True})
        for n in range(8)
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
