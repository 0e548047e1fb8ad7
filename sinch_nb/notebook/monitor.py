"""``sn.monitor()``: the live callback monitor. Rows as they arrive, filters, details, replay, diff.

It reads the journal, never the server thread: a poller notices new commits and redraws one
page (50 rows), so ten thousand callbacks cost what fifty do. The rows are a table widget of
our own (``table.py``, an anywidget): a click on a header sorts, in SQLite over the whole
journal so paging follows the sort; a click on a row selects it and shows its detail. anywidget
rather than ipydatagrid because the page is already read, sorted and formatted in Python and
needs only an HTML table that reports clicks back (hover titles, text a test can read, no build
step, its JupyterLab extension in the wheel); ipydatagrid paints a canvas and sorts only what
it was sent, one page.
"""

from __future__ import annotations

import html
import json
import shlex
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..functions.origin import SOURCES
from ..journal import readable
from ..runtime.replay import diff, replay
from ..runtime.session import Session
from .following import follow_journal
from .monitor_rows import COLUMNS, PAGE, Filters, origin, read_page, table_row
from .table import Table

__all__ = ["Monitor"]

KINDS = ("all", "ice", "ace", "pie", "dice", "notify", "conversation", "http", "voice", "health")


def _pretty(text: Any) -> str:
    """JSON text indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except (TypeError, ValueError):
        return str(text)


class Monitor:
    """The widget and its poller; ``close()`` stops both."""

    def __init__(self, session: Session, *, poll: float = 0.25, live: bool = True) -> None:
        self.session = session
        self.page = 0
        self.kind = widgets.Dropdown(
            options=KINDS, value="all", description="Kind", layout=widgets.Layout(width="200px")
        )
        self.call_id = widgets.Text(placeholder="call id", description="Call", layout=widgets.Layout(width="300px"))
        self.errors_only = widgets.Checkbox(False, description="errors only")
        #: Earlier kernel sessions' callbacks, and what the explorer and workshop checks made (hidden by default).
        self.history = widgets.Checkbox(False, description="history")
        self.everything = widgets.Checkbox(False, description="explorer, checks")
        #: The rows: a click sets ``table.sort`` (a column key, ``-key`` descending) or ``table.selected`` (an id).
        self.table = Table(columns=[column for column, _ in COLUMNS], sort="-id", empty="no callbacks yet")
        self.table.add_class("sinch-nb-rows")
        self.count = widgets.HTML()
        self.previous = widgets.Button(description="◀ newer", layout=widgets.Layout(width="90px"))
        self.next = widgets.Button(description="older ▶", layout=widgets.Layout(width="90px"))
        self.detail = widgets.HTML()
        self.timeline = widgets.HTML()
        self.result = widgets.HTML()
        self.editor = widgets.Textarea(layout=widgets.Layout(width="100%", height="160px", display="none"))
        self.buttons = {
            name: widgets.Button(description=name, layout=widgets.Layout(width="130px"))
            for name in ("Replay", "Edit and replay", "Send edited", "Diff", "Copy as curl", "Save as fixture")
        }
        self.buttons["Send edited"].layout.display = "none"
        for control in (self.kind, self.call_id, self.errors_only, self.history, self.everything):
            control.observe(lambda _: self._first_page(), names="value")
        self.table.observe(lambda _: self._first_page(), names="sort")
        self.table.observe(lambda change: self.show(change["new"]), names="selected")
        self.previous.on_click(lambda _: self._turn(-1))
        self.next.on_click(lambda _: self._turn(1))
        self.buttons["Replay"].on_click(lambda _: self._replay())
        self.buttons["Edit and replay"].on_click(lambda _: self._edit())
        self.buttons["Send edited"].on_click(lambda _: self._send_edited())
        self.buttons["Diff"].on_click(lambda _: self._diff())
        self.buttons["Copy as curl"].on_click(lambda _: self._curl())
        self.buttons["Save as fixture"].on_click(lambda _: self._save())
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.kind, self.call_id, self.errors_only, self.history, self.everything]),
                self.table,
                widgets.HBox([self.previous, self.next, self.count]),
                widgets.HBox(list(self.buttons.values())),
                self.editor,
                self.result,
                self.detail,
                self.timeline,
            ]
        )
        self.widget.add_class("sinch-nb-monitor")
        self._stop = threading.Event()
        self.refresh()
        if live:
            follow_journal(session, self.refresh, self._stop, interval=poll, name="sinch_nb-monitor")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Frontends without widgets (nbconvert, terminal IPython) get the same rows as text and HTML.
        text = "\n".join(self.table.text()) if self.table.rows else self.table.empty
        fallback = {"text/plain": text, "text/html": self.table.html()}
        return {**(self.widget._repr_mimebundle_(**kwargs) or {}), **fallback}

    def close(self) -> None:
        """Stop following the journal and close the widgets."""
        self._stop.set()
        self.widget.close()

    # Data -----------------------------------------------------------------

    def filters(self) -> Filters:
        """What the filter controls ask for."""
        return Filters(
            kind=self.kind.value,
            call_id=self.call_id.value,
            errors_only=self.errors_only.value,
            session=None if self.history.value else self.session.journal.session,
            hide=() if self.everything.value else SOURCES,
        )

    def refresh(self) -> None:
        """Redraw the current page from the journal, in the table's sort order."""
        total, rows = read_page(self.session.journal, self.filters(), self.table.sort, self.page)
        self.table.rows = [dict(table_row(row)) for row in rows]
        pages = max(1, -(-total // PAGE))
        self.count.value = f"{total} callbacks · page {self.page + 1} of {pages}"
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page + 1 >= pages

    def labels(self) -> list[str]:
        """The rows on the current page, as shown, one line of text each."""
        return self.table.text()[1:]

    def _first_page(self) -> None:
        self.page = 0
        self.refresh()

    def _turn(self, step: int) -> None:
        self.page = max(0, self.page + step)
        self.refresh()

    # Detail ---------------------------------------------------------------

    def show(self, record_id: int | None) -> None:
        """Show one record: request, answer, handler version, error; and its call's timeline."""
        if record_id is None:
            return
        row = self.session.journal.get(record_id)
        if row is None:
            return

        def block(title: str, text: Any) -> str:
            if not text:
                return ""
            return f"<b>{title}</b><pre style='white-space:pre-wrap;margin:0 0 6px'>{html.escape(_pretty(text))}</pre>"

        blank = readable.blank
        facts = [
            f"call {html.escape(blank(row['call_id']))}" if row["call_id"] else "",
            readable.local_timestamp(row["time"]),
            readable.latency(row["latency_ms"]),
            f"signature {html.escape(blank(row['signature']))}" if row["signature"] else "",
            html.escape(origin(row)),
        ]
        self.detail.value = "".join(
            [
                f"<h4 style='margin:4px 0'>{html.escape(self._title(row))}</h4>",
                f"<div style='margin:0 0 6px'>{' · '.join(fact for fact in facts if fact)}</div>",
                block("Request headers", row["request_headers"]),
                block("Request body", row["request_body"]),
                block("Answer", row["response_body"]),
                block("Error", row["error"]),
                block("Traceback", row["traceback"]),
                block("Warnings", row["warnings"]),
                block("Logs", row["logs"]),
            ]
        )
        self.timeline.value = self._timeline(row["call_id"])

    @staticmethod
    def _title(row: dict[str, Any]) -> str:
        """``#3 POST /ice → 200 (ok) · cell [2]``, leaving out what the record lacks."""
        blank = readable.blank
        title = f"#{row['id']} {blank(row['method'])} {blank(row['path'])} → {blank(row['status'])}"
        title += f" ({row['outcome']})" if row["outcome"] else ""
        return title + (f" · {row['handler']}" if row["handler"] else "")

    def _timeline(self, call_id: str | None) -> str:
        if not call_id:
            return ""
        steps = [
            f"{r['kind'].upper()}{' (' + r['menu_result_value'] + ')' if r['menu_result_value'] else ''}"
            f"{' → ' + r['svaml_action'] if r['svaml_action'] else ''}"
            for r in self.session.journal.rows("WHERE call_id = ?", (call_id,))
        ]
        return f"<b>Call {html.escape(call_id)}</b>: " + html.escape("  ⟶  ".join(steps))

    # Buttons --------------------------------------------------------------

    def _selected(self) -> int | None:
        if self.table.selected is None:
            self.result.value = "<i>select a callback first</i>"
        return self.table.selected

    def _replay(self) -> None:
        record_id = self._selected()
        if record_id is not None:
            done = replay(self.session, record_id)
            self.result.value = f"<pre>{html.escape(repr(done))}</pre>"

    def _edit(self) -> None:
        record_id = self._selected()
        if record_id is None:
            return
        row = self.session.journal.get(record_id) or {}
        self.editor.value = _pretty(row.get("request_body") or "")
        self.editor.layout.display = "block"
        self.buttons["Send edited"].layout.display = "inline-flex"

    def _send_edited(self) -> None:
        record_id = self._selected()
        if record_id is not None:
            done = replay(self.session, record_id, body=self.editor.value)
            self.result.value = f"<pre>{html.escape(repr(done))}</pre>"

    def _diff(self) -> None:
        record_id = self._selected()
        if record_id is not None:
            self.result.value = diff(self.session, record_id)._repr_html_()

    def curl(self, record_id: int) -> str:
        """The request of ``record_id`` as a curl command against the running runtime (credentials left out)."""
        row = self.session.journal.get(record_id) or {}
        server = self.session.server
        base = server.url if server is not None and server.running else "http://127.0.0.1:PORT"
        headers = json.loads(row.get("request_headers") or "{}")
        content_type = headers.get("content-type", "application/json")
        return (
            f"curl -X {row.get('method', 'POST')} {shlex.quote(base + str(row.get('path', '/')))} "
            f"-H {shlex.quote('content-type: ' + content_type)} --data-raw {shlex.quote(row.get('request_body') or '')}"
        )

    def _curl(self) -> None:
        record_id = self._selected()
        if record_id is not None:
            self.result.value = f"<pre style='white-space:pre-wrap'>{html.escape(self.curl(record_id))}</pre>"

    def save_fixture(self, record_id: int) -> Path:
        """Write the request body of ``record_id`` to ``fixtures/<kind>-<id>.json``."""
        row = self.session.journal.get(record_id) or {}
        folder = self.session.settings.base_dir / "fixtures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row.get('kind') or 'callback'}-{record_id}.json"
        path.write_text(_pretty(row.get("request_body") or "") + "\n")
        return path

    def _save(self) -> None:
        record_id = self._selected()
        if record_id is not None:
            self.result.value = f"saved <code>{html.escape(str(self.save_fixture(record_id)))}</code>"
