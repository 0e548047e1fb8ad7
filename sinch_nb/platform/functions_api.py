"""The Functions Operations API: a deployed function's status, and its request logs as Server-Sent Events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from ..functions.errors import CredentialsError
from .errors import raise_for_status
from .oauth import TokenSource

if TYPE_CHECKING:
    from .credentials import CredentialStore

__all__ = ["FunctionsApi", "functions_api", "log_record", "require_functions_api"]

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

    def logs(self, function_id: str, *, since: str | None = None, level: str | None = None) -> Iterator[dict[str, Any]]:
        """Each log event (one request/response cycle) as it arrives; ends when the stream closes."""
        params = {k: v for k, v in (("since", since), ("level", level)) if v}
        headers = {**self.tokens.headers(), "Accept": "text/event-stream"}
        with self.client.stream("GET", self._url(function_id, "logs/stream"), params=params, headers=headers) as stream:
            raise_for_status(stream, f"streaming function {function_id}'s logs") if stream.is_error else None
            data: list[str] = []
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    yield json.loads("\n".join(data))
                    data = []
            if data:
                yield json.loads("\n".join(data))


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
