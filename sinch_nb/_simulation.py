"""The simulated platform from Python: ``sn.dial()``, ``text()``, ``explore()`` and the ``dialpad()``.

Each drives the runtime (started if needed) the way Sinch would, signed with the
runtime's own Voice App key and secret when it has them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    import pandas as pd

    from .notebook.dialpad import Dialpad
    from .simulate.explorer import Exploration

__all__ = ["dial", "dialpad", "explore", "text"]

Transport = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


def dial(cli: str, to: str, press: Iterable[str | int] = (), *, custom: str = "") -> pd.DataFrame:
    """Place a simulated call through the runtime (started if needed); returns the transcript."""
    from .simulate.caller import dial as simulate_dial

    session = get_session()
    server = session.running()
    transcript = simulate_dial(server.url, cli, to, press, custom=custom, **session.simulator_options())
    return transcript.to_frame()


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


def explore(cli: str = "+15550000001", to: str = "+15550000002", max_depth: int = 5) -> Exploration:
    """Every path through the call flow: each option, timeout and invalid input, recursively; loops found."""
    from .simulate.explorer import explore as run_explore

    session = get_session()

    def send(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        result = session.answer("POST", path, headers, body)
        return result.status, result.body

    return run_explore(send, cli, to, max_depth=max_depth, **{**session.simulator_options(), "source": "explorer"})


def dialpad(cli: str = "+15551234567", to: str = "+15559876543", timeout: float | None = None) -> Dialpad:
    """A softphone: Call, press keys, hear the answers, Hang up (over real HTTP to the runtime)."""
    import httpx

    from .notebook.dialpad import Dialpad
    from .simulate.caller import http_transport

    session = get_session()

    def transport() -> Transport:
        return http_transport(httpx.Client(base_url=session.running().url, timeout=30))

    return Dialpad(transport, cli=cli, to=to, call_options=session.simulator_options(), timeout=timeout)
