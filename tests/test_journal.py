"""The SQLite journal and its DataFrame views."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from sinch_nb.journal import Journal, mask_headers
from sinch_nb.journal.views import callbacks_frame, calls_frame


def record(kind: str, call_id: str, **extra: object) -> dict[str, object]:
    return {"time": time.time(), "method": "POST", "path": f"/{kind}", "kind": kind, "call_id": call_id, **extra}


def test_records_survive_reopening_and_ids_continue(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    first = Journal(path)
    assert first.append(record("ice", "c1")) == 1
    first.close()
    again = Journal(path)
    assert again.append(record("dice", "c1")) == 2
    assert [row["kind"] for row in again.rows()] == ["ice", "dice"]
    assert again.session != first.session
    again.close()


def test_unknown_columns_are_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    with pytest.raises(KeyError, match="no column colour"):
        journal.append({"colour": "red"})
    journal.close()


def test_memory_is_bounded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db", recent=10)
    for n in range(50):
        journal.append(record("ice", f"c{n}"))
    assert len(journal.recent) == 10
    assert journal.count() == 50
    journal.close()


def test_an_older_journal_gains_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE callbacks (id INTEGER PRIMARY KEY, time REAL, kind TEXT)")
        db.execute("INSERT INTO callbacks VALUES (7, 1.0, 'ice')")
    journal = Journal(path)
    assert journal.append(record("pie", "c", menu_result_value="1")) == 8
    assert [row["menu_result_value"] for row in journal.rows()] == [None, "1"]
    journal.close()


def test_authorization_type_headers_are_masked() -> None:
    masked = mask_headers(
        {
            "Authorization": "Application 669E:Tg6fMyo8mj9=",
            "x-sinch-webhook-signature": "abc=",
            "Cookie": "s=1",
            "x-timestamp": "2014-09-24T10:59:41Z",
        }
    )
    assert masked == {
        "Authorization": "Application ***",
        "x-sinch-webhook-signature": "***",
        "Cookie": "***",
        "x-timestamp": "2014-09-24T10:59:41Z",
    }


def test_masking_happens_inside_append(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    journal.append(record("ice", "c", request_headers={"authorization": "Basic dXNlcjpwYXNz"}))
    (row,) = journal.rows()
    assert json.loads(row["request_headers"]) == {"authorization": "Basic ***"}
    journal.close()


def test_callbacks_frame_is_typed_and_filterable(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    journal.append(record("ice", "c1", status=200, latency_ms=1.5, simulated=1))
    journal.append(record("pie", "c1", status=200, menu_result_type="return", menu_result_value="sales"))
    journal.append(record("ice", "c2", status=400, outcome="rejected"))
    frame = callbacks_frame(journal)
    assert list(frame.index) == [1, 2, 3]
    assert isinstance(frame["time"].dtype, pd.DatetimeTZDtype)
    assert isinstance(frame["kind"].dtype, pd.CategoricalDtype)
    assert str(frame["status"].dtype) == "Int64"
    assert frame["simulated"].tolist() == [True, False, False]
    assert list(callbacks_frame(journal, kind="ICE").index) == [1, 3]
    assert list(callbacks_frame(journal, call_id="c1").index) == [1, 2]
    journal.close()


def test_calls_frame_folds_each_call(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    start = time.time()
    journal.append(record("ice", "c1", time=start))
    journal.append(record("pie", "c1", time=start + 1, menu_result_type="return", menu_result_value="sales"))
    journal.append(record("pie", "c1", time=start + 2, menu_result_type="sequence", menu_result_value="1234"))
    journal.append(record("dice", "c1", time=start + 3, reason="CALLERHANGUP", result="ANSWERED"))
    journal.append(record("ice", "c2", time=start + 4, outcome="fallback"))
    calls = calls_frame(journal)
    one = calls.loc["c1"]
    assert one["kinds"] == "ice → pie → pie → dice"
    assert one["menu_path"] == "sales → 1234"
    assert (one["reason"], one["result"], one["callbacks"], one["errors"]) == ("CALLERHANGUP", "ANSWERED", 4, 0)
    assert one["seconds"] == pytest.approx(3, abs=0.05)
    assert calls.loc["c2"]["errors"] == 1 and pd.isna(calls.loc["c2"]["reason"])
    journal.close()


def test_empty_journal_views(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    assert callbacks_frame(journal).empty
    assert calls_frame(journal).empty
    journal.close()


def test_styled_frame_tints_failures(tmp_path: Path) -> None:
    from sinch_nb.journal.views import styled

    journal = Journal(tmp_path / "j.db")
    journal.append(record("ice", "c1", status=200, outcome="ok", latency_ms=1.25))
    journal.append(record("ice", "c2", status=200, outcome="fallback", latency_ms=2.0))
    styler = styled(callbacks_frame(journal))
    html = styler.to_html()
    tinted = {row for (row, _), css in styler._compute().ctx.items() if ("background-color", "#ffebe9") in css}
    assert tinted == {1}  # the fallback row only
    assert "1.2 ms" in html
    journal.close()


def test_the_pending_log_keeps_every_uncommitted_entry_and_reuses_only_committed_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinch_nb.journal import pending

    monkeypatch.setattr(pending, "SIZE", 2048)
    monkeypatch.setattr(pending, "HALF", 1024)
    log = pending.PendingLog(tmp_path, "dead")
    columns, answer = ["id", "outcome", "note"], ["id", "outcome"]
    for sequence in range(1, 41):  # nothing committed: the halves fill, then the overflow file takes the rest
        log.write((sequence, "running", "x" * 40), sequence)
    assert log.overflow_path.stat().st_size > 0
    log.committed = 20  # the writer has caught up with the first half only: the overflow must stay
    log.write((41, "running", "x" * 40), 41)
    assert log.overflow_path.stat().st_size > 0
    log.write((1, "ok"), 42)  # an answer, newer than its arrival
    log.close(remove=False)
    rows, files = pending.recover(tmp_path, lambda session: False, columns, answer)
    assert [row["id"] for row in rows] == list(range(1, 42)), "no uncommitted entry lost"
    assert rows[0]["outcome"] == "ok", "the newest state of a record wins"
    assert files == [log.path, log.overflow_path]

    again = pending.PendingLog(tmp_path, "alive")
    for sequence in range(1, 41):
        again.write((sequence, "running", "x" * 40), sequence)
    again.committed = 40  # everything committed: space is reused and the overflow emptied
    again.write((41, "running", "x" * 40), 41)
    assert again.overflow_path.stat().st_size == 0
    again.close(remove=True)
