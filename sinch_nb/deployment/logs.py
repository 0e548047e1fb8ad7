"""A deployed Function's request logs, into the journal beside the notebook's own callbacks."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..functions.errors import DeployError

if TYPE_CHECKING:
    from ..journal import Journal
    from ..platform.functions_api import FunctionsApi

__all__ = ["LogFollower", "deployed_function_id", "read_logs"]


def deployed_function_id(build_dir: Path, name: str) -> str:
    """The ``functionId`` the last deploy of ``name`` recorded; names the fix when there is none."""
    config = build_dir / name / "sinch.json"
    function_id = json.loads(config.read_text()).get("functionId") if config.is_file() else None
    if not function_id:
        raise DeployError(f"no deployed function {name}: %sinch deploy first")
    return str(function_id)


def read_logs(api: FunctionsApi, function_id: str, journal: Journal) -> list[int]:
    """Append each log event the stream holds to ``journal`` (``source`` = deployed); returns the ids."""
    from ..platform.functions_api import log_record

    return [journal.append(log_record(event)) for event in api.logs(function_id)]


class LogFollower:
    """Reads the log stream into the journal in the background until ``stop()``."""

    def __init__(self, api: FunctionsApi, function_id: str, journal: Journal, *, interval: float = 2.0) -> None:
        self.function_id = function_id
        #: The last error reading the stream (it keeps trying), or None.
        self.error: Exception | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._follow, args=(api, journal, interval), name="sinch_nb-logs", daemon=True
        )
        self._thread.start()

    def _follow(self, api: FunctionsApi, journal: Journal, interval: float) -> None:
        while not self._stopped.is_set():
            try:
                read_logs(api, self.function_id, journal)
                self.error = None
            except Exception as error:  # the stream dropped: say so in repr, try again
                self.error = error
            self._stopped.wait(interval)

    @property
    def running(self) -> bool:
        """Whether it still follows the stream."""
        return self._thread.is_alive() and not self._stopped.is_set()

    def stop(self) -> None:
        """Stop following (the rows read so far stay in the journal)."""
        self._stopped.set()

    def __repr__(self) -> str:
        state = "following" if self.running else "stopped"
        error = f"; last error: {self.error}" if self.error else ""
        return f"<sinch_nb log follower for function {self.function_id}: {state}{error}>"
