"""The journal from Python: ``sn.callbacks()``, ``callback(id)``, ``calls()``, and journal files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .functions.errors import CallbackNotFoundError
from .session import get_session

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["callback", "callbacks", "calls", "export_callbacks", "load_callbacks"]


def callbacks(
    kind: str | None = None, call_id: str | None = None, *, bodies: bool = False, styled: bool = False
) -> Any:
    """Every callback journaled (this session and earlier ones), one row each, as a DataFrame.

    ``bodies=True`` adds request headers and body, response body, traceback and logs;
    ``styled=True`` returns it styled for reading (failures tinted); ``sn.callback(id)`` gives
    one record whole.
    """
    from .journal.views import callbacks_frame
    from .journal.views import styled as style

    frame = callbacks_frame(get_session().journal, kind=kind, call_id=call_id, bodies=bodies)
    return style(frame) if styled else frame


def callback(record_id: int) -> dict[str, Any]:
    """One journaled request, every field (headers JSON-decoded); ``CallbackNotFoundError`` if there is none."""
    journal = get_session().journal
    row = journal.get(record_id)
    if row is None:
        raise CallbackNotFoundError(f"no callback #{record_id} in {journal.path}; sn.callbacks() lists them")
    for name in ("request_headers", "warnings", "logs"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def calls() -> pd.DataFrame:
    """One row per call: first and last seen, kinds in order, menu path, DiCE reason and result."""
    from .journal.views import calls_frame

    return calls_frame(get_session().journal)


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
