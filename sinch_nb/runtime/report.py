"""What the pipeline hands back to the notebook: an in-process answer, and the last error's report."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["ErrorReport", "InProcessResponse", "NoError"]


@dataclass(frozen=True)
class InProcessResponse:
    """What ``CallbackApp.answer`` answered, and the journal record it made."""

    status: int
    body: bytes
    record_id: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorReport:
    """What went wrong in one request: shown by ``sn.last_error()``."""

    record_id: int
    handler: str
    error: str
    traceback: str
    outcome: str

    def __repr__(self) -> str:
        return f"Callback #{self.record_id} ({self.handler}, {self.outcome}): {self.error}\n\n{self.traceback}".rstrip()

    def _repr_html_(self) -> str:
        return (
            f"<b>Callback #{self.record_id}</b> ({html.escape(self.handler)}, {self.outcome}): "
            f"{html.escape(self.error)}<pre>{html.escape(self.traceback)}</pre>"
        )


class NoError:
    """``sn.last_error()`` when nothing failed: falsy, and says so rather than printing nothing."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return (
            "No callback has failed in this kernel session: every handler answered without raising. "
            "sn.callbacks() lists them."
        )

    def _repr_html_(self) -> str:
        return f"<i>{html.escape(repr(self))}</i>"
