"""A stream's audio kept for listening (two WAV files) and timed for the reply latency.

Each direction is written as received or sent, frame after frame, to
``<base_dir>/.sinch_nb/streams/<record id>-in.wav`` and ``-out.wav`` (stdlib ``wave``, 16-bit
mono at the stream's rate). The files are the concatenated frames: gaps in time are not
filled with silence, so the two files are not aligned sample for sample.

The third file, ``-heard.wav``, is what the caller heard, on the caller's time axis: the app's
audio placed where the platform plays it (S9: a playout buffer played in real time, silence
while it is empty; S10: a ``clear`` drops what was queued and not yet played; the call's end
cuts the rest), from the times the runtime sent each frame and each ``clear``. Its sample 0 is
the first caller frame's arrival, as the ``-in`` file's is, so the two line up (the network's
own delay is not modelled: sinch_nb's reconstruction).

Reply latency (sinch_nb's definition): a caller's turn ends at the last inbound frame with
speech (RMS above ``SPEECH_RMS``) that is followed by at least ``TURN_SILENCE`` seconds of
inbound frames without speech, or by the end of inbound audio; its latency is the time from
that frame's arrival to the first outbound frame with speech sent after it (and before the
next turn ends). Frames are timed where the runtime reads and writes the socket.
"""

from __future__ import annotations

import bisect
import math
import wave
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np  # this module loads with the first stream (runtime/app.py), not with sinch_nb

__all__ = ["SPEECH_RMS", "TURN_SILENCE", "Recording", "heard_track", "reply_latencies", "voiced"]

#: A frame has speech when its RMS exceeds this (about -36 dBFS); below it is silence or line noise.
SPEECH_RMS = 500
#: Inbound silence that ends a caller's turn, in seconds of audio.
TURN_SILENCE = 0.3


def voiced(pcm: bytes) -> bool:
    """Whether a PCM s16le frame has speech: its RMS is above ``SPEECH_RMS`` (numpy: 1 µs a frame, not 25)."""
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float64)
    return bool(samples.size) and math.sqrt(float(samples.dot(samples)) / samples.size) > SPEECH_RMS


def reply_latencies(
    inbound: list[tuple[float, bool, float]], outbound: list[tuple[float, bool]], silence: float = TURN_SILENCE
) -> list[float]:
    """Milliseconds from each caller turn's end to the app's first speech after it (see the module docstring).

    ``inbound``: (arrival time, voiced, seconds of audio) per frame; ``outbound``: (send time, voiced).
    """
    ends: list[float] = []
    last_voiced: float | None = None
    quiet = 0.0
    for at, speech, seconds in inbound:
        if speech:
            last_voiced, quiet = at, 0.0
        elif last_voiced is not None:
            quiet += seconds
            if quiet >= silence:
                ends.append(last_voiced)
                last_voiced = None
    if last_voiced is not None:  # inbound audio ended after speech
        ends.append(last_voiced)
    spoken = [at for at, speech in outbound if speech]
    latencies = []
    for index, end in enumerate(ends):
        following = ends[index + 1] if index + 1 < len(ends) else math.inf
        first = bisect.bisect_right(spoken, end)
        if first < len(spoken) and spoken[first] < following:
            latencies.append((spoken[first] - end) * 1000)
    return latencies


def heard_track(
    sends: Iterable[tuple[float, bytes]], clears: Sequence[float], origin: float, end: float, rate: int
) -> bytearray:
    """What the caller heard (S9, S10): each sent chunk played from when it was sent or when the audio before it
    ends, silence while nothing is queued, a clear dropping what had not played, the end cutting the rest."""
    heard = bytearray()
    pending = sorted(clears)

    def cut(at: float) -> None:
        del heard[max(0, round((at - origin) * rate)) * 2 :]

    for at, pcm in sends:
        while pending and pending[0] <= at:
            cut(pending.pop(0))
        start = max(0, round((at - origin) * rate)) * 2
        if start > len(heard):  # the buffer ran dry: the caller heard silence meanwhile
            heard += bytes(start - len(heard))
        heard += pcm
    for at in pending:
        cut(at)
    cut(end)
    return heard


class Recording:
    """Both directions of one stream: WAV files written frame by frame, and the frames' times for the latency."""

    def __init__(self, folder: Path, stem: str, sample_rate: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.sample_rate = sample_rate
        self.paths = {"in": folder / f"{stem}-in.wav", "out": folder / f"{stem}-out.wav"}
        self._files = {direction: self._open(path) for direction, path in self.paths.items()}
        self._heard = folder / f"{stem}-heard.wav"
        self.inbound: list[tuple[float, bool, float]] = []
        self.outbound: list[tuple[float, bool]] = []
        self.sizes: list[int] = []  # bytes of each outbound frame, in order (the -out file holds them back to back)
        self.clears: list[float] = []

    def _open(self, path: Path) -> wave.Wave_write:
        file = wave.open(str(path), "wb")  # noqa: SIM115 (closed in close())
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(self.sample_rate)
        return file

    def received(self, at: float, pcm: bytes) -> None:
        """An inbound frame: written and timed."""
        self._files["in"].writeframesraw(pcm[: len(pcm) - len(pcm) % 2])
        self.inbound.append((at, voiced(pcm), len(pcm) / 2 / self.sample_rate))

    def sent(self, at: float, pcm: bytes) -> None:
        """An outbound frame: written and timed."""
        self._files["out"].writeframesraw(pcm)
        self.outbound.append((at, voiced(pcm)))
        self.sizes.append(len(pcm))

    def cleared(self, at: float) -> None:
        """The app sent ``clear``: what it had queued and not yet played is dropped from the heard track."""
        self.clears.append(at)

    def close(self, end: float, keep: bool = True) -> list[float]:
        """Finish the files, ``-heard`` too (all deleted unless ``keep``: a stream never answered has no audio);
        ``end`` is when the stream closed. Returns the reply latencies in ms."""
        for file in self._files.values():
            file.close()
        if not keep:
            for path in self.paths.values():
                path.unlink(missing_ok=True)
            self.paths = {}
        else:
            self._write_heard(end)
        return reply_latencies(self.inbound, self.outbound)

    def origin(self, end: float) -> float:
        """Time 0 of the ``-in`` and ``-heard`` files: the first caller frame's arrival (else the first sent)."""
        starts = [at for at, _, _ in self.inbound[:1]] or [at for at, _ in self.outbound[:1]] or [end]
        return starts[0]

    def _write_heard(self, end: float) -> None:
        """The ``-heard`` file from the ``-out`` file read back, frame by frame (``heard_track``)."""
        with wave.open(str(self.paths["out"]), "rb") as sent:
            chunks = ((at, sent.readframes(size // 2)) for (at, _), size in zip(self.outbound, self.sizes, strict=True))
            track = heard_track(chunks, self.clears, self.origin(end), end, self.sample_rate)
        with self._open(self._heard) as file:
            file.writeframes(bytes(track))
        self.paths["heard"] = self._heard
