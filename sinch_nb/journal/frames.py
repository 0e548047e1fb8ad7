"""Journal tables that read well: the data stays raw, only what is shown is formatted.

``JournalFrame`` is a pandas DataFrame (every pandas operation works and keeps the
formatting) whose text and HTML reprs show blanks for missing values, latency in ms with
one decimal, call ids cut to 8 characters (the whole id on hover), local times to the
millisecond, long texts cut, everything left-aligned, failed rows tinted. pandas' own
``Styler`` builds the HTML; the text goes through pandas' repr, so width, row and column
limits are pandas' own (``pd.set_option("display.width", …)``).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .readable import blank, local_time, local_timestamp, short_id

__all__ = ["JournalFrame", "display_frame"]

#: Columns whose texts are cut in the table (the frame keeps them whole).
_CUT = {"kinds": 22, "menu_path": 14, "error": 40, "svaml_instructions": 30, "path": 24, "warnings": 30, "stream": 40}
_ID_COLUMNS = ("call_id",)
_FAILED = ("fallback", "error", "rejected", "interrupted")


class JournalFrame(pd.DataFrame):
    """A DataFrame of journal rows that shows itself readably (see the module docstring)."""

    @property
    def _constructor(self) -> type[JournalFrame]:
        return JournalFrame

    def __repr__(self) -> str:
        return repr(display_frame(self, html_ids=False))

    def _repr_html_(self) -> str | None:
        limit = int(pd.get_option("display.max_rows") or 60)
        shown = self if len(self) <= limit else pd.concat([self.head(limit // 2), self.tail(limit // 2)])
        table = display_frame(shown, html_ids=True)
        failed = [str(v) in _FAILED for v in shown["outcome"]] if "outcome" in shown else [False] * len(shown)

        def tint(data: pd.DataFrame) -> pd.DataFrame:
            colour = ["background-color: #ffebe9" if bad else "" for bad in failed]
            return pd.DataFrame(dict.fromkeys(data.columns, colour), index=data.index)

        styler = table.style.apply(tint, axis=None).set_table_styles(
            [{"selector": "td, th", "props": "text-align: left; white-space: nowrap"}]
        )
        caption = "" if shown is self else f"<p>{len(self):,} rows; the first and last {limit // 2} shown</p>"
        return str(styler.to_html()) + caption


def _when(value: Any, with_date: bool) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    seconds = pd.Timestamp(value).timestamp()
    return local_timestamp(seconds)[:23] if with_date else local_time(seconds)


def _text(value: Any, cut: int | None = None) -> str:
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    text = blank(value).replace("\n", " ")
    return text if cut is None or len(text) <= cut else text[: cut - 1] + "…"


def display_frame(frame: pd.DataFrame, *, html_ids: bool) -> pd.DataFrame:
    """``frame`` as the strings a reader sees; ``html_ids`` escapes and puts the whole call id in a title."""
    shown = pd.DataFrame(index=frame.index.copy())
    headers = []
    times = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    days = {t.date() for c in times for t in frame[c].dropna()}
    for name in frame.columns:
        column = frame[name]
        if name in times:
            values = [_when(v, len(days) > 1) for v in column]
        elif name == "latency_ms":
            values = ["" if pd.isna(v) else f"{float(v):.1f}" for v in column]
        elif name in _ID_COLUMNS:
            values = [short_id(_text(v)) for v in column]
        else:
            values = [_text(v, _CUT.get(str(name))) for v in column]
        if html_ids:
            whole = [_text(v) for v in column]
            values = [
                f'<span title="{html.escape(w)}">{html.escape(v)}</span>'
                if name in _ID_COLUMNS and w
                else html.escape(v)
                for v, w in zip(values, whole, strict=True)
            ]
        else:
            # Left-aligned: values and header padded to one width, which pandas' right alignment leaves alone.
            width = max([len(v) for v in values] + [len(str(name))])
            values = [v.ljust(width) for v in values]
        headers.append(str(name) if html_ids else str(name).ljust(width))
        shown[headers[-1]] = values
    is_id = frame.index.name in _ID_COLUMNS
    labels = [short_id(_text(v)) if is_id else _text(v) for v in frame.index]
    if html_ids:
        labels = [
            f'<span title="{html.escape(_text(v))}">{html.escape(label)}</span>' if is_id else html.escape(label)
            for v, label in zip(frame.index, labels, strict=True)
        ]
    shown.index = pd.Index(labels, name=frame.index.name)
    return shown
