"""How sinch_nb marks the requests it sends itself: simulated calls and messages, replays.

A mark is believed only when it carries the runtime's own marker, a random value that never
leaves the process (``CallbackApp.marker``): a request from the network that says it is
simulated, or a replay, is taken for what it is. One place for the header names, shared by
the simulator, replay, the pytest replayer and the runtime that reads them.
"""

from __future__ import annotations

__all__ = [
    "ERROR_HEADER",
    "OUTCOME_HEADER",
    "PLATFORM_PREFIX",
    "REPLAY_HEADER",
    "SANDBOX_HEADER",
    "SIMULATED_HEADER",
    "SOURCES",
    "outcome_headers",
    "replay_header",
    "replay_of",
    "simulated",
    "simulated_source",
]

SIMULATED_HEADER = "x-sinch-nb-simulated"
REPLAY_HEADER = "x-sinch-nb-replay-of"
#: Where the simulated platform's own Sinch APIs live on the runtime's port (loopback only).
PLATFORM_PREFIX = "/sinch-nb/platform"
#: On a simulated request: the explorer's path, whose handlers get a sandboxed context.
SANDBOX_HEADER = "x-sinch-nb-sandbox"
#: On the answer to a marked request only: how the runtime answered, so the simulator can say it.
OUTCOME_HEADER = "x-sinch-nb-outcome"
ERROR_HEADER = "x-sinch-nb-error"


#: Who made a simulated request, when it is not the user: hidden from ``sn.callbacks()`` unless asked for.
SOURCES = ("explorer", "workshop")


def simulated(marker: str, source: str | None = None) -> dict[str, str]:
    """The header a simulated request carries; ``source`` names a maker other than the user (``SOURCES``)."""
    return {SIMULATED_HEADER: f"{marker}:{source}" if source else marker}


def simulated_source(value: str | None, marker: str) -> tuple[bool, str | None]:
    """Whether a simulated header carries ``marker``, and the source it names (one of ``SOURCES``, else None)."""
    if not value or not marker or not value.startswith(marker):
        return False, None
    rest = value[len(marker) :]
    if not rest:
        return True, None
    source = rest[1:] if rest[0] == ":" else None
    return (True, source) if source in SOURCES else (False, None)


def replay_header(marker: str, record_id: int) -> dict[str, str]:
    """The header a replay of record ``record_id`` carries."""
    return {REPLAY_HEADER: f"{marker}:{record_id}"}


def replay_of(value: str | None, marker: str) -> int | None:
    """The record a replay header names, if it carries ``marker`` and an id that fits the journal."""
    if not value or not value.startswith(f"{marker}:"):
        return None
    digits = value[len(marker) + 1 :]
    return int(digits) if 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit() else None


def outcome_headers(outcome: str | None, error: str | None) -> dict[str, str]:
    """What the answer to a marked request says of itself: the outcome, and the error's first line (ASCII)."""
    headers = {OUTCOME_HEADER: outcome or ""}
    if error:
        line = error.strip().splitlines()[0] if error.strip() else ""
        headers[ERROR_HEADER] = line.encode("ascii", "backslashreplace").decode()[:500]
    return headers
