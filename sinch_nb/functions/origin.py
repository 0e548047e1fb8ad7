"""How sinch_nb marks the requests it sends itself: simulated calls and messages, replays.

One place for the header names, shared by the simulator, replay, the pytest replayer and
the runtime that reads them.
"""

from __future__ import annotations

__all__ = ["REPLAY_HEADER", "SIMULATED", "SIMULATED_HEADER"]

SIMULATED_HEADER = "x-sinch-nb-simulated"
REPLAY_HEADER = "x-sinch-nb-replay-of"

#: The header every simulated request carries.
SIMULATED = {SIMULATED_HEADER: "1"}
