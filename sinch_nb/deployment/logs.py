"""A deployed Function's request logs, into the journal beside the notebook's own callbacks.

The platform's log stream (Server-Sent Events, reference §5.2) never ends by itself. ``read_logs``
takes what it holds now and returns; ``LogFollower`` holds it open, resumes after a drop where it
left off, and says what went wrong. A ``LogCursor`` per function keeps any event out of the journal
a second time, however often the stream replays it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from ..functions.errors import DeployError, PlatformError

if TYPE_CHECKING:
    from ..journal import Journal
    from ..platform.functions_api import FunctionsApi, LogEvent, LogStream

__all__ = ["LogCursor", "LogFollower", "cursor_for", "deployed_function_id", "read_logs"]

#: How long ``read_logs`` waits for the first event once the stream answered (the platform may gather its backlog).
FIRST_EVENT_WAIT = 1.0
#: The quiet after an event that means the stream has caught up: what follows is new traffic.
CAUGHT_UP_GAP = 0.5
#: At most this long in all, when events keep coming without a gap.
READ_AT_MOST = 10.0
#: A live stream silent this long is reconnected (quietly: a half-open connection would otherwise hang).
QUIET_RECONNECT = 300.0
#: Waits before reconnecting after a failure: the first, doubled per failure in a row, up to the last.
RETRY_FIRST, RETRY_MOST = 0.25, 30.0
#: Statuses worth retrying; any other refusal will not change by itself.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: A follower keeps this many failure messages.
ERRORS_KEPT = 100


def deployed_function_id(build_dir: Path, name: str) -> str:
    """The ``functionId`` the last deploy of ``name`` recorded; names the fix when there is none."""
    config = build_dir / name / "sinch.json"
    function_id = json.loads(config.read_text()).get("functionId") if config.is_file() else None
    if not function_id:
        raise DeployError(f"no deployed function {name}: %sinch deploy first")
    return str(function_id)


def _report(message: str) -> None:
    """Show a log-stream problem in the notebook (stderr reaches the cell output from any thread)."""
    print(message, file=sys.stderr, flush=True)


class LogCursor:
    """What this session journaled of one function's log stream: each event once, and where to resume."""

    def __init__(self) -> None:
        #: Event key → the journal row it became.
        self.rows: dict[str, int] = {}
        #: The SSE id of the newest event journaled (sent as ``Last-Event-ID`` on reconnect).
        self.last_event_id: str | None = None
        #: The newest event's ``timestamp`` (sent as ``since`` on reconnect).
        self.since: str | None = None
        self._newest = float("-inf")
        self._lock = threading.Lock()

    def journal(self, event: LogEvent, journal: Journal) -> tuple[int, bool]:
        """The journal row of ``event``, and whether it is new: appended the first time, the same row after."""
        from ..platform.functions_api import log_record

        key = event.key
        with self._lock:
            if key in self.rows:
                return self.rows[key], False
            row = journal.append(log_record(event.fields()))
            self.rows[key] = row
            if event.id:
                self.last_event_id = event.id
            stamp = event.timestamp()
            when = _parse_time(stamp)
            if stamp is not None and when is not None and when >= self._newest:
                self.since, self._newest = stamp, when
            return row, True


def _parse_time(stamp: str | None) -> float | None:
    """Seconds since the epoch of an ISO 8601 ``stamp``, or None when it is not one."""
    if stamp is None:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


_CURSORS: weakref.WeakKeyDictionary[Journal, dict[str, LogCursor]] = weakref.WeakKeyDictionary()
_CURSORS_LOCK = threading.Lock()


def cursor_for(journal: Journal, function_id: str) -> LogCursor:
    """The one cursor of ``function_id`` in ``journal``: ``sn.logs`` calls and followers share it."""
    with _CURSORS_LOCK:
        return _CURSORS.setdefault(journal, {}).setdefault(function_id, LogCursor())


class _Watchdog:
    """Closes ``stream`` when it has gone quiet: nothing for ``first`` s, then ``gap`` s after an event."""

    def __init__(self, stream: LogStream, first: float, gap: float, limit: float) -> None:
        self.stream, self.gap = stream, gap
        self.fired = False
        self._due = time.monotonic() + first
        self._end = time.monotonic() + limit
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sinch_nb-logs-caught-up", daemon=True)
        self._thread.start()

    def event(self) -> None:
        """An event came: the stream is not quiet yet."""
        self._due = time.monotonic() + self.gap

    def _watch(self) -> None:
        while not self._done.wait(max(0.0, min(self._due, self._end) - time.monotonic())):
            if time.monotonic() >= min(self._due, self._end):
                self.fired = True
                self.stream.close()
                return

    def cancel(self) -> None:
        """The read is over: stop watching."""
        self._done.set()
        self._thread.join()


def read_logs(
    api: FunctionsApi,
    function_id: str,
    journal: Journal,
    cursor: LogCursor | None = None,
    *,
    first: float = FIRST_EVENT_WAIT,
    gap: float = CAUGHT_UP_GAP,
    limit: float = READ_AT_MOST,
) -> list[int]:
    """Journal the events the stream holds now; returns their rows (ones already journaled keep theirs).

    "Now" is what the stream sends before it goes quiet: the backlog it replays on connect, ended by
    ``gap`` s without an event (``first`` s before the first one), or ``limit`` s in all. The live
    stream never ends, so without this the read would wait for the HTTP read timeout and fail.
    """
    cursor = cursor or cursor_for(journal, function_id)
    rows: list[int] = []
    watchdog: _Watchdog | None = None
    try:
        with api.open_logs(function_id) as stream:
            watchdog = _Watchdog(stream, first, gap, limit)
            try:
                for event in stream:
                    watchdog.event()
                    try:
                        row, _ = cursor.journal(event, journal)
                    except ValueError as error:
                        _report(f"sn.logs: skipped a log event of function {function_id}: {error}")
                        continue
                    if row not in rows:
                        rows.append(row)
            finally:
                watchdog.cancel()
    except httpx.TransportError as error:
        if watchdog is None or not watchdog.fired:  # a real failure, not the watchdog ending the read
            raise PlatformError(
                f"reading function {function_id}'s logs failed: {_describe(error)}; check the network, then try again"
            ) from error
    return rows


def _is_transient(error: Exception) -> bool:
    """Whether ``error`` may pass by itself: a dropped connection or a server having trouble."""
    if isinstance(error, httpx.TransportError):
        return True
    return isinstance(error, PlatformError) and error.status in TRANSIENT_STATUSES


class LogFollower:
    """Holds the live log stream open in the background, journaling each event as it arrives, until ``stop()``.

    After a drop it reconnects with ``Last-Event-ID`` and ``since`` (the last event's id and timestamp)
    and journals no event twice. A failure is printed once per distinct message and kept in
    ``errors``; a refusal (401, 403, 404, …) stops it with the fix, anything else retries with backoff.
    """

    def __init__(
        self,
        api: FunctionsApi,
        function_id: str,
        journal: Journal,
        cursor: LogCursor | None = None,
        *,
        report: Callable[[str], None] = _report,
    ) -> None:
        self.function_id = function_id
        self.cursor = cursor or cursor_for(journal, function_id)
        #: Every failure, oldest first (the last ``ERRORS_KEPT``); none holds a credential.
        self.errors: list[str] = []
        #: The failure it is retrying after now, or None while the stream is open.
        self.error: Exception | None = None
        #: Why it stopped by itself (a refusal that retrying cannot fix), or None.
        self.failed: str | None = None
        #: Events journaled by this follower, and how many times it connected.
        self.events = 0
        self.connections = 0
        self._api, self._journal, self._report = api, journal, report
        self._reported: set[str] = set()
        self._shown = False  # a failure was printed since the stream was last open
        self._healthy = False  # the current connection delivered an event
        self._stopped = threading.Event()
        self._stream: LogStream | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._follow, name="sinch_nb-logs", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        delay = RETRY_FIRST
        while not self._stopped.is_set():
            try:
                self._hold()  # returns when stopped, or after a long quiet: reconnect at once
                delay = RETRY_FIRST
            except Exception as error:
                if self._stopped.is_set():
                    return
                if not _is_transient(error):
                    self._fail(error)
                    return
                if self._healthy:  # it delivered before dropping: a new run of failures starts here
                    delay = RETRY_FIRST
                self._failure(error, f"reconnecting in {delay:g} s")
                self._stopped.wait(delay)
                delay = min(delay * 2, RETRY_MOST)

    def _hold(self) -> None:
        """One connection, resumed where the cursor is, until it drops (raises), goes quiet or is stopped."""
        self._healthy = False
        cursor = self.cursor
        with self._api.open_logs(
            self.function_id, since=cursor.since, last_event_id=cursor.last_event_id, read_timeout=QUIET_RECONNECT
        ) as stream:
            with self._lock:
                if self._stopped.is_set():
                    return
                self._stream = stream
            self.connections += 1
            self._recovered()
            try:
                for event in stream:
                    try:
                        _, new = cursor.journal(event, self._journal)
                    except ValueError as error:
                        self._failure(error, "skipped it", current=False)
                        continue
                    self.events += int(new)
                    self._healthy = True
            except httpx.ReadTimeout:
                return  # silent for QUIET_RECONNECT s: maybe a half-open connection, so open a new one
            finally:
                with self._lock:
                    self._stream = None
        if not self._stopped.is_set():
            raise httpx.RemoteProtocolError("the platform closed the log stream")

    def _failure(self, error: Exception, then: str, *, current: bool = True) -> None:
        """Keep ``error`` (``current``: the one it is retrying after) and print it once per distinct message."""
        message = _describe(error)
        if current:
            self.error = error
        self.errors.append(message)
        del self.errors[:-ERRORS_KEPT]
        if message not in self._reported:
            self._reported.add(message)
            self._shown = True
            self._report(f"sn.logs(follow=True) for function {self.function_id}: {message}; {then}")

    def _recovered(self) -> None:
        """The stream is open again: clear the failure, and say so if it was printed."""
        self.error = None
        if self._shown:
            self._shown = False
            self._report(f"sn.logs(follow=True) for function {self.function_id}: following again")

    def _fail(self, error: Exception) -> None:
        """Stop for good: retrying cannot fix ``error``; its message names the fix."""
        message = _describe(error)
        self.error, self.failed = error, message
        self.errors.append(message)
        self._stopped.set()
        self._report(f"sn.logs(follow=True) for function {self.function_id} stopped: {message}")

    @property
    def running(self) -> bool:
        """Whether it still follows the stream (connected, or waiting to reconnect)."""
        return self._thread.is_alive() and not self._stopped.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following now, even while the stream is quiet (the rows read so far stay in the journal)."""
        with self._lock:
            self._stopped.set()
            stream = self._stream
        if stream is not None:
            stream.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __repr__(self) -> str:
        if self.failed is not None:
            state = f"stopped: {self.failed}"
        elif not self.running:
            state = "stopped"
        elif self.error is not None:
            state = f"reconnecting after: {_describe(self.error)}"
        else:
            state = "following"
        counts = f"{self.events} event{'s' * (self.events != 1)}"
        failures = f", {len(self.errors)} failure{'s' * (len(self.errors) != 1)}" if self.errors else ""
        return f"<sinch_nb log follower for function {self.function_id}: {state} ({counts}{failures})>"


def _describe(error: Exception) -> str:
    """A failure in one line: the message names the fix; a transport error says what broke."""
    if isinstance(error, PlatformError):
        return str(error)
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return f"could not connect to the log stream ({type(error).__name__}: {error or 'no detail'})"
    if isinstance(error, httpx.TransportError):
        return f"the connection to the log stream broke ({type(error).__name__}: {error or 'no detail'})"
    return f"{type(error).__name__}: {error}"
