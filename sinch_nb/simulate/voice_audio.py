"""The simulated caller's voice as stream audio: speech, WAV files, DTMF tones, silence, all PCM s16le mono.

A media stream carries signed 16-bit little-endian mono PCM at the stream's sample rate
(sinch-voice-v2.md §8.4). Everything here produces or converts to that: ``speak`` (text through
espeak-ng), ``read_wav`` (any WAV: width, channels and rate converted), ``dtmf`` (in-band tones, the
DTMF choice of ``docs/simulation.md``), ``silence``, and ``wav_bytes`` to hear a track again.
The resampler is numpy's: a windowed-sinc low-pass when going down, then linear interpolation.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..functions.commands import SAMPLE_RATES  # the AsyncAPI ConnectRequest sampleRate enum, one list
from ..functions.errors import SinchNbError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "SAMPLE_RATES",
    "SpeechUnavailableError",
    "caller_voice",
    "dtmf",
    "frame_bytes",
    "read_wav",
    "resample",
    "silence",
    "speak",
    "wav_bytes",
]

#: DTMF: (row, column) frequencies in Hz of each key (ITU-T Q.23).
_DTMF = {
    key: (row, col)
    for keys, row in zip(("123A", "456B", "789C", "*0#D"), (697, 770, 852, 941), strict=True)
    for key, col in zip(keys, (1209, 1336, 1477, 1633), strict=True)
}
_INSTALL = (
    "apt-get install espeak-ng (Debian, Ubuntu; brew install espeak-ng on macOS), or give the caller's voice as "
    "audio= (a WAV file's path, or PCM s16le mono bytes at the stream's sample rate)"
)


class SpeechUnavailableError(SinchNbError, RuntimeError):
    """``say=`` needs espeak-ng to turn text into speech; the message names the install and ``audio=``."""


def check_rate(sample_rate: int) -> int:
    """``sample_rate`` if a stream may use it, else a ValueError naming the rates there are."""
    if sample_rate not in SAMPLE_RATES:
        raise ValueError(f"sample_rate={sample_rate!r}: a stream's rate is one of {', '.join(map(str, SAMPLE_RATES))}")
    return sample_rate


def frame_bytes(sample_rate: int, ms: int = 20) -> int:
    """Bytes of one ``ms`` frame of PCM s16le mono: 320 at 8 kHz, 640 at 16 kHz for 20 ms (§8.4)."""
    return sample_rate * ms // 1000 * 2


def silence(seconds: float, sample_rate: int) -> bytes:
    """``seconds`` of silence, a whole number of samples."""
    return bytes(2 * round(seconds * sample_rate))


def _to_pcm(samples: NDArray[np.float64]) -> bytes:
    """Float samples in [-1, 1] as PCM s16le (clipped)."""
    return np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()


def _from_pcm(pcm: bytes) -> NDArray[np.float64]:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64) / 32768


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """PCM s16le mono at ``from_rate`` as ``to_rate``: low-pass below the new Nyquist when going down, then linear."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = _from_pcm(pcm)
    if to_rate < from_rate:  # a 63-tap Hann-windowed sinc at 0.45 x the new rate, so the speech does not alias
        cutoff = 0.45 * to_rate / from_rate
        n = np.arange(63) - 31
        taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hanning(63)
        samples = np.convolve(samples, taps / taps.sum(), mode="same")
    count = round(len(samples) * to_rate / from_rate)
    positions = np.arange(count) * (from_rate / to_rate)
    return _to_pcm(np.interp(positions, np.arange(len(samples)), samples))


def _wav_chunks(data: bytes) -> tuple[bytes, bytes]:
    """The ``fmt `` and ``data`` chunks of a RIFF WAVE (a streamed WAV's placeholder sizes are read to the end)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file (no RIFF/WAVE header): give a .wav, or PCM s16le mono bytes")
    fmt = b""
    at = 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        body = data[at + 8 : at + 8 + size]  # espeak-ng --stdout writes 0x7ffff… as the size: take what there is
        if name == b"fmt ":
            fmt = body
        elif name == b"data":
            if not fmt:
                break
            return fmt, body
        at += 8 + size + (size & 1)
    raise ValueError("a WAV file without fmt and data chunks: save it again as PCM WAV")


def read_wav(source: str | Path | bytes, sample_rate: int) -> bytes:
    """A WAV (a path or its bytes; 8/16/24/32-bit integer or 32-bit float, any channels, any rate) as PCM s16le
    mono at ``sample_rate``."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    fmt, body = _wav_chunks(data)
    tag, channels, rate = struct.unpack("<HHI", fmt[:8])
    width = struct.unpack("<H", fmt[14:16])[0] // 8
    if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag starts the sub-format GUID
        tag = struct.unpack("<H", fmt[24:26])[0]
    frame = width * channels
    body = body[: len(body) // frame * frame] if frame else b""
    samples: NDArray[np.float64]
    if tag == 3 and width == 4:
        samples = np.frombuffer(body, dtype="<f4").astype(np.float64)
    elif tag == 1 and width == 1:
        samples = (np.frombuffer(body, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif tag == 1 and width in (2, 4):
        samples = np.frombuffer(body, dtype=f"<i{width}").astype(np.float64) / float(2 ** (8 * width - 1))
    elif tag == 1 and width == 3:
        raw = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        samples = np.where(value >= 1 << 23, value - (1 << 24), value).astype(np.float64) / (1 << 23)
    else:
        raise ValueError(f"a WAV of format {tag} at {8 * width} bits: convert it to 16-bit PCM WAV")
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return resample(_to_pcm(mono), rate, sample_rate)


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """PCM s16le mono as a WAV file's bytes (to save, or to play again)."""
    fields = (b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16, b"data")
    return struct.pack("<4sI4s4sIHHIIHH4sI", *fields, len(pcm)) + pcm


def speak(text: str, sample_rate: int, voice: str = "en-us") -> bytes:
    """``text`` spoken by espeak-ng (``--stdout``, a 22050 Hz WAV) as PCM s16le mono at ``sample_rate``."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechUnavailableError(f"say= needs espeak-ng to turn text into speech: {_INSTALL}")
    spoken = subprocess.run([program, "--stdout", "-v", voice, text], capture_output=True, timeout=60, check=False)
    if spoken.returncode != 0 or not spoken.stdout:
        why = spoken.stderr.decode(errors="replace").strip() or f"exit status {spoken.returncode}"
        raise SpeechUnavailableError(f"espeak-ng could not say {text!r} with voice {voice!r}: {why}")
    return read_wav(spoken.stdout, sample_rate)


def check_keys(keys: str) -> str:
    """``keys`` upper-cased; ValueError naming any that is no DTMF key."""
    unknown = [key for key in keys.upper() if key not in _DTMF]
    if unknown:
        raise ValueError(f"press={keys!r}: {''.join(unknown)!r} is no DTMF key (0-9, *, #, A-D)")
    return keys.upper()


def dtmf(keys: str, sample_rate: int, tone_ms: int = 50, gap_ms: int = 50) -> bytes:
    """In-band DTMF: each key's two tones for ``tone_ms``, then ``gap_ms`` of silence (ITU-T Q.24 minimums)."""
    check_keys(keys)
    t = np.arange(round(tone_ms * sample_rate / 1000)) / sample_rate
    tones = b""
    for key in keys.upper():
        row, col = _DTMF[key]
        tones += _to_pcm(0.35 * np.sin(2 * np.pi * row * t) + 0.35 * np.sin(2 * np.pi * col * t))
        tones += silence(gap_ms / 1000, sample_rate)
    return tones


def caller_voice(
    sample_rate: int,
    *,
    say: str | Sequence[str] | None = None,
    audio: str | Path | bytes | None = None,
    press: str = "",
    pause: float = 2.0,
    voice: str = "en-us",
    tone_ms: int = 50,
    gap_ms: int = 50,
) -> bytes:
    """What the caller sends, in order: ``audio``, each of ``say`` then ``pause`` s of silence, the ``press`` tones
    then ``pause`` s again; ``audio`` as bytes is PCM s16le mono at ``sample_rate`` unless it is a WAV."""
    pcm = b""
    if audio is not None:
        if isinstance(audio, bytes) and audio[:4] != b"RIFF":
            pcm += audio[: len(audio) // 2 * 2]
        else:
            pcm += read_wav(audio, sample_rate)
        pcm += silence(pause, sample_rate)
    for words in [say] if isinstance(say, str) else list(say or []):
        pcm += speak(words, sample_rate, voice) + silence(pause, sample_rate)
    if press:  # in-band tones: audio only (a stream's keys go as messages: stream_call.StreamVoice.keys)
        pcm += dtmf(press, sample_rate, tone_ms, gap_ms) + silence(pause, sample_rate)
    return pcm
