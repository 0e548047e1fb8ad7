"""Widget state without a browser (ipywidgets' DummyComm): the dial pad and the monitor."""

from __future__ import annotations

import time
from typing import Any

import pytest
from test_debugging import ivr
from traitlets import TraitError

from sinch_nb import svaml


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_dialpad_call_press_and_hang_up(sn: Any) -> None:
    ivr(sn)
    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    assert pad.call is not None and pad.call.state == "menu"
    assert "Welcome" in pad.transcript.value and "Menu main" in pad.transcript.value
    pad.keys["1"].click()
    assert "Menu 1" in pad.transcript.value
    pad.keys["2"].click()
    pad.keys["3"].click()
    assert "You chose 123" in pad.text()
    assert pad.call.state == "ended" and pad.hangup_button.disabled
    kinds = sn.callbacks(call_id=pad.call.transcript.call_id)["kind"].astype(str).tolist()
    assert kinds == ["ice", "pie", "pie", "pie", "dice"]


def test_dialpad_silence_sends_the_timeout(sn: Any) -> None:
    ivr(sn)
    pad = sn.dialpad(timeout=0.2)
    pad.call_button.click()
    wait_for(lambda: pad.call.state == "ended")
    assert "timeout" in pad.text()
    assert sn.callbacks()["menu_result_type"].astype(str).tolist()[1] == "timeout"


def test_dialpad_hang_up_mid_menu(sn: Any) -> None:
    ivr(sn)
    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    pad.hangup_button.click()
    assert pad.call.state == "ended"
    assert sn.callbacks()["reason"].astype(str).tolist()[-1] == "CALLERHANGUP"
    pad.keys["1"].click()
    assert "press Call first" in pad.status.value


def test_dialpad_digit_collection(sn: Any) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().run_menu(svaml.menu("main").prompt("Enter your PIN").max_digits(4))

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        return svaml.pie().say(f"PIN {event.menu_result.value}").hangup()

    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    for key in "4711":
        pad.keys[key].click()
    assert "PIN 4711" in pad.text()


def test_monitor_shows_rows_live_and_filters(sn: Any) -> None:
    ivr(sn)
    monitor = sn.monitor()
    try:
        sn.dial("+15551230000", "+1666", press=["1", "2", "3"])
        wait_for(lambda: len(monitor.labels()) == 5)
        assert "dice" in monitor.labels()[0] and "ice " in monitor.labels()[-1]  # newest first
        assert "simulated" in monitor.labels()[0]
        monitor.kind.value = "pie"
        assert len(monitor.labels()) == 3
        monitor.kind.value = "all"
        monitor.errors_only.value = True
        assert monitor.labels() == []
        monitor.errors_only.value = False
        call_id = sn.calls().index[0]
        monitor.call_id.value = call_id[:6]
        assert len(monitor.labels()) == 5
    finally:
        monitor.close()


def test_monitor_detail_replay_edit_diff_curl_and_fixture(sn: Any) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say(f"Hi {event.cli}").hangup()

    sn.dial("+15551230000", "+1666")
    monitor = sn.monitor()
    try:
        monitor.table.selected = 1  # what a click on the row sends
        assert "Request body" in monitor.detail.value and "+15551230000" in monitor.detail.value
        call_id = sn.callback(1)["call_id"]
        assert f"call {call_id}" in monitor.detail.value  # the full id, which the row shortens
        assert "None" not in monitor.detail.value and "nan" not in monitor.detail.value
        assert "ICE → hangup" in monitor.timeline.value and "DICE" in monitor.timeline.value
        monitor.buttons["Replay"].click()
        assert "Replay #3 of #1" in monitor.result.value
        monitor.buttons["Edit and replay"].click()
        assert monitor.editor.layout.display == "block"
        monitor.editor.value = monitor.editor.value.replace("+15551230000", "+4670")
        monitor.buttons["Send edited"].click()
        assert "Hi +4670" in monitor.result.value
        monitor.buttons["Diff"].click()
        assert "the same answer" in monitor.result.value
        monitor.buttons["Copy as curl"].click()
        assert "curl -X POST" in monitor.result.value and "&quot;event&quot;: &quot;ice&quot;" in monitor.result.value
        monitor.buttons["Save as fixture"].click()
        assert "fixtures/ice-1.json" in monitor.result.value
    finally:
        monitor.close()


def test_monitor_pages_ten_thousand_callbacks(sn: Any) -> None:
    from sinch_nb import get_session

    for n in range(10_000):
        get_session().journal.append(
            {"time": time.time(), "kind": "ice", "call_id": f"c{n}", "status": 200, "method": "POST"}
        )
    monitor = sn.monitor()
    try:
        assert len(monitor.labels()) == 50 and "10000 callbacks · page 1 of 200" in monitor.count.value
        monitor.next.click()
        assert "page 2 of 200" in monitor.count.value and monitor.labels()[0].split()[0] == "9950"
        monitor.table.sort = "call"  # sorted in SQLite over all 10,000, and back to page 1
        assert "page 1 of 200" in monitor.count.value
        assert [row["cells"][3] for row in monitor.table.rows[:3]] == ["c0", "c1", "c10"]
        monitor.next.click()
        assert monitor.table.rows[0]["cells"][3] == sorted(f"c{n}" for n in range(10_000))[50]  # where page 1 ended
    finally:
        monitor.close()


def journal_rows(*records: dict[str, Any]) -> None:
    from sinch_nb import get_session

    for record in records:
        get_session().journal.append({"time": 1_700_000_000.0, "kind": "ice", "method": "POST", **record})


def test_monitor_table_sorts_by_the_clicked_header_and_keeps_blanks_last(sn: Any) -> None:
    journal_rows(
        {"call_id": "a", "cli": "+46", "latency_ms": 12.0},
        {"call_id": "b", "cli": None, "latency_ms": None},
        {"call_id": "c", "cli": "+15", "latency_ms": 3.25},
        {"call_id": "d", "cli": "+49", "latency_ms": 40.0},
    )
    monitor = sn.monitor()
    try:
        calls = lambda: [row["cells"][3] for row in monitor.table.rows]  # noqa: E731
        assert calls() == ["d", "c", "b", "a"]  # newest first
        monitor.table.sort = "latency"  # a click on "latency"
        assert calls() == ["c", "a", "d", "b"]
        monitor.table.sort = "-latency"  # a second click
        assert calls() == ["d", "a", "c", "b"]  # the blank stays last
        monitor.table.sort = "caller"
        assert calls() == ["c", "a", "d", "b"]
        assert monitor.labels()[0].split()[0] == "3"  # the text rows follow the same order
        monitor.table.selected = 1
        monitor.table.sort = "-id"
        assert monitor.table.selected == 1 and "#1 POST" in monitor.detail.value  # sorting keeps the selection
        with pytest.raises(TraitError, match="no column 'colour'"):
            monitor.table.sort = "colour"
    finally:
        monitor.close()


def test_monitor_rows_read_well(sn: Any) -> None:
    from sinch_nb.journal import readable

    full = "4398599d1ba84ef3bde0a82dfb61abed"
    journal_rows(
        {"call_id": full, "cli": "+15551230000", "latency_ms": 12.34567, "status": 200, "outcome": "ok"},
        {"call_id": None, "cli": None, "latency_ms": float("nan"), "status": None, "kind": None},
    )
    monitor = sn.monitor()
    try:
        missing, answered = monitor.table.rows
        cells = dict(zip([c["key"] for c in monitor.table.columns], answered["cells"], strict=True))
        titles = dict(zip([c["key"] for c in monitor.table.columns], answered["titles"], strict=True))
        assert cells["latency"] == "12.3 ms" and cells["status"] == "200"
        assert cells["call"] == "4398599d…" and titles["call"] == full  # short, the full id on hover
        assert cells["time"] == readable.local_time(1_700_000_000.0) and len(cells["time"]) == len("12:00:00.000")
        assert set(missing["cells"][2:9]) == {""}  # kind … signature: blanks
        bundle = monitor._repr_mimebundle_()
        for text in (*missing["cells"], bundle["text/plain"], bundle["text/html"]):
            assert "None" not in text and "nan" not in text.lower()
        assert f'title="{full}"' in bundle["text/html"] and "12.3 ms" in bundle["text/plain"]
        assert "text-align:left" in bundle["text/html"]
    finally:
        monitor.close()


def test_local_times_to_the_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb.journal import readable

    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    try:
        assert readable.local_time(1_700_000_000.1254) == "23:13:20.125"  # 22:13:20 UTC
        assert readable.local_timestamp(1_700_000_000.1254) == "2023-11-14 23:13:20.125 +0100"
        assert readable.local_time(None) == readable.latency(None) == readable.short_id(None) == ""
        assert readable.blank(float("nan")) == "" and readable.short_id("c42") == "c42"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_re_running_monitor_replaces_the_old_one(sn: Any) -> None:
    first = sn.monitor()
    second = sn.monitor()
    assert first._stop.is_set() and not second._stop.is_set()
    second.close()


@pytest.fixture(autouse=True)
def _no_server_left(sn: Any) -> Any:
    yield
    sn.stop()


def test_without_widgets_the_same_rows_show_as_text_and_html(sn: Any) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Hi").hangup()

    sn.dial("+15551230000", "+1666")
    monitor = sn.monitor()
    try:
        bundle = monitor._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert "+15551230000" in bundle["text/plain"] and "+15551230000" in bundle["text/html"]
        assert bundle["text/plain"].split()[:3] == ["#", "time", "kind"]  # a header, then the rows
        assert "<table" in bundle["text/html"]
    finally:
        monitor.close()
    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    assert "Hi" in pad._repr_mimebundle_()["text/plain"]


def test_svaml_and_events_render_as_a_call_script() -> None:
    from conftest import payload

    from sinch_nb.functions.events import parse_event

    answer = svaml.ice().say("Welcome").run_menu(svaml.menu("main").prompt("Press 1").option("1", "return(sales)"))
    script = answer._repr_html_()
    assert "Say: Welcome" in script and "Menu main: Press 1" in script and "1 → return(sales)" in script
    assert "{" not in script  # a script, not raw JSON
    event = parse_event(payload("voice-pie"))._repr_html_()
    assert "PIE callback" in event and "confirm: sequence 1452" in event
