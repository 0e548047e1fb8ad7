"""A simulated call's transcript as a table that also draws itself as a timeline (``.timeline()``)."""

from __future__ import annotations

from types import SimpleNamespace

from ..journal.frames import JournalFrame
from .diagrams import Diagram, timeline_chart

__all__ = ["ConversationFrame", "TranscriptFrame"]


class TranscriptFrame(JournalFrame):
    """The steps of one call (at, callback, party, action, text); ``attrs`` hold its id and outcome."""

    @property
    def _constructor(self) -> type[TranscriptFrame]:
        return TranscriptFrame

    @property
    def call_id(self) -> str:
        """The call's id, for ``sn.to_pytest``, ``sn.callbacks(call_id=...)``."""
        return str(self.attrs.get("call_id", ""))

    @property
    def outcome(self) -> str:
        """How the call ended, as a person says it (``connectConf room-b``)."""
        return str(self.attrs.get("outcome", ""))

    def timeline(self) -> Diagram:
        """The call as a sequence diagram: caller, Sinch, app and callee, each step at its second."""
        steps = [SimpleNamespace(**{str(k): v for k, v in row.items()}) for row in self.to_dict("records")]
        return Diagram(timeline_chart(steps), repr(self))


class ConversationFrame(JournalFrame):
    """One messaging exchange: time, who (contact, app, sinch), channel, kind, text, status, note."""

    @property
    def _constructor(self) -> type[ConversationFrame]:
        return ConversationFrame

    @classmethod
    def of(cls, lines: list[dict[str, object]]) -> ConversationFrame:
        """The frame of conversation lines (``simulate.conversation.exchange_rows``)."""
        import pandas as pd

        from .conversation import COLUMNS

        frame = pd.DataFrame(lines, columns=COLUMNS)
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return cls(frame)

    @property
    def record_id(self) -> int | None:
        """The journal id of the contact's message (``sn.callback(id)`` for its logs)."""
        value = self.attrs.get("record_id")
        return int(value) if value is not None else None
