"""A sortable table with one selectable row, as an anywidget: the browser draws, Python decides.

Why anywidget and not ipydatagrid: the monitor shows one page of 50 rows that Python has already
read, sorted and formatted, so what it needs from the browser is a plain HTML table that reports
two things back, a header click (``sort``) and a row click (``selected``). anywidget does that
with the sixty lines of ES module inlined here and no build step; its wheel carries its
JupyterLab / Notebook 7 extension, so it works offline and on Binder. ipydatagrid paints its
cells on a canvas (a Lumino DataGrid: no DOM text for a hover title or for a browser test to
read) and sorts and filters in the browser, over the rows it was sent, which for a paged journal
would sort only the page; it is a spreadsheet-sized dependency for a 50-row list.

The Python side is plain traits, so tests drive it without a browser: set ``sort`` or
``selected`` as a click would. ``text()`` and ``html()`` render the same rows where widgets
cannot (nbconvert, terminal IPython).
"""

from __future__ import annotations

import html as html_module
from typing import Any, TypedDict

import anywidget
import traitlets

__all__ = ["Column", "Row", "Table"]


class Column(TypedDict):
    """A column: the ``key`` ``sort`` names, the header ``label``, and ``align`` (left, or right for numbers)."""

    key: str
    label: str
    align: str


class Row(TypedDict):
    """A row: its ``id`` (what ``selected`` holds), its cells' text, and each cell's hover title ("" for none)."""

    id: int
    cells: list[str]
    titles: list[str]


_ESM = """
function render({ model, el }) {
  const wrap = document.createElement("div");
  wrap.className = "sinch-nb-table";
  const table = document.createElement("table");
  wrap.append(table);
  el.append(wrap);
  const send = (name, value) => { model.set(name, value); model.save_changes(); };
  const mark = () => {
    const selected = model.get("selected");
    for (const tr of table.querySelectorAll("tbody tr[data-id]")) {
      tr.setAttribute("aria-selected", String(Number(tr.dataset.id) === selected));
    }
  };
  const draw = () => {
    const columns = model.get("columns"), rows = model.get("rows"), sort = model.get("sort");
    const key = sort.replace(/^-/, ""), descending = sort.startsWith("-");
    const focused = table.contains(document.activeElement) ? document.activeElement.dataset.id : undefined;
    const head = document.createElement("thead"), header = head.insertRow();
    for (const column of columns) {
      const th = document.createElement("th"), button = document.createElement("button");
      th.className = column.align;
      button.type = "button";
      button.textContent = column.label;
      if (column.key === key) {
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        button.textContent += descending ? " ▼" : " ▲";
      }
      button.addEventListener("click", () => send("sort", sort === column.key ? "-" + column.key : column.key));
      th.append(button);
      header.append(th);
    }
    const body = document.createElement("tbody");
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.id = row.id;
      tr.tabIndex = 0;
      row.cells.forEach((text, i) => {
        const td = tr.insertCell();
        td.textContent = text;
        td.className = columns[i].align;
        if (row.titles[i]) td.title = row.titles[i];
      });
    }
    if (!rows.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = columns.length;
      td.className = "empty";
      td.textContent = model.get("empty");
    }
    table.replaceChildren(head, body);
    mark();
    if (focused !== undefined) table.querySelector(`tbody tr[data-id="${focused}"]`)?.focus();
  };
  table.addEventListener("click", (event) => {
    const tr = event.target.closest("tbody tr[data-id]");
    if (tr) send("selected", Number(tr.dataset.id));
  });
  table.addEventListener("keydown", (event) => {
    const tr = event.target.closest("tbody tr[data-id]");
    if (!tr) return;
    const next = { ArrowDown: tr.nextElementSibling, ArrowUp: tr.previousElementSibling }[event.key];
    const target = next?.dataset.id ? next : ["Enter", " "].includes(event.key) ? tr : null;
    if (!target) return;
    target.focus();
    send("selected", Number(target.dataset.id));
    event.preventDefault();
  });
  const names = ["change:columns", "change:rows", "change:sort", "change:empty"];
  for (const name of names) model.on(name, draw);
  model.on("change:selected", mark);
  draw();
  return () => { for (const name of names) model.off(name, draw); model.off("change:selected", mark); };
}
export default { render };
"""

_CSS = """
.sinch-nb-table { max-height: 420px; overflow: auto; border: 1px solid var(--jp-border-color2, #ddd); }
.sinch-nb-table table { border-collapse: collapse; width: 100%; font-size: var(--jp-ui-font-size1, 13px);
  font-variant-numeric: tabular-nums; }
.sinch-nb-table th, .sinch-nb-table td { padding: 2px 8px; text-align: left; white-space: nowrap; }
.sinch-nb-table .right { text-align: right; }
.sinch-nb-table thead th { position: sticky; top: 0; background: var(--jp-layout-color2, #f3f3f3);
  border-bottom: 1px solid var(--jp-border-color1, #bbb); }
.sinch-nb-table th button { all: unset; cursor: pointer; font-weight: 600; }
.sinch-nb-table th button:focus-visible, .sinch-nb-table tr:focus-visible {
  outline: 2px solid var(--jp-brand-color1, #1976d2); outline-offset: -2px; }
.sinch-nb-table tbody tr { cursor: pointer; }
.sinch-nb-table tbody tr:hover { background: var(--jp-layout-color2, #f3f3f3); }
.sinch-nb-table tbody tr[aria-selected="true"] { background: var(--jp-brand-color3, #bbdefb); }
.sinch-nb-table td.empty { color: var(--jp-ui-font-color2, #777); font-style: italic; cursor: default; }
"""


class Table(anywidget.AnyWidget):
    """Rows with sortable headers and one selected row; ``sort`` is a column key, ``-key`` for descending."""

    _esm = _ESM
    _css = _CSS

    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    sort = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Int(None, allow_none=True).tag(sync=True)
    empty = traitlets.Unicode("no rows").tag(sync=True)

    @traitlets.validate("sort")
    def _known_column(self, proposal: dict[str, Any]) -> str:
        sort = str(proposal["value"])
        keys = [column["key"] for column in self.columns]
        if sort and sort.removeprefix("-") not in keys:
            raise traitlets.TraitError(f"no column {sort.removeprefix('-')!r} to sort by; the columns are {keys}")
        return sort

    def text(self) -> list[str]:
        """The header and the rows as lines of aligned plain text."""
        lines = [[column["label"] for column in self.columns], *(row["cells"] for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(self.columns))]
        right = [column["align"] == "right" for column in self.columns]
        return [
            "  ".join(
                cell.rjust(width) if is_right else cell.ljust(width)
                for cell, width, is_right in zip(line, widths, right, strict=True)
            ).rstrip()
            for line in lines
        ]

    def html(self) -> str:
        """The same table as static HTML, hover titles included."""

        def cell(tag: str, text: str, align: str, title: str = "") -> str:
            hover = f' title="{html_module.escape(title)}"' if title else ""
            return f'<{tag} style="text-align:{align}"{hover}>{html_module.escape(text)}</{tag}>'

        aligns = [column["align"] for column in self.columns]
        head = "".join(cell("th", column["label"], column["align"]) for column in self.columns)
        body = "".join(
            "<tr>"
            + "".join(cell("td", *values) for values in zip(row["cells"], aligns, row["titles"], strict=True))
            + "</tr>"
            for row in self.rows
        )
        if not self.rows:
            body = f'<tr><td colspan="{len(aligns)}"><i>{html_module.escape(self.empty)}</i></td></tr>'
        return f'<table class="sinch-nb-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
