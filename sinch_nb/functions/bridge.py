"""The Python side of a deployed Function: the Node entry hands each request here, as JSON.

Standard library only; it runs inside Pyodide in the Sinch Functions Node runtime. Node
passes the request and a snapshot of the cache; Python runs the notebook's handler against
a context with the same methods as in the notebook, and returns the answer plus what the
handler wrote to the cache, storage and log, for Node to apply. The answer is shaped as
the notebook runtime shapes it: SVAML for ICE/ACE/PIE (the fallback when the handler
fails), an empty 200 for DiCE and Notify; for a Voice API v2 ``call.*`` event (``kind``
``call``, ``key`` the ``onCall`` slot Node picked), ``{"commands": [...]}`` with 200 or nothing
with 204, by the rules of ``call_answers`` (the v2 fallback when a live event's handler fails).
"""

from __future__ import annotations

import fnmatch
import json
import traceback
import uuid
from typing import Any

from . import call_answers, routing, svaml
from .answers import DEFAULT_FALLBACK, http_answer, svaml_answer
from .calls import parse_call
from .cells import build_handlers
from .context import DEFAULT_CACHE_TTL, FunctionConfig, RequestLog
from .environment import Environment
from .errors import SinchNbError
from .events import parse_event
from .http import HttpRequest

__all__ = ["Bridge"]


class SnapshotCache:
    """The Function's cache as the handler sees it: a snapshot, with writes recorded for Node."""

    def __init__(self, entries: dict[str, Any]) -> None:
        self._entries = dict(entries)
        self.writes: list[list[Any]] = []

    def set(self, key: str, value: Any, ttl: float = DEFAULT_CACHE_TTL) -> None:
        json.dumps(value)  # as in the notebook: values must be JSON-serialisable
        self._entries[key] = value
        self.writes.append(["set", key, value, ttl])

    def get(self, key: str, default: Any = None) -> Any:
        return self._entries.get(key, default)

    def has(self, key: str) -> bool:
        return key in self._entries

    def delete(self, key: str) -> bool:
        self.writes.append(["delete", key])
        return self._entries.pop(key, None) is not None

    def extend(self, key: str, seconds: float) -> bool:
        self.writes.append(["extend", key, seconds])
        return key in self._entries

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(k for k in self._entries if fnmatch.fnmatchcase(k, pattern))

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return {k: self._entries[k] for k in keys if k in self._entries}


class NeedFromNode(Exception):  # noqa: N818 (a signal to Node, not an error)
    """The handler read something only Node can fetch (async there): a stored object or an asset.

    Nothing has been applied yet; Node fetches it and runs the handler again with it.
    """

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key}")
        self.what, self.key = what, key


class BufferedStorage:
    """Storage as the handler sees it: objects Node fetched, this call's writes (applied by Node afterwards)."""

    def __init__(self, known: list[str], fetched: dict[str, str] | None = None) -> None:
        self.known = set(known)
        self.fetched = {k: v.encode("latin-1") for k, v in (fetched or {}).items()}
        self.written: dict[str, bytes] = {}
        self.writes: list[list[Any]] = []

    def write(self, key: str, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.written[key] = raw
        self.known.add(key)
        self.writes.append(["write", key, raw.decode("latin-1")])

    def read(self, key: str) -> bytes:
        if key in self.written:
            return self.written[key]
        if key in self.fetched:
            return self.fetched[key]
        if key in self.known:
            raise NeedFromNode("storage", key)  # Node fetches it (storage is async there) and runs the handler again
        raise KeyError(f"no storage object {key!r}")

    def list(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.known if k.startswith(prefix))

    def exists(self, key: str) -> bool:
        return key in self.known

    def delete(self, key: str) -> bool:
        self.writes.append(["delete", key])
        existed = key in self.known
        self.known.discard(key)
        self.written.pop(key, None)
        return existed


class Context:
    """``context`` in a deployed Function; the same members as the notebook's."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.cache = SnapshotCache(request.get("cache") or {})
        self.storage = BufferedStorage(request.get("storage_keys") or [], request.get("storage_objects"))
        self.log = RequestLog()
        self.database = str(request.get("database") or "data/function.db")
        config = request.get("config") or {}
        self.config = FunctionConfig(
            function_name=str(config.get("functionName") or "function"),
            project_id=config.get("projectId"),
            environment=str(config.get("environment") or "production"),
            variables=dict(config.get("variables") or {}),
        )
        self.env = Environment(dict(request.get("env") or {}))
        self.request_id = str(request.get("request_id") or uuid.uuid4().hex)
        self.timestamp = str(request.get("timestamp") or "")
        self._assets = dict(request.get("assets") or {})
        self.voice = self.conversation = self.sms = self.numbers = None

    def assets(self, name: str) -> str:
        if name not in self._assets:
            raise NeedFromNode("asset", name)
        if self._assets[name] is None:
            raise FileNotFoundError(f"no asset {name!r}: put it in the notebook's assets/ folder before exporting")
        return str(self._assets[name])


class Bridge:
    """Handlers by route key, compiled from the notebook's sources."""

    def __init__(self, handlers: dict[str, Any], fallback: dict[str, Any] | None = None) -> None:
        self.handlers = handlers
        self.fallback = fallback or DEFAULT_FALLBACK

    @classmethod
    def from_json(cls, sources_json: str) -> Bridge:
        """The bridge for an exported ``handlers.json`` (module cells, handlers, fallback)."""
        sources = json.loads(sources_json)
        namespace: dict[str, Any] = {"svaml": svaml, "__name__": "sinch_nb_handlers"}
        handlers = build_handlers(sources["modules"], sources["handlers"], namespace)
        return cls(handlers, sources.get("fallback"))

    def handle(self, request_json: str) -> str:
        """One request in (JSON), one answer out (JSON): status, content type, body, and side effects."""
        request = json.loads(request_json)
        context = Context(request)
        try:
            status, content_type, body, error = self._answer(request, context)
        except NeedFromNode as need:  # nothing was applied: Node fetches it and calls again
            return json.dumps({"need": [need.what, need.key]})
        return json.dumps(
            {
                "status": status,
                "content_type": content_type,
                "body": body,
                "error": error,
                "cache": context.cache.writes,
                "storage": context.storage.writes,
                "logs": context.log.records,
            }
        )

    def _answer(self, request: dict[str, Any], context: Context) -> tuple[int, str | None, str, str | None]:
        kind, key = str(request["kind"]), str(request.get("key") or request["kind"])
        if kind == "call":
            return self._call_event(request, context)
        handler = self.handlers.get(key)
        if kind == "http":
            http = HttpRequest(
                method=str(request.get("method", "GET")),
                path=str(request.get("path", "/")),
                query=dict(request.get("query") or {}),
                headers=dict(request.get("headers") or {}),
                body=str(request.get("body") or "").encode(),
            )
            if handler is None:
                return 404, "application/json", json.dumps({"error": f"no handler for {key}"}), None
            try:
                status, _, content_type, raw = http_answer(handler(context, http))
                return status, content_type, raw.decode("utf-8", errors="replace"), None
            except NeedFromNode:
                raise
            except Exception:
                return 500, "application/json", json.dumps({"error": "the handler failed"}), traceback.format_exc()
        payload = json.loads(request.get("body") or "{}")
        event = parse_event(payload, kind)
        if handler is None:
            if kind in ("ice", "pie"):
                return 200, "application/json", json.dumps(self.fallback), f"no {kind.upper()} handler"
            if kind == "ace":
                return 200, "application/json", json.dumps({"action": {"name": "continue"}}), None
            return 200, None, "", None
        try:
            result = handler(context, event)
            if kind not in routing.VOICE_KINDS[:3]:
                body = json.dumps(result) if kind == "conversation" and isinstance(result, dict | list) else ""
                return 200, "application/json" if body else None, body, None
            answer = svaml_answer(kind, result)
            return 200, "application/json", json.dumps(answer), None
        except NeedFromNode:
            raise
        except Exception:
            if kind in ("ice", "ace", "pie"):
                return 200, "application/json", json.dumps(self.fallback), traceback.format_exc()
            return 200, None, "", traceback.format_exc()

    def _call_event(self, request: dict[str, Any], context: Context) -> tuple[int, str | None, str, str | None]:
        """A Voice API v2 webhook: the slot's handler as the notebook runtime calls it, its answer as it answers."""
        body = str(request.get("body") or "")
        try:
            call = parse_call(json.loads(body or "null"))
        except (ValueError, SinchNbError) as error:
            return 400, "application/json", json.dumps({"error": f"not a Voice API v2 event: {error}"}), None
        key = request.get("key")
        if key is None:  # Node did not pick a slot: pick it here, as onCall would
            picked = call_answers.pick_handler(self.handlers, call.event)
            key = picked[0] if picked is not None else None
        handler = self.handlers.get(str(key)) if key is not None else None
        if handler is None:
            default = call_answers.no_handler_answer(call.event)
            if default is None:
                return 204, None, "", None
            return 200, "application/json", json.dumps(default), f"no handler for {call.event}"
        headers = {str(k).lower(): str(v) for k, v in dict(request.get("headers") or {}).items()}
        http = HttpRequest(
            method=str(request.get("method") or "POST"),
            path=str(request.get("path") or "/"),
            query=dict(request.get("query") or {}),
            headers=headers,
            body=body.encode(),
        )
        try:
            result = handler(*call_answers.handler_arguments(handler, context, call, http))
            answer = call_answers.call_answer(result, call.event, call_answers.webhook_url(headers))
        except NeedFromNode:
            raise
        except Exception:
            if call_answers.is_live(call.event):
                return 200, "application/json", json.dumps(call_answers.FALLBACK_V2), traceback.format_exc()
            return 204, None, "", traceback.format_exc()
        if answer is None:
            return 204, None, "", None
        return 200, "application/json", json.dumps(answer), None
