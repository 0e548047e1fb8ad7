"""The simulated platform from Python: ``sn.dial``, ``text``, ``explore``, ``dialpad``, ``chatpad``, ``callouts``.

Each drives the runtime (started if needed) the way Sinch would, signed with the
runtime's own Voice App key and secret when it has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    import pandas as pd

    from .notebook.chatpad import Chatpad
    from .notebook.dialpad import Dialpad
    from .simulate.explorer import Exploration
    from .simulate.frames import ConversationFrame, TranscriptFrame
    from .simulate.model import Callee, PlatformModel
    from .simulate.outbound import Callout
    from .simulate.stream_call import StreamCall
    from .simulate.transport import Transport

__all__ = [
    "callout",
    "callouts",
    "chatpad",
    "conversations",
    "dial",
    "dialpad",
    "explore",
    "simulation",
    "stream_call",
    "text",
]


def dial(
    cli: str,
    to: str,
    press: Iterable[str | int] = (),
    *,
    custom: str = "",
    callee: Callee = "answer",
    model: PlatformModel | None = None,
    api: str | None = None,
    say: str | Sequence[str] | None = None,
    audio: str | Path | bytes | None = None,
) -> TranscriptFrame:
    """Place a simulated call through the runtime (started if needed); returns the transcript.

    Each prompt takes the next of ``press`` (one key, or a digit sequence such as ``"1234#"``,
    or ``"hangup"``); when they run out the caller stays silent, and once connected hangs up.
    ``callee`` is how the far end of a connect answers: ``"answer"``, ``"busy"``,
    ``"no-answer"`` or ``"failed"``. ``.timeline()`` on the result draws the call. ``api``:
    ``"v1"`` (ICE, PIE, ACE, DiCE) or ``"v2"`` (``call.*`` CloudEvents); by default v2 when
    only v2 handlers (``%%sinch incoming``…) are defined. ``say`` (text, spoken with espeak-ng) or
    ``audio`` (a WAV path, or PCM bytes) is what the caller says when the app connects the call to a
    media stream (v1 ``connectStream``, v2 ``dial`` to a STREAM): the platform opens it, the caller
    speaks in real time, and the call ends with the stream; ``.audio()`` and ``.plot()`` on the result
    show both directions.
    """
    from .simulate.caller import dial as simulate_dial

    session = get_session()
    server = session.running()
    options = {**session.simulator_options(), **_v2_options(session, api), "model": model or session.simulation}
    options.update(say=say, audio=audio)
    transcript = simulate_dial(server.url, cli, to, press, custom=custom, callee=callee, **options)
    return transcript.to_frame()


def _v2_options(session: Any, api: str | None) -> dict[str, Any]:
    """Which Voice API a simulated call speaks, and the v2 service it is signed for."""
    from .functions.routing import CALL_KINDS

    kinds = {handler.kind for handler in session.registry.handlers()}
    chosen = api or ("v2" if kinds & set(CALL_KINDS) and "ice" not in kinds else "v1")
    if chosen not in ("v1", "v2"):
        raise ValueError(f"api={api!r}: use 'v1' or 'v2'")
    secret = session.settings.voice_service_secret
    return {
        "api": chosen,
        "service_id": session.settings.voice_service_id or "sinch-nb-simulator",
        "service_secret": secret.reveal() if secret is not None else None,
    }


def stream_call(
    path_or_url: str,
    *,
    say: str | Sequence[str] | None = None,
    audio: str | Path | bytes | None = None,
    press: str = "",
    sample_rate: int = 16000,
    call_headers: Mapping[str, str] | None = None,
    pause: float | None = None,
    duration: float | None = None,
    model: PlatformModel | None = None,
) -> StreamCall:
    """A simulated call straight into a media stream, as Sinch runs one (``docs/simulation.md`` S7 onward).

    ``path_or_url``: a path (``"/agent"``) on the runtime (started if needed) or a ``ws://`` / ``wss://`` URL.
    The platform sends ``connect`` (``sampleRate`` = ``sample_rate``, ``callHeaders`` = ``call_headers``),
    waits for ``answer``, then the caller speaks in real time: ``audio`` (a WAV path, or PCM s16le mono bytes),
    ``say`` (text, or several turns, spoken by espeak-ng), each followed by ``pause`` seconds of silence for the
    app to answer, then ``press`` (keys as TEXT ``dtmf`` messages, S14). The caller hangs up once that is sent
    and the app's audio has played (or after ``duration`` s). The result has ``.frame`` (every message),
    ``.audio()`` (both directions as players) and ``.plot()`` (both tracks, the app's clears marked).
    """
    from .simulate.stream_call import stream_call as run_stream_call

    session = get_session()
    options = session.simulator_options()
    url = path_or_url
    if not path_or_url.startswith(("ws://", "wss://")):
        if not path_or_url.startswith("/"):
            raise ValueError(f"{path_or_url!r}: give a path on the runtime ('/agent') or a ws:// or wss:// URL")
        server = session.running()
        url = "ws" + server.url.removeprefix("http") + path_or_url
    from .functions.origin import simulated

    return run_stream_call(
        url,
        say=say,
        audio=audio,
        press=press,
        sample_rate=sample_rate,
        call_headers=call_headers,
        application_key=options["application_key"],
        pause=pause,
        duration=duration,
        model=model or session.simulation,
        headers=simulated(options["marker"], options["source"]),
    )


def simulation(**changes: Any) -> PlatformModel:
    """The simulated platform's rules for this session (``docs/simulation.md``); ``changes`` replace some.

    ``sn.simulation(per_event_paths=True)`` posts to ``/ice``, ``/pie``… instead of ``/``;
    ``sn.simulation(ring_seconds=10, menu_repeats=0)``; ``sn.simulation(reset=True)`` goes back to the defaults.
    """
    from .simulate.model import PlatformModel

    session = get_session()
    base = PlatformModel() if changes.pop("reset", False) else session.simulation
    session.simulation = base.but(**changes)
    return session.simulation


def text(
    message: str | None = None,
    from_: str = "+15551234567",
    channel: str = "SMS",
    *,
    media: str | None = None,
    choice: str | None = None,
    app_id: str = "sinch-nb-app",
    timeout: float = 30.0,
) -> ConversationFrame:
    """A simulated contact writes: MESSAGE_INBOUND to the webhook, then everything it set off, as a DataFrame.

    The rows, in order: the contact's message, each message the app sent (through
    ``context.conversation``, which on simulated traffic reaches the simulated platform), and the
    delivery events Sinch reports for each (QUEUED_ON_CHANNEL, DELIVERED, READ where the channel
    reports it, FAILED with its reason). ``media=URL`` sends a media message, ``choice=`` taps a
    choice (its postback data). ``channel``: SMS, WHATSAPP, RCS or MESSENGER.
    """
    import httpx

    from .simulate.channels import CHANNELS
    from .simulate.conversation import exchange_rows
    from .simulate.frames import ConversationFrame
    from .simulate.messages import inbound_message, send
    from .simulate.transport import http_transport

    if channel.upper() not in CHANNELS:
        raise ValueError(f"channel={channel!r}: the simulated platform knows {', '.join(CHANNELS)}")
    session = get_session()
    server = session.running()
    platform = session.app.platform
    contact = platform.wrote(channel, from_)
    journal = session.journal
    mark = journal.last_id()
    payload = inbound_message(
        message,
        from_,
        channel,
        app_id,
        media=media,
        choice=choice,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
    )
    secret = session.settings.conversation_secret
    options = session.simulator_options()
    with httpx.Client(base_url=server.url, timeout=timeout) as client:
        transport = http_transport(client)
        send(
            transport, payload, secret.reveal() if secret else None, marker=options["marker"], source=options["source"]
        )
    platform.wait_quiet(timeout)
    rows = list(journal.rows("WHERE id > ? AND kind IN ('conversation', 'outbound')", (mark,)))
    frame = ConversationFrame.of(exchange_rows(rows))
    frame.attrs.update(record_id=rows[0]["id"] if rows else None, contact=from_, channel=channel.upper())
    return frame


def conversations(*, history: bool = False) -> pd.DataFrame:
    """One row per contact and channel of this kernel session (``history=True``: every session)."""
    from .simulate.conversation import conversations_frame

    session = get_session()
    return conversations_frame(session.journal, None if history else session.journal.session)


def callouts(*, timeout: float = 30.0) -> pd.DataFrame:
    """The callouts the app placed on simulated traffic (``context.voice.tts_callout(...)``…), oldest first.

    One row per callout (the platform keeps the last 50): when, the method, whom it called, how
    the call ended and how many steps its transcript has. Calls still in progress are waited for
    (up to ``timeout`` seconds). ``sn.callout(call_id)`` is one call's transcript.
    """
    import pandas as pd

    from .journal.frames import JournalFrame

    placed = _placed(timeout)
    columns = ["placed", "method", "to", "outcome", "steps", "done"]
    rows = [
        {"call_id": c.call_id, "placed": c.placed, "method": c.method, "to": c.to}
        | {"outcome": c.transcript.outcome, "steps": len(c.transcript.steps), "done": c.done}
        for c in placed
    ]
    frame = pd.DataFrame(rows, columns=["call_id", *columns]).set_index("call_id")
    frame["placed"] = pd.to_datetime(frame["placed"], unit="s", utc=True)
    return JournalFrame(frame)


def callout(call_id: str | None = None, *, timeout: float = 30.0) -> TranscriptFrame:
    """The transcript of a simulated callout's call (the last one placed, or ``call_id``'s), once it is over.

    Like ``sn.dial``'s: what Sinch played, what the callee pressed, each callback and its answer;
    ``.timeline()`` draws it. The callee is ``sn.simulation(callout_callee=..., callout_press=[...])``.
    """
    from .functions.errors import CallbackNotFoundError

    placed = _placed(timeout)
    found = [c for c in placed if call_id in (None, c.call_id)]
    if not found:
        raise CallbackNotFoundError(
            f"no simulated callout {call_id or 'yet'}: the app places one with context.voice on simulated "
            "traffic (sn.text, sn.dial); sn.callouts() lists them"
        )
    frame = found[-1].transcript.to_frame()
    frame.attrs["method"] = found[-1].method
    return frame


def _placed(timeout: float) -> list[Callout]:
    """The simulated platform's callouts, after the calls in flight finish."""
    platform = getattr(get_session().app, "platform", None)
    if platform is None or not hasattr(platform, "callouts"):
        return []
    platform.wait_quiet(timeout)
    return list(platform.callouts)


def explore(
    cli: str = "+15550000001", to: str = "+15550000002", max_depth: int = 5, *, callee: Callee = "answer"
) -> Exploration:
    """Every path through the call flow: each option, timeout and invalid input, recursively; loops found.

    Each path runs in a sandbox: its own copy of the cache and storage, and clients that list
    what would have been sent instead of sending it (``paths()["would_send"]``). ``callee``
    answers every connect as in ``sn.dial``.
    """
    from .simulate.explorer import explore as run_explore
    from .simulate.transport import Reply

    session = get_session()
    session.running()

    def send(path: str, body: bytes, headers: dict[str, str]) -> Reply:
        result = session.answer("POST", path, headers, body)
        return Reply(result.status, result.body, result.headers)

    options = {
        **session.simulator_options(),
        **_v2_options(session, None),
        "source": "explorer",
        "model": session.simulation,
        "callee": callee,
    }
    return run_explore(send, cli, to, max_depth=max_depth, sent_of=session.app.close_sandbox, **options)


def dialpad(cli: str = "+15551234567", to: str = "+15559876543", timeout: float | None = None) -> Dialpad:
    """A softphone: Call, press keys, hear the answers, Hang up (over real HTTP to the runtime)."""
    import httpx

    from .notebook.dialpad import Dialpad
    from .simulate.caller import http_transport

    session = get_session()

    def transport() -> Transport:
        return http_transport(httpx.Client(base_url=session.running().url, timeout=30))

    options = {**session.simulator_options(), **_v2_options(session, None), "model": session.simulation}
    return Dialpad(transport, cli=cli, to=to, call_options=options, timeout=timeout)


def chatpad(contact: str | None = None, channel: str | None = None) -> Chatpad:
    """A phone-like chat with the app: threads, bubbles, delivery ticks, choices as buttons; Send is ``sn.text``.

    Opens on ``contact`` and ``channel`` (SMS, WHATSAPP, RCS, MESSENGER); without them on the
    latest thread of this session, else ``+15551234567`` on SMS. Live from the journal; re-running
    replaces the previous one.
    """
    from .notebook.chatpad import Chatpad

    session = get_session()
    if session.chatpad is not None:
        session.chatpad.close()
        session.chatpad = None
    session.chatpad = Chatpad(session, text, contact=contact, channel=channel)
    return session.chatpad
