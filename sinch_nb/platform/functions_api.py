"""The Functions Operations API: a deployed function's status, and its request logs as Server-Sent Events."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import EventSource, connect_sse

from ..functions.errors import CredentialsError, PlatformError
from .errors import raise_for_status
from .oauth import TokenSource

if TYPE_CHECKING:
    from .credentials import CredentialStore

__all__ = [
    "LOG_FIXES",
    "FunctionsApi",
    "LogEvent",
    "LogStream",
    "functions_api",
    "log_record",
    "require_functions_api",
]

DONE = ("Running", "Failed", "Stopped")


class FunctionsApi:
    """``/v1/projects/{project}/functions/{id}/status`` and ``…/logs/stream`` (reference §5.2)."""

    def __init__(self, base_url: str, project_id: str, tokens: TokenSource, client: httpx.Client | None = None) -> None:
        self.base_url, self.project_id, self.tokens = base_url, project_id, tokens
        self.client = client or httpx.Client(timeout=30)

    def _url(self, function_id: str, tail: str) -> str:
        return f"{self.base_url}/v1/projects/{self.project_id}/functions/{function_id}/{tail}"

    def status(self, function_id: str) -> dict[str, Any]:
        """``{functionId, status, error, url}``."""
        response = self.client.get(self._url(function_id, "status"), headers=self.tokens.headers())
        raise_for_status(response, f"reading function {function_id}'s status")
        result: dict[str, Any] = response.json()
        return result

    def wait(
        self,
        function_id: str,
        *,
        timeout: float = 600,
        interval: float = 5,
        on_status: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until Running, Failed or Stopped (the build timeout is 10 minutes)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.status(function_id)
            if on_status is not None:
                on_status(str(state.get("status")))
            if state.get("status") in DONE or time.monotonic() > deadline:
                return state
            time.sleep(interval)

    @contextmanager
    def open_logs(
        self,
        function_id: str,
        *,
        since: str | None = None,
        last_event_id: str | None = None,
        level: str | None = None,
        read_timeout: float = 30.0,
    ) -> Iterator[LogStream]:
        """The live ``…/logs/stream`` (it never ends by itself); raises ``PlatformError`` naming the fix.

        ``since`` (ISO 8601) is the documented resume point; ``Last-Event-ID`` is the SSE one, sent too
        when given, since the reference does not say which the platform honours.
        """
        params = {k: v for k, v in (("since", since), ("level", level)) if v}
        headers = self.tokens.headers()
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        what = f"reading function {function_id}'s logs"
        timeout = httpx.Timeout(read_timeout, connect=10.0)
        url = self._url(function_id, "logs/stream")
        with connect_sse(self.client, "GET", url, params=params, headers=headers, timeout=timeout) as source:
            response = source.response
            if response.is_error:
                response.read()
                raise_for_status(response, what, LOG_FIXES)
            kind = response.headers.get("content-type", "").partition(";")[0].strip()
            if kind != "text/event-stream":
                raise PlatformError(
                    f"{what} failed: the answer is {kind or 'untyped'}, not text/event-stream; "
                    "check SINCH_FUNCTIONS_URL (unset, it is https://functions.api.sinch.com)"
                )
            yield LogStream(source)


#: The fixes for a log stream's refusals (the general ones speak of applications, not functions).
LOG_FIXES = {
    401: "the credentials were refused: check PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET "
    "(%sinch secrets list shows which are set)",
    403: "this access key may not read the function's logs: check its permissions in the Sinch dashboard",
    404: "Sinch has no such function in PROJECT_ID's project: %sinch deploy first",
}


@dataclass(frozen=True)
class LogEvent:
    """One event off the log stream: its SSE ``id`` ("" when it has none) and ``data`` (JSON text)."""

    id: str
    data: str

    @property
    def key(self) -> str:
        """Which event this is: the same id and data are the same event, however often it is replayed.

        The data is part of the key because SSE carries an id over to events that name none.
        """
        try:
            canonical = json.dumps(json.loads(self.data), sort_keys=True, separators=(",", ":"))
        except ValueError:
            canonical = self.data
        return hashlib.sha256(f"{self.id}\n{canonical}".encode()).hexdigest()

    def fields(self) -> dict[str, Any]:
        """The event's JSON object; ``ValueError`` when the data is not one."""
        value = json.loads(self.data)
        if not isinstance(value, dict):
            raise ValueError(f"log event {self.id or '(no id)'} is not a JSON object")
        return value

    def timestamp(self) -> str | None:
        """The event's ``timestamp`` (ISO 8601), the ``since`` a reconnect resumes from."""
        try:
            stamp = self.fields().get("timestamp")
        except ValueError:
            return None
        return stamp if isinstance(stamp, str) else None


class LogStream:
    """One open log stream; ``close()``, from any thread, ends a read that is waiting for the next event."""

    def __init__(self, source: EventSource) -> None:
        self._source = source

    def __iter__(self) -> Iterator[LogEvent]:
        for sse in self._source.iter_sse():
            if sse.data:  # comments and bare ids or retries carry no request
                yield LogEvent(sse.id, sse.data)

    def close(self) -> None:
        """Shut the connection's socket down: the blocked read returns at once (a plain close leaves it waiting).

        The reading thread then closes the response itself; closing a socket another thread reads is unsafe.
        """
        network = self._source.response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if isinstance(sock, socket.socket):
            with suppress(OSError):  # already closed by the other side
                sock.shutdown(socket.SHUT_RDWR)


def log_record(event: dict[str, Any]) -> dict[str, Any]:
    """A journal record for one deployed request, beside the local ones (``source`` = deployed)."""
    request, response = event.get("request") or {}, event.get("response") or {}
    path = str(request.get("path") or event.get("path") or "/")
    body = request.get("body")
    payload = body if isinstance(body, dict) else {}
    last = path.rstrip("/").rsplit("/", 1)[-1]
    kind = last if last in ("ice", "ace", "pie", "dice", "notify") else str(payload.get("event") or "")
    if kind not in ("ice", "ace", "pie", "dice", "notify"):
        kind = "conversation" if path.endswith("/webhook/conversation") else "http"
    stamp = event.get("timestamp")
    when = time.time()
    if isinstance(stamp, str):
        from datetime import datetime

        when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    response_body = response.get("body")
    return {
        "time": when,
        "method": request.get("method", "POST"),
        "path": path,
        "kind": kind,
        "call_id": payload.get("callid"),
        "cli": payload.get("cli"),
        "request_body": json.dumps(body) if not isinstance(body, str) else body,
        "status": response.get("statusCode", event.get("statusCode")),
        "response_body": json.dumps(response_body) if not isinstance(response_body, str) else response_body,
        "latency_ms": event.get("durationMs"),
        "logs": [{"level": "info", "message": str(line)} for line in event.get("console") or []] or None,
        "outcome": "ok" if int(response.get("statusCode", 200) or 200) < 400 else "error",
        "source": "deployed",
    }


def functions_api(store: CredentialStore) -> FunctionsApi | None:
    """The Operations API client the project's access key allows, or None without one."""
    from . import hosts
    from .oauth import TokenSource

    found = store.credentials()
    if not (found.project_id and found.key_id and found.key_secret):
        return None
    tokens = TokenSource(hosts.auth_url(store.lookup), found.key_id, found.key_secret)
    return FunctionsApi(hosts.functions_url(store.lookup), found.project_id, tokens)


def require_functions_api(store: CredentialStore, what: str) -> FunctionsApi:
    """``functions_api``, or a ``CredentialsError`` naming the variables ``what`` needs."""
    api = functions_api(store)
    if api is None:
        raise CredentialsError(
            f"{what} needs PROJECT_ID, PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET: "
            "%sinch secrets add NAME, or set them in the environment or .env"
        )
    return api
