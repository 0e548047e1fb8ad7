"""A simulated call's transcript as a table that also draws itself as a timeline (``.timeline()``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from ..journal.frames import JournalFrame
from .diagrams import Diagram, timeline_chart

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .stream_call import CallAudio, StreamCall

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

    @property
    def stream(self) -> StreamCall:
        """The media stream the caller spoke into (``sn.dial(..., say=...)`` through a connectStream or STREAM dial)."""
        from .stream_call import StreamCall

        transcript = self.attrs.get("stream")
        if transcript is None:
            raise LookupError(
                "this call had no media stream: dial with say= or audio= to an app that connects the call to one "
                "(v1 connectStream, v2 dial to a STREAM destination)"
            )
        return StreamCall(transcript)

    def audio(self) -> CallAudio:
        """Both directions of the call's stream as players (``.stream.audio()``)."""
        return self.stream.audio()

    def plot(self) -> Figure:  # type: ignore[override]
        """Both directions of the call's stream on one time axis, the app's clears marked (``.stream.plot()``)."""
        return self.stream.plot()

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
