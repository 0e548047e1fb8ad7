"""The journal from Python: ``sn.callbacks()``, ``callback(id)``, ``calls()``, and journal files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .functions.errors import CallbackNotFoundError
from .functions.origin import SOURCES
from .session import get_session

if TYPE_CHECKING:
    import pandas as pd

    from .notebook.callback import CallbackRecord

__all__ = ["callback", "callbacks", "calls", "export_callbacks", "load_callbacks"]


def _scope(history: bool, source: str | None, call_id: str | None = None) -> dict[str, Any]:
    """Which rows a table shows: this kernel session's (all with ``history`` or a call id), the user's own traffic.

    ``source=None`` hides what the explorer and workshop checks placed; ``"all"`` shows
    everything; another value keeps only that source (``"explorer"``, ``"deployed"``, ``"imported"``).
    """
    journal = get_session().journal
    whole = history or call_id is not None
    hide = SOURCES if source is None and call_id is None else ()
    return {"session": None if whole else journal.session, "hide": hide}


def _only(frame: pd.DataFrame, source: str | None) -> pd.DataFrame:
    if source in (None, "all") or frame.empty:
        return frame
    return frame[frame["source"].astype(str).str.startswith(str(source))]


def callbacks(
    kind: str | None = None,
    call_id: str | None = None,
    *,
    bodies: bool = False,
    styled: bool = False,
    history: bool = False,
    source: str | None = None,
) -> Any:
    """This kernel session's callbacks, one row each, as a DataFrame (``history=True``: earlier sessions too).

    Traffic the explorer and workshop checks made is left out unless ``source="all"`` (or
    ``"explorer"``, ``"workshop"``, ``"deployed"``, ``"imported"`` for only those).
    ``bodies=True`` adds request headers and body, response body, traceback and logs;
    ``styled=True`` returns it styled for reading (failures tinted); ``sn.callback(id)`` gives
    one record whole. A ``call_id`` finds that call's callbacks whatever session made them.
    """
    from .journal.views import callbacks_frame
    from .journal.views import styled as style

    scope = _scope(history, source, call_id)
    frame = _only(callbacks_frame(get_session().journal, kind=kind, call_id=call_id, bodies=bodies, **scope), source)
    return style(frame) if styled else frame


def callback(record_id: int) -> CallbackRecord:
    """One journaled request, every field (headers JSON-decoded), as a dict; ``CallbackNotFoundError`` if none.

    A media stream's record plays its audio: ``sn.callback(id).audio("in")`` / ``("out")``.
    """
    from .notebook.callback import CallbackRecord

    journal = get_session().journal
    row = journal.get(record_id)
    if row is None:
        raise CallbackNotFoundError(f"no callback #{record_id} in {journal.path}; sn.callbacks() lists them")
    for name in ("request_headers", "warnings", "logs", "stream"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return CallbackRecord(row)


def calls(*, history: bool = False, source: str | None = None) -> pd.DataFrame:
    """One row per call of this kernel session: first and last seen, kinds in order, menu path, DiCE reason and result.

    ``history`` and ``source`` as for ``sn.callbacks()``.
    """
    from .journal.views import calls_frame

    frame = calls_frame(get_session().journal, **_scope(history, source))
    if source not in (None, "all"):
        ids = set(_only(callbacks(history=history, source=source), source)["call_id"].dropna())
        frame = frame[frame.index.isin(ids)]
    return frame


def export_callbacks(path: str | Path, call_id: str | None = None) -> Path:
    """Write the journal (or one call) to ``path``: ``.jsonl`` or ``.parquet``."""
    from .journal.files import export_callbacks as write

    return write(get_session().journal, path, call_id)


def load_callbacks(path: str | Path) -> pd.DataFrame:
    """Add the callbacks in ``path`` to this journal (to replay them here); returns them."""
    from .journal.files import load_callbacks as read
    from .journal.views import callbacks_frame

    journal = get_session().journal
    ids = read(journal, path)
    frame = callbacks_frame(journal)
    return frame.loc[frame.index.isin(ids)]
