"""A deployed Function's log stream, against a fake that stays open like the platform's (never ends by itself)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sinch_nb import get_session

FUNCTION_ID = "01JKXF0LOGS"


def event(n: int) -> dict[str, Any]:
    """Log event ``n``: one deployed ICE, at second ``n``."""
    return {
        "timestamp": f"2026-12-01T10:00:{n:02d}Z",
        "request": {"method": "POST", "path": "/ice", "body": {"event": "ice", "callid": f"live-{n}", "cli": "+46"}},
        "response": {"statusCode": 200, "body": {"action": {"name": "hangup"}}},
        "durationMs": 2.0,
    }


def deployed(sn: Any) -> list[str]:
    """The call ids of the journal's deployed rows, one per row (a duplicate shows twice)."""
    return [str(c) for c in sn.callbacks(source="deployed")["call_id"].tolist()]


def until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait for ``check`` to hold; whether it did."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def log_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sinch_nb-logs" and t.is_alive()]


@pytest.fixture
def fake(sn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake Operations API, and a function ``my-fn`` deployed from here (its ``sinch.json`` has the id)."""
    from fakes.sinch_api import FakeSinch

    from sinch_nb.runtime.server import Server

    sinch = FakeSinch("app-key", "BeIukql3pTKJ8RGL5zo0DA==")
    server = Server(sinch.app())
    server.start()
    for key, value in {
        "PROJECT_ID": "project-1",
        "PROJECT_ID_API_KEY": "key-id",
        "PROJECT_ID_API_SECRET": "key-secret",
        "SINCH_AUTH_URL": server.url,
        "SINCH_FUNCTIONS_URL": server.url,
    }.items():
        monkeypatch.setenv(key, value)
    project = tmp_path / "build" / "my-fn"
    project.mkdir(parents=True)
    (project / "sinch.json").write_text(json.dumps({"name": "my-fn", "runtime": "node", "functionId": FUNCTION_ID}))
    yield sinch
    for follower in list(get_session().followers):
        follower.stop()
    sinch.close_log_streams()
    server.stop()


def test_logs_returns_what_the_stream_holds_now_and_ends(sn: Any, fake: Any) -> None:
    fake.log_events.extend([event(1), event(2), event(3)])
    started = time.monotonic()
    rows = sn.logs("my-fn")
    took = time.monotonic() - started
    assert took < 5, f"sn.logs waited {took:.1f} s on a stream that never ends"  # was 30 s, then a read timeout
    assert rows["call_id"].tolist() == ["live-1", "live-2", "live-3"]
    assert rows["source"].astype(str).tolist() == ["deployed"] * 3
    assert len(fake.log_connections) == 1

    fake.log_events.append(event(4))
    again = sn.logs("my-fn")
    assert again["call_id"].tolist() == ["live-1", "live-2", "live-3", "live-4"]
    assert deployed(sn) == ["live-1", "live-2", "live-3", "live-4"]  # read twice, journaled once


def test_logs_stops_reading_after_its_limit_while_events_keep_coming(sn: Any, fake: Any) -> None:
    from sinch_nb.deployment.logs import read_logs
    from sinch_nb.platform.functions_api import require_functions_api

    session = get_session()
    api = require_functions_api(session.credential_store(), "test")
    stop = threading.Event()

    def busy() -> None:  # a function taking a request every 0.1 s: the stream never goes quiet
        n = 0
        while not stop.wait(0.1):
            n += 1
            fake.log_events.append(event(n % 60))

    threading.Thread(target=busy, daemon=True).start()
    try:
        started = time.monotonic()
        rows = read_logs(api, FUNCTION_ID, session.journal, limit=1.5)
        took = time.monotonic() - started
    finally:
        stop.set()
    assert 1.4 < took < 4, took
    assert len(rows) >= 5


def test_following_appends_each_event_as_it_arrives_on_one_connection(sn: Any, fake: Any) -> None:
    fake.log_events.append(event(1))
    assert sn.logs("my-fn")["call_id"].tolist() == ["live-1"]
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: follower.connections == 1)
    assert "following" in repr(follower)
    fake.log_events.append(event(2))
    assert until(lambda: "live-2" in deployed(sn))
    time.sleep(0.5)
    fake.log_events.append(event(3))
    assert until(lambda: "live-3" in deployed(sn))
    time.sleep(0.3)
    assert deployed(sn) == ["live-1", "live-2", "live-3"]
    assert follower.connections == 1 and follower.events == 2  # held open, not polled from the start
    assert fake.log_connections[1] == {"last_event_id": "1", "since": "2026-12-01T10:00:01Z"}
    assert follower.errors == [] and "2 events" in repr(follower)


@pytest.mark.parametrize("resume", ["last-event-id", "since", "none"])
def test_a_dropped_stream_resumes_where_it_left_off_without_duplicates(
    sn: Any, fake: Any, resume: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.log_resume = resume  # the reference documents `since` only: whatever the platform honours, no duplicates
    fake.log_events.extend([event(1), event(2), event(3)])
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: len(deployed(sn)) == 3)
    fake.drop_log_streams()
    assert until(lambda: follower.connections == 2)
    fake.log_events.extend([event(4), event(5)])
    assert until(lambda: len(deployed(sn)) >= 5)
    time.sleep(0.3)  # room for a duplicate to arrive
    assert deployed(sn) == [f"live-{n}" for n in range(1, 6)]
    assert fake.log_connections[1] == {"last_event_id": "3", "since": "2026-12-01T10:00:03Z"}
    assert follower.running and follower.events == 5
    assert len(follower.errors) == 1 and "connection to the log stream broke" in follower.errors[0]
    printed = capsys.readouterr().err
    assert "connection to the log stream broke" in printed and "following again" in printed


def test_a_drop_in_the_middle_of_the_backlog_resumes_after_the_last_event_seen(sn: Any, fake: Any) -> None:
    fake.log_events.extend([event(n) for n in range(1, 6)])
    fake.drop_next_log_stream_after = 2
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: len(deployed(sn)) >= 5)
    time.sleep(0.3)
    assert deployed(sn) == [f"live-{n}" for n in range(1, 6)]
    assert [c["last_event_id"] for c in fake.log_connections] == [None, "2"]
    assert follower.connections == 2


def test_stop_ends_the_follower_at_once_while_the_stream_is_quiet(sn: Any, fake: Any) -> None:
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: follower.connections == 1)
    time.sleep(0.2)  # the stream is open and idle: the thread is blocked reading it
    started = time.monotonic()
    follower.stop()
    assert time.monotonic() - started < 1.5
    assert not log_threads() and not follower.running and "stopped" in repr(follower)
    fake.log_events.append(event(1))
    time.sleep(0.3)
    assert deployed(sn) == [] and len(fake.log_connections) == 1


def test_a_new_follower_of_the_same_function_replaces_the_last(sn: Any, fake: Any) -> None:
    first = sn.logs("my-fn", follow=True)
    assert until(lambda: first.connections == 1)
    second = sn.logs("my-fn", follow=True)
    assert until(lambda: second.connections == 1)
    assert not first.running and second.running
    assert get_session().followers == [second] and len(log_threads()) == 1


def test_server_errors_are_shown_once_each_and_following_resumes(
    sn: Any, fake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.log_failures.extend([500, 500, 503])
    fake.log_events.append(event(1))
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: deployed(sn) == ["live-1"])
    assert [re.findall(r"HTTP \d+", e) for e in follower.errors] == [["HTTP 500"], ["HTTP 500"], ["HTTP 503"]]
    assert follower.running and follower.error is None and "3 failures" in repr(follower)
    printed = capsys.readouterr().err
    assert printed.count("HTTP 500") == 1 and printed.count("HTTP 503") == 1  # once per distinct failure
    assert "reconnecting in" in printed and "following again" in printed


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        (401, "check PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET"),
        (403, "check its permissions in the Sinch dashboard"),
        (404, "%sinch deploy first"),
    ],
)
def test_a_refusal_stops_following_with_the_fix(
    sn: Any, fake: Any, status: int, fix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.log_failures.append(status)
    follower = sn.logs("my-fn", follow=True)
    assert until(lambda: not follower.running)
    assert until(lambda: not log_threads())
    shown = repr(follower)
    assert f"stopped: reading function {FUNCTION_ID}'s logs failed: HTTP {status}" in shown and fix in shown
    printed = capsys.readouterr().err
    assert "stopped" in printed and fix in printed
    assert len(fake.log_connections) == 1  # not retried: it cannot pass by itself
    for token in fake.tokens:  # the bearer token is nowhere a person sees
        assert token not in shown and token not in printed and all(token not in e for e in follower.errors)


def test_logs_raises_a_failure_naming_the_fix(sn: Any, fake: Any) -> None:
    fake.log_failures.extend([401, 503])
    with pytest.raises(sn.PlatformError, match=r"HTTP 401.*check PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET"):
        sn.logs("my-fn")
    with pytest.raises(sn.PlatformError, match="HTTP 503") as raised:
        sn.logs("my-fn")
    assert raised.value.status == 503
    fake.log_events.append(event(1))
    assert sn.logs("my-fn")["call_id"].tolist() == ["live-1"]


def test_logs_without_a_connection_says_so(sn: Any, fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb.runtime.server import bind

    closed = bind("127.0.0.1", 0)
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    monkeypatch.setenv("SINCH_FUNCTIONS_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(sn.PlatformError, match=r"could not connect to the log stream.*check the network"):
        sn.logs("my-fn")


def test_the_follow_magic_gives_the_handle_that_stops_it(
    sn: Any, fake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from sinch_nb.deployment.logs import LogFollower

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "sinch_nb")
        follower = shell.run_line_magic("sinch", "logs --name my-fn --follow")
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(follower, LogFollower) and until(lambda: follower.connections == 1)
    assert ".stop() on this handle ends it" in capsys.readouterr().out
    follower.stop()
    assert not log_threads()
