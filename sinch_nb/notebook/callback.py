"""One journal record as ``sn.callback(id)`` gives it: a dict, and a media stream's audio to play.

A stream's row names its WAV files (``stream["audio_in"]``, ``["audio_out"]``, ``["audio_heard"]``);
``record.audio("in")`` is an ``IPython.display.Audio`` of what the caller sent, ``"out"`` of
what the handler sent (frames back to back), ``"heard"`` of what the caller heard on the same
time axis as ``"in"`` (``runtime/stream_audio.py``); in Jupyter the record shows the players under
its fields, and ``record.plot()`` draws the caller and what they heard, one above the other.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

__all__ = ["CallbackRecord"]

_DIRECTIONS = {
    "in": "the caller's audio (in)",
    "heard": "what the caller heard (heard: the handler's audio as the platform played it)",
    "out": "the handler's audio as sent, back to back (out)",
}


class CallbackRecord(dict[str, Any]):
    """Every field of one journaled request (a plain dict); ``audio()`` for a media stream's."""

    def audio(self, direction: str = "in") -> Any:
        """``IPython.display.Audio`` of a stream's ``"in"`` (caller → app), ``"heard"`` or ``"out"`` WAV file."""
        from IPython.display import Audio

        return Audio(filename=str(self.audio_path(direction)))  # type: ignore[no-untyped-call]

    def audio_path(self, direction: str = "in") -> Path:
        """The WAV file of one direction of a stream; ``LookupError`` naming the fix when there is none."""
        from ..functions.errors import CallbackNotFoundError

        if direction not in _DIRECTIONS:
            raise ValueError(
                f"direction is 'in' (the caller's audio), 'heard' (what the caller heard) or 'out' (the handler's "
                f"audio as sent), not {direction!r}"
            )
        stream = self.get("stream")
        if not isinstance(stream, dict) or not stream.get(f"audio_{direction}"):
            raise CallbackNotFoundError(
                f"callback #{self.get('id')} ({self.get('kind')}) has no stream audio: only an answered media "
                "stream's row has; sn.callbacks(kind='stream') lists them"
            )
        path = Path(stream[f"audio_{direction}"])
        if not path.is_file():
            raise CallbackNotFoundError(f"the audio of callback #{self.get('id')} is gone: {path} was deleted")
        return path

    def plot(self) -> Any:
        """A stream's caller audio and what the caller heard on one time axis, the app's ``clear``s marked."""
        import wave

        from ..simulate.stream_call import plot_pcm

        tracks = []
        for direction in ("in", "heard"):
            with wave.open(str(self.audio_path(direction)), "rb") as file:
                rate = file.getframerate()
                tracks.append(file.readframes(file.getnframes()))
        stream = self["stream"]
        closed = f"closed {stream.get('close_code')} by {stream.get('closed_by')}"
        title = f"stream #{self.get('id')} {self.get('path')}: {closed}"
        return plot_pcm(tracks[0], tracks[1], rate, clears=stream.get("clears_s") or [], title=title)

    def _repr_html_(self) -> str | None:
        """A stream's fields and its two players; other records show as the dict they are."""
        if not isinstance(self.get("stream"), dict) or not self["stream"].get("audio_in"):
            return None
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:left'><pre style='margin:0'>{html.escape(_shown(value))}</pre></td></tr>"
            for name, value in self.items()
            if value is not None
        )
        players = []
        for direction, label in _DIRECTIONS.items():
            try:
                player = self.audio(direction)._repr_html_()
            except LookupError as error:
                player = html.escape(str(error))
            players.append(f"<p>{html.escape(label)}</p>{player}")
        return f"<table>{rows}</table>{''.join(players)}"


def _shown(value: Any) -> str:
    return json.dumps(value, indent=1) if isinstance(value, dict | list) else str(value)
