"""What a newcomer meets in the first hour (issue 14): scoped, readable tables and failures said plainly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kernel import SETUP, Kernel, started_kernel

from sinch_nb import svaml
from sinch_nb.functions.errors import CredentialsError, ServerError

MENU = svaml.menu("main").prompt("#tts[Press 1 for sales]").option("1", "return(sales)")


def ivr(sn: Any) -> None:
    sn.ice(lambda context, event: svaml.ice().say("Welcome").run_menu(MENU))
    sn.pie(lambda context, event: svaml.pie().say(f"You chose {event.menu_result.value}").hangup())


def test_explorer_and_workshop_traffic_is_journaled_but_hidden_from_the_tables(sn: Any) -> None:
    from sinch_nb.session import get_session

    ivr(sn)
    placed = sn.dial("+15551234567", "+15559876543", press=["1"])
    sn.explore()
    with get_session().making("workshop"):
        sn.dial("+15557654321", "+15559876543", press=["1"])
    calls = sn.calls()
    assert calls.index.tolist() == [placed.attrs["call_id"]]  # the one call the user placed
    everything = sn.callbacks(source="all")
    assert set(everything["source"].astype(str)) == {"local", "explorer", "workshop"}
    assert len(sn.calls(source="all")) > 2
    assert set(sn.callbacks(source="explorer")["source"].astype(str)) == {"explorer"}
    assert len(sn.calls(source="workshop")) == 1
    assert len(sn.callbacks()) == 3  # ICE, PIE, DiCE of the user's call


def test_a_network_request_cannot_claim_to_be_the_explorer(sn: Any) -> None:
    import httpx

    from sinch_nb.functions.origin import SIMULATED_HEADER

    ivr(sn)
    server = sn.start()
    body = b'{"event":"ice","callid":"forged","cli":"+1555","to":{"type":"number","endpoint":"+1"}}'
    httpx.post(f"{server.url}/ice", content=body, headers={SIMULATED_HEADER: "guess:explorer"})
    row = sn.callbacks(call_id="forged").iloc[-1]
    assert (str(row["source"]), bool(row["simulated"])) == ("local", False)


def test_tables_read_well_no_nan_short_ids_ms_and_fit_120_columns(sn: Any) -> None:
    ivr(sn)
    for press in (["1"], ["7"], []):
        sn.dial("+15551234567", "+15559876543", press=press)
    calls, callbacks = sn.calls(), sn.callbacks()
    with pd.option_context("display.width", 120, "display.max_columns", None):
        text, rows = repr(calls), repr(callbacks)
    assert max(len(line) for line in text.splitlines()) <= 120, text
    assert "nan" not in text.lower() and "<NA>" not in text and "None" not in text
    full_id = calls.index[0]
    assert re.search(rf"^{full_id[:8]}… ", text, re.M) and full_id not in text
    assert "nan" not in rows.lower() and "<NA>" not in rows
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3}\b", rows) and not re.search(r"\d\d:\d\d:\d\d\.\d{6}", rows)
    assert re.search(r"\b\d+\.\d ", rows)  # latency, one decimal
    markup = calls._repr_html_()
    assert f'title="{full_id}"' in markup and "text-align: left" in markup and "nan" not in markup.lower()
    assert callbacks["latency_ms"].dtype == float and callbacks["latency_ms"].iloc[0] != round(
        callbacks["latency_ms"].iloc[0], 1
    )  # the data stays exact; only the table rounds


def test_a_client_without_credentials_names_the_variables_and_the_secrets_command(sn: Any) -> None:
    import httpx
    from conftest import payload

    seen: dict[str, Any] = {}

    def ice(context: Any, event: Any) -> Any:
        seen["truthy"] = bool(context.voice)
        context.voice.tts_callout("+15551234567", "hi")
        return svaml.ice().hangup()

    sn.ice(ice)
    server = sn.start()
    httpx.post(f"{server.url}/ice", json=payload("voice-ice"))  # real traffic: no credentials in this folder
    error = sn.last_error()
    assert seen["truthy"] is False
    assert "CredentialsError" in error.traceback and "NoneType" not in error.error
    assert "VOICE_APPLICATION_KEY" in error.error and "%sinch secrets add VOICE_APPLICATION_KEY" in error.error
    from sinch_nb.functions.clients import MissingClient

    with pytest.raises(CredentialsError, match="PROJECT_ID_API_KEY"):
        MissingClient("conversation").messages  # noqa: B018
    sn.dial("+15551234567", "+15559876543")  # simulated traffic: the simulated platform's client, no error
    assert seen["truthy"] is True and "CredentialsError" in sn.last_error().traceback  # still the earlier one


def test_last_error_with_nothing_failed_says_so(sn: Any) -> None:
    assert not sn.last_error()
    assert "No callback has failed" in repr(sn.last_error())


def test_start_on_another_port_while_running_refuses_and_names_the_way(sn: Any) -> None:
    from conftest import free_port

    server = sn.start()
    other = free_port()
    with pytest.raises(ServerError, match=rf"already serves at {re.escape(server.url)}.*%sinch stop"):
        sn.start(port=other)
    assert sn.start().url == server.url  # the same port again is fine


def test_dial_after_stop_says_it_started_the_runtime_again(sn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ivr(sn)
    sn.start()
    sn.stop()
    capsys.readouterr()
    sn.dial("+15551234567", "+15559876543", press=["1"])
    assert re.search(r"runtime was not running; started it at http://127\.0\.0\.1:\d+", capsys.readouterr().out)


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    yield from started_kernel(tmp_path)


def test_a_handler_cell_that_does_not_compile_says_what_still_answers(kernel: Kernel) -> None:
    assert kernel.run('%%sinch ice\nreturn svaml.ice().say("one").hangup()').error is None
    shown = kernel.run('%%sinch ice\nx = 1\nreturn svaml.ice(.say("two")').stderr
    assert re.search(r"not changed: ice v1 \(cell \[\d+\]\) still answers\. SyntaxError in cell \[\d+\], line 2", shown)
    assert 'return svaml.ice(.say("two")' in shown
    assert "Traceback" not in shown and "magics.py" not in shown and "cells.py" not in shown  # no internal frames
    assert re.search(r"ice +v1 +cell", kernel.run("%sinch handlers").stdout)  # the old version still serves


def test_a_handler_cell_that_does_not_compile_stops_run_all(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cells = [SETUP, '%%sinch ice\nreturn svaml.ice(.say("two")', 'print("ran on")']
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(CellExecutionError, match="not changed: no ice handler is defined yet"):
        client.execute()
    assert not notebook.cells[2].get("outputs")


def test_the_monitor_shows_this_session_and_hides_explorer_traffic_unless_ticked(sn: Any) -> None:
    from sinch_nb.journal.record import Record
    from sinch_nb.session import get_session

    ivr(sn)
    journal = get_session().journal
    journal.append(Record(kind="ice", call_id="from-an-earlier-kernel", session="earlier0", outcome="ok", status=200))
    sn.dial("+15551234567", "+15559876543", press=["1"])
    sn.explore()
    monitor = sn.monitor()
    try:
        assert len(monitor.labels()) == 3  # ICE, PIE, DiCE of the user's call
        monitor.everything.value = True
        explored = len(monitor.labels())
        assert explored > 3
        monitor.history.value = True
        assert len(monitor.labels()) == explored + 1
    finally:
        monitor.close()


def test_the_dial_pad_says_when_the_app_failed_and_when_a_handler_is_missing(sn: Any) -> None:
    pad = sn.dialpad(timeout=60)
    pad.call_button.click()
    assert "the app failed: no ICE handler: define one with %%sinch ice or @sn.ice — sn.last_error()" in pad.text()
    sn.ice(lambda context, event: 1 / 0)
    pad.call_button.click()
    assert "the app failed: ZeroDivisionError: division by zero — sn.last_error()" in pad.text()
    assert "✗" in pad.transcript.value  # its own mark in the widget
    transcript = sn.dial("+15551234567", "+15559876543")
    assert transcript.attrs["failures"] == ["ZeroDivisionError: division by zero"]
