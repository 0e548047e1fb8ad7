"""A simulated caller on a media stream, and what the notebook shows of it: the messages, both tracks heard, a plot.

``stream_call`` speaks (``say=``, ``audio=``, ``press=``) into one stream and returns a ``StreamCall``:
``.frame`` the messages each way, ``.audio()`` both directions as players, ``.plot()`` both tracks on
the call's time axis with the app's clears (barge-in) and buffer overflows marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .model import PlatformModel
from .stream_platform import StreamTranscript, run_stream, runtime_url
from .voice_audio import caller_voice, check_keys, check_rate, silence, wav_bytes

if TYPE_CHECKING:
    import pandas as pd
    from IPython.display import Audio
    from matplotlib.figure import Figure

__all__ = ["CallAudio", "StreamCall", "StreamVoice", "follow", "plot_pcm", "stream_call", "stream_steps"]


@dataclass(frozen=True)
class StreamVoice:
    """What a simulated caller sends into a stream: a WAV or PCM (``audio``), words (``say``), keys (``press``)."""

    say: str | tuple[str, ...] | None = None
    audio: str | Path | bytes | None = None
    press: str = ""
    #: Silence after each part, for the app to answer (default: the model's ``stream_caller_pause_s``).
    pause: float | None = None

    def pcm(self, sample_rate: int, model: PlatformModel) -> bytes:
        """The caller's audio at ``sample_rate`` (espeak-ng for ``say``), then silence while its keys go (S14)."""
        pause = model.stream_caller_pause_s if self.pause is None else self.pause
        spoken = caller_voice(sample_rate, say=self.say, audio=self.audio, pause=pause, voice=model.stream_voice)
        if not self.press:
            return spoken
        keying = len(check_keys(self.press)) * (model.stream_dtmf_tone_ms + model.stream_dtmf_gap_ms) / 1000
        return spoken + silence(keying + pause, sample_rate)

    def keys(self, sample_rate: int, model: PlatformModel) -> list[tuple[float, str]]:
        """S14: each of ``press`` as (seconds into the caller's audio, key): after its words, one per tone + gap."""
        if not self.press:
            return []
        pause = model.stream_caller_pause_s if self.pause is None else self.pause
        words = caller_voice(sample_rate, say=self.say, audio=self.audio, pause=pause, voice=model.stream_voice)
        step = (model.stream_dtmf_tone_ms + model.stream_dtmf_gap_ms) / 1000
        start = len(words) / (2 * sample_rate)
        return [(start + n * step, key) for n, key in enumerate(check_keys(self.press))]


class CallAudio(NamedTuple):
    """Both directions of a stream as players: ``caller`` (what the caller said), ``app`` (what it heard)."""

    caller: Audio
    app: Audio

    def _repr_html_(self) -> str:
        rows = (("caller → app", "what the caller said", self.caller), ("app → caller", "what it heard", self.app))
        html = ""
        for title, what, player in rows:
            html += f"<div><b>{title}</b> ({what})<br>{player._repr_html_()}</div>"  # type: ignore[no-untyped-call]
        return html


class StreamCall:
    """One simulated stream call: ``transcript``, ``frame``, ``outcome``, ``audio()``, ``plot()``."""

    def __init__(self, transcript: StreamTranscript) -> None:
        self.transcript = transcript

    @property
    def call_id(self) -> str:
        return self.transcript.call_id

    @property
    def outcome(self) -> str:
        """``answered``, ``busy``, ``rejected``, ``no answer`` or ``failed`` (``transcript.ended_by``: who hung up)."""
        return self.transcript.outcome

    @property
    def frame(self) -> pd.DataFrame:
        """Every message each way, with its time on the call's clock (``attrs``: counts, the close)."""
        return self.transcript.to_frame()

    def audio(self) -> CallAudio:
        """Both tracks as ``IPython.display.Audio`` players, in a pair that shows both."""
        from IPython.display import Audio

        rate = self.transcript.sample_rate
        caller = Audio(data=wav_bytes(bytes(self.transcript.caller_track), rate))  # type: ignore[no-untyped-call]
        app = Audio(data=wav_bytes(bytes(self.transcript.app_track), rate))  # type: ignore[no-untyped-call]
        return CallAudio(caller, app)

    def plot(self) -> Figure:
        """Both directions on the call's time axis; the app's ``clear``s (barge-in) in red, overflows in orange."""
        return plot_tracks(self.transcript)

    def __repr__(self) -> str:
        t = self.transcript
        close = f"{t.close_code or ''} {t.close_reason}".strip()
        return (
            f"<stream {t.call_id} to {t.url}: {t.outcome}, ended by {t.ended_by} ({close}) after {t.ended_at:.2f} s; "
            f"{t.frames_sent} frames sent, {t.frames_received} received, {len(t.clears)} clears>"
        )


def plot_tracks(transcript: StreamTranscript) -> Figure:
    """The caller's and the app's audio, one above the other on one time axis, with the app's clears marked."""
    rate = transcript.sample_rate
    return plot_pcm(
        bytes(transcript.caller_track),
        bytes(transcript.app_track),
        rate,
        start=transcript.answered_at or 0.0,
        clears=[(at, f"clear (-{dropped / 2 / rate:.2f} s)") for at, dropped in transcript.clears],
        overflows=[at for at, _ in transcript.overflows],
        title=f"stream {transcript.call_id}: {transcript.outcome}, ended by {transcript.ended_by}",
        xlabel="seconds on the call's clock",
    )


def plot_pcm(
    caller: bytes,
    app: bytes,
    rate: int,
    *,
    start: float = 0.0,
    clears: Sequence[float | tuple[float, str]] = (),
    overflows: Sequence[float] = (),
    title: str = "",
    xlabel: str = "seconds from the first caller frame",
) -> Figure:
    """Two PCM s16le tracks one above the other on one time axis; clears (red) and overflows (orange) marked."""
    import numpy as np

    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plot() draws with matplotlib: pip install matplotlib (the dev extra has it)") from error
    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(10, 4), constrained_layout=True)
    tracks = (("caller → app", caller, "tab:blue"), ("app → caller", app, "tab:green"))
    for ax, (label, track, color) in zip(axes, tracks, strict=True):
        samples = np.frombuffer(track[: len(track) - len(track) % 2], dtype="<i2").astype(np.float64) / 32768
        step = max(1, len(samples) // 20000)
        times = start + np.arange(len(samples)) / rate
        ax.plot(times[::step], samples[::step], color=color, linewidth=0.6, label=label)
        ax.set_ylim(-1, 1)
        ax.set_ylabel(label)
        for clear in clears:
            at, note = clear if isinstance(clear, tuple) else (clear, "clear")
            ax.axvline(at, color="red", linestyle="--", linewidth=1)
            if ax is axes[1]:
                ax.annotate(note, (at, 0.8), color="red", fontsize=8)
        for at in overflows:
            ax.axvline(at, color="orange", linestyle=":", linewidth=1)
    axes[0].set_title(title)
    axes[1].set_xlabel(xlabel)
    plt.close(fig)  # returned to be shown once, not drawn again by pyplot
    return fig


def stream_call(
    url: str,
    *,
    say: str | Sequence[str] | None = None,
    audio: str | Path | bytes | None = None,
    press: str = "",
    sample_rate: int = 16000,
    call_headers: Mapping[str, str] | None = None,
    call_id: str | None = None,
    application_key: str = "sinch-nb-simulator",
    pause: float | None = None,
    duration: float | None = None,
    max_duration: float | None = None,
    model: PlatformModel | None = None,
    headers: Mapping[str, str] | None = None,
) -> StreamCall:
    """One stream to ``url`` (ws:// or wss://) as the platform runs it; the caller says ``say``/``audio``/``press``."""
    model = model or PlatformModel()
    check_rate(sample_rate)
    voice = StreamVoice(tuple(say) if say is not None and not isinstance(say, str) else say, audio, press, pause)
    options: dict[str, Any] = {"call_id": call_id, "application_key": application_key, "sample_rate": sample_rate}
    transcript = run_stream(
        url,
        voice.pcm(sample_rate, model),
        keys=voice.keys(sample_rate, model),
        call_headers=call_headers,
        model=model,
        duration=duration,
        max_duration=max_duration,
        headers=headers,
        **options,
    )
    return StreamCall(transcript)


def follow(
    endpoint: str,
    voice: StreamVoice,
    *,
    runtime: str | None,
    call_id: str,
    application_key: str,
    sample_rate: int,
    call_headers: Sequence[Mapping[str, Any]] | Mapping[str, str] | None,
    model: PlatformModel,
    max_duration: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> StreamTranscript:
    """S16: a call's connectStream (v1) or STREAM dial (v2) as the platform follows it, ``voice`` speaking."""
    url = runtime_url(endpoint, runtime)
    return run_stream(
        url,
        voice.pcm(sample_rate, model),
        keys=voice.keys(sample_rate, model),
        call_id=call_id,
        application_key=application_key,
        sample_rate=sample_rate,
        call_headers=call_headers,
        model=model,
        max_duration=max_duration,
        headers=headers,
    )


def stream_steps(transcript: StreamTranscript) -> list[tuple[float, str, str, str]]:
    """The stream's messages other than audio frames, as call-transcript steps (at, party, action, text),
    then one line of counts."""
    steps = [(m.at, m.sender, m.kind, m.text) for m in transcript.messages if m.kind != "audio"]
    counts = (
        f"{transcript.frames_sent} frames sent ({transcript.bytes_sent} B), {transcript.frames_received} received "
        f"({transcript.bytes_received} B); {len(transcript.clears)} clears dropped {transcript.cleared_bytes} B"
    )
    steps.append((transcript.ended_at, "sinch", "stream", counts))
    return steps
