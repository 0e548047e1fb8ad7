"""The simulated platform from Python: ``sn.dial()``, ``text()``, ``explore()`` and the ``dialpad()``.

Each drives the runtime (started if needed) the way Sinch would, signed with the
runtime's own Voice App key and secret when it has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    from .notebook.dialpad import Dialpad
    from .simulate.explorer import Exploration
    from .simulate.frames import TranscriptFrame
    from .simulate.model import Callee, PlatformModel
    from .simulate.transport import Transport

__all__ = ["dial", "dialpad", "explore", "simulation", "text"]


def dial(
    cli: str,
    to: str,
    press: Iterable[str | int] = (),
    *,
    custom: str = "",
    callee: Callee = "answer",
    model: PlatformModel | None = None,
) -> TranscriptFrame:
    """Place a simulated call through the runtime (started if needed); returns the transcript.

    Each prompt takes the next of ``press`` (one key, or a digit sequence such as ``"1234#"``,
    or ``"hangup"``); when they run out the caller stays silent, and once connected hangs up.
    ``callee`` is how the far end of a connect answers: ``"answer"``, ``"busy"``,
    ``"no-answer"`` or ``"failed"``. ``.timeline()`` on the result draws the call.
    """
    from .simulate.caller import dial as simulate_dial

    session = get_session()
    server = session.running()
    options = {**session.simulator_options(), "model": model or session.simulation}
    transcript = simulate_dial(server.url, cli, to, press, custom=custom, callee=callee, **options)
    return transcript.to_frame()


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


def text(message: str, from_: str = "+15551234567", channel: str = "SMS") -> dict[str, Any]:
    """A simulated contact sends ``message``: a MESSAGE_INBOUND webhook through the runtime; returns its record."""
    import httpx

    from .simulate.caller import http_transport
    from .simulate.messages import inbound_message, send

    session = get_session()
    server = session.running()
    secret = session.settings.conversation_secret
    with httpx.Client(base_url=server.url, timeout=30) as client:
        message_body = inbound_message(message, from_, channel)
        options = session.simulator_options()
        send(
            http_transport(client),
            message_body,
            secret.reveal() if secret else None,
            marker=options["marker"],
            source=options["source"],
        )
    session.journal.flush()
    return session.journal.recent[-1].as_dict()


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

    options = {**session.simulator_options(), "source": "explorer", "model": session.simulation, "callee": callee}
    return run_explore(send, cli, to, max_depth=max_depth, sent_of=session.app.close_sandbox, **options)


def dialpad(cli: str = "+15551234567", to: str = "+15559876543", timeout: float | None = None) -> Dialpad:
    """A softphone: Call, press keys, hear the answers, Hang up (over real HTTP to the runtime)."""
    import httpx

    from .notebook.dialpad import Dialpad
    from .simulate.caller import http_transport

    session = get_session()

    def transport() -> Transport:
        return http_transport(httpx.Client(base_url=session.running().url, timeout=30))

    options = {**session.simulator_options(), "model": session.simulation}
    return Dialpad(transport, cli=cli, to=to, call_options=options, timeout=timeout)
