"""DataFrame views over the journal: ``callbacks()`` one row per request, ``calls()`` one per call.

pandas loads on first use, never at ``import sinch_nb``.
"""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING, Any

from .store import Journal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["callbacks_frame", "calls_frame", "scope"]

#: The large columns: read only when asked for (``bodies=True``) or per record (``Journal.get``).
BODY_COLUMNS = ("request_headers", "request_body", "response_body", "traceback", "logs")

_CATEGORIES = ("kind", "method", "outcome", "source", "signature", "session", "menu_result_type", "reason", "result")


#: The columns a reader looks at first; the rest follow in the journal's order.
_FIRST = ("time", "kind", "call_id", "cli", "svaml_action", "status", "latency_ms", "outcome", "error")


def callbacks_frame(
    journal: Journal,
    kind: str | None = None,
    call_id: str | None = None,
    *,
    bodies: bool = False,
    session: str | None = None,
    hide: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Every journaled request, typed: ``time`` as UTC datetimes, labels as categories.

    Headers, bodies, tracebacks and logs come with ``bodies=True``; ``session`` keeps one
    journal session's rows, ``hide`` drops rows of those sources. The frame is a
    ``JournalFrame``: raw data, shown readably.
    """
    import pandas as pd

    from .frames import JournalFrame
    from .store import COLUMNS

    clauses, params = scope(session, hide)
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind.lower())
    if call_id is not None:
        clauses.append("call_id = ?")
        params.append(call_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = [name for name in COLUMNS if bodies or name not in BODY_COLUMNS]
    columns = ["id", *_FIRST, *(name for name in columns if name not in _FIRST and name != "id")]
    frame = _read(journal, columns, where, params)
    frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True).dt.round("us")
    for name in _CATEGORIES:
        frame[name] = frame[name].astype("category")
    for name in ("status", "handler_version", "duration", "replay_of"):
        frame[name] = frame[name].astype("Int64")
    frame["simulated"] = frame["simulated"].fillna(0).astype(bool)
    frame["latency_ms"] = frame["latency_ms"].astype(float)
    return JournalFrame(frame.set_index("id"))


def scope(session: str | None, hide: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    """SQL clauses for one session's rows without the hidden sources."""
    clauses: list[str] = []
    params: list[Any] = []
    if session is not None:
        clauses.append("session = ?")
        params.append(session)
    if hide:
        clauses.append(f"(source IS NULL OR source NOT IN ({', '.join('?' * len(hide))}))")
        params.extend(hide)
    return clauses, params


def _read(journal: Journal, columns: list[str], where: str, params: list[str]) -> pd.DataFrame:
    """The selected rows as a frame, built column by column.

    SQLite hands each column over as one JSON array (``json_group_array``), which is several
    times faster than a Python tuple per row; Arrow turns the arrays into the frame. Only
    Python's own sqlite3 touches the file: a second SQLite library in this process (an ADBC
    driver, say) would break the writer's locks and can corrupt the journal.
    """
    import json

    import pyarrow as pa

    journal.flush()
    arrays = ", ".join(f"json_group_array({name})" for name in columns)
    sql = f"SELECT {arrays} FROM (SELECT {', '.join(columns)} FROM callbacks {where} ORDER BY id)"
    with closing(journal.connect()) as db:
        row = db.execute(sql, params).fetchone()
    data = {name: pa.array(json.loads(values)) for name, values in zip(columns, row, strict=True)}
    frame: pd.DataFrame = pa.table(data).to_pandas()
    return frame


def _joined(values: Any) -> str:
    return " → ".join(str(v) for v in values if isinstance(v, str) and v)


def calls_frame(journal: Journal, *, session: str | None = None, hide: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per call id: when it started, seconds from first to last callback, kinds in order, menu path, its end.

    The end is the DiCE's reason and result (v1), or ``call.hangup``'s / ``call.failed``'s (v2).

    Narrow on purpose: the table fits 120 columns of a terminal (``tests/test_journal.py``).
    """
    import pandas as pd

    from .frames import JournalFrame

    frame = callbacks_frame(journal, session=session, hide=hide)
    frame = frame[frame["call_id"].notna()]
    columns = ["call_id", "first_seen", "seconds", "callbacks", "kinds", "menu_path", "reason", "result", "errors"]
    if frame.empty:
        return JournalFrame(pd.DataFrame(columns=columns).set_index("call_id"))
    kind_text = frame["kind"].astype(str)
    v2 = kind_text.str.startswith("call.")  # Voice API v2: the menu input comes with call.menu and call.webhook.*
    frame = frame.assign(
        menu_step=frame["menu_result_value"].where((kind_text == "pie") | v2),
        is_error=frame["outcome"].isin(["error", "fallback", "rejected"]),
        kind_text=kind_text,
    )
    ended = kind_text.isin(["dice", "call.hangup", "call.failed"])  # the end of a v1 or a v2 call
    dice = frame[ended].groupby("call_id", observed=True)[["reason", "result"]].last()
    grouped = frame.groupby("call_id", sort=False, observed=True)
    summary = pd.DataFrame(
        {
            "first_seen": grouped["time"].min(),
            "seconds": (grouped["time"].max() - grouped["time"].min()).dt.total_seconds().round(1),
            "callbacks": grouped.size(),
            "kinds": grouped["kind_text"].agg(_joined),
            "menu_path": grouped["menu_step"].agg(_joined),
            "errors": grouped["is_error"].sum().astype(int),
        }
    )
    summary = summary.join(dice.astype(object), how="left")
    summary.index.name = "call_id"
    return JournalFrame(
        summary[["first_seen", "seconds", "callbacks", "kinds", "menu_path", "reason", "result", "errors"]]
    )


def styled(frame: pd.DataFrame) -> Any:
    """A callbacks frame for reading: failed rows tinted, latency in ms, times to the millisecond."""

    def tint(row: pd.Series) -> list[str]:
        failed = str(row.get("outcome")) in ("fallback", "error", "rejected") or (row.get("status") or 0) >= 400
        return ["background-color: #ffebe9" if failed else ""] * len(row)

    formats: dict[str, Any] = {
        "latency_ms": "{:.1f} ms",
        "time": lambda t: t.strftime("%H:%M:%S.%f")[:-3] if t is not None else "",
    }
    return frame.style.apply(tint, axis=1).format({k: v for k, v in formats.items() if k in frame}, na_rep="")
