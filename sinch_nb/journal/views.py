"""DataFrame views over the journal: ``callbacks()`` one row per request, ``calls()`` one per call.

pandas loads on first use, never at ``import sinch_nb``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .store import Journal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["callbacks_frame", "calls_frame"]

#: The large columns: read only when asked for (``bodies=True``) or per record (``Journal.get``).
BODY_COLUMNS = ("request_headers", "request_body", "response_body", "traceback", "logs")

_CATEGORIES = ("kind", "method", "outcome", "source", "signature", "session", "menu_result_type", "reason", "result")


def callbacks_frame(
    journal: Journal, kind: str | None = None, call_id: str | None = None, *, bodies: bool = False
) -> pd.DataFrame:
    """Every journaled request, typed: ``time`` as UTC datetimes, labels as categories.

    Headers, bodies, tracebacks and logs come with ``bodies=True``.
    """
    import pandas as pd

    from .store import COLUMNS

    clauses, params = [], []
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind.lower())
    if call_id is not None:
        clauses.append("call_id = ?")
        params.append(call_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = ", ".join(name for name in COLUMNS if bodies or name not in BODY_COLUMNS)
    frame = _read(journal, f"SELECT {columns} FROM callbacks {where} ORDER BY id", params)
    frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True).dt.round("us")
    for name in _CATEGORIES:
        frame[name] = frame[name].astype("category")
    for name in ("status", "handler_version", "duration", "replay_of"):
        frame[name] = frame[name].astype("Int64")
    frame["simulated"] = frame["simulated"].fillna(0).astype(bool)
    frame["latency_ms"] = frame["latency_ms"].astype(float)
    return frame.set_index("id")


def _read(journal: Journal, sql: str, params: list[str]) -> pd.DataFrame:
    """Run ``sql`` through Arrow (ADBC): several times faster than row-by-row sqlite3 for big journals."""
    import adbc_driver_sqlite.dbapi as adbc

    journal.flush()
    with adbc.connect(str(journal.path)) as connection, connection.cursor() as cursor:
        # Type inference reads the first batch only; one batch for the whole result keeps a
        # column that is NULL for the first thousand rows from failing later.
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(journal.count() + 1)})
        cursor.execute(sql, params or None)
        frame: pd.DataFrame = cursor.fetch_arrow_table().to_pandas()
    return frame


def _joined(values: Any) -> str:
    return " → ".join(str(v) for v in values if isinstance(v, str) and v)


def calls_frame(journal: Journal) -> pd.DataFrame:
    """One row per call id: first and last seen, kinds in order, menu path, DiCE reason and result."""
    import pandas as pd

    frame = callbacks_frame(journal)
    frame = frame[frame["call_id"].notna()]
    columns = ["call_id", "first_seen", "last_seen", "callbacks", "kinds", "menu_path", "reason", "result", "errors"]
    if frame.empty:
        return pd.DataFrame(columns=columns).set_index("call_id")
    frame = frame.assign(
        menu_step=frame["menu_result_value"].where(frame["kind"] == "pie"),
        is_error=frame["outcome"].isin(["error", "fallback", "rejected"]),
        kind_text=frame["kind"].astype(str),
    )
    dice = frame[frame["kind"] == "dice"].groupby("call_id", observed=True)[["reason", "result"]].last()
    grouped = frame.groupby("call_id", sort=False, observed=True)
    summary = pd.DataFrame(
        {
            "first_seen": grouped["time"].min(),
            "last_seen": grouped["time"].max(),
            "callbacks": grouped.size(),
            "kinds": grouped["kind_text"].agg(_joined),
            "menu_path": grouped["menu_step"].agg(_joined),
            "errors": grouped["is_error"].sum().astype(int),
            "simulated": grouped["simulated"].all(),
        }
    )
    summary = summary.join(dice.astype(object), how="left")
    summary.index.name = "call_id"
    return summary[
        ["first_seen", "last_seen", "callbacks", "kinds", "menu_path", "reason", "result", "errors", "simulated"]
    ]


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
