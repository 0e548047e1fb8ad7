"""A simulated call's transcript as a table that also draws itself as a timeline (``.timeline()``)."""

from __future__ import annotations

from types import SimpleNamespace

from ..journal.frames import JournalFrame
from .diagrams import Diagram, timeline_chart

__all__ = ["TranscriptFrame"]


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
