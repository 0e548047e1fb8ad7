"""``context`` in a deployed Function: the Functions runtime's cache, storage and assets, reached through Node.

Standard library only; it runs inside Pyodide in a Node worker thread. Node's cache, storage,
assets and ``fetch`` are async; the handler's are sync, as in the notebook. Each use is one
call to ``host(request_id, op, args_json) -> reply_json``: the worker posts it to Node's main
thread and blocks on ``Atomics.wait`` until that thread has awaited the real operation and
answered (``templates/function.js``). So a handler reads and writes the live store, once, in
order: nothing is copied up front and nothing runs twice.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .context import DEFAULT_CACHE_TTL, FunctionConfig, RequestLog
from .environment import Environment
from .errors import SinchNbError

if TYPE_CHECKING:
    from .sinch_api import FunctionClients

__all__ = ["Host", "HostError", "NodeCache", "NodeContext", "NodeStorage"]

#: ``host(request_id, op, args_json) -> reply_json``: one synchronous call into Node's main thread.
Host = Callable[[str, str, str], str]


class HostError(SinchNbError, OSError):
    """Node's side of a cache, storage, asset or fetch call failed; the message is Node's."""


class _Calls:
    """This request's calls into Node: JSON in, ``{"value": …}`` or ``{"error": …}`` out."""

    __slots__ = ("_host", "_request_id")

    def __init__(self, host: Host, request_id: str) -> None:
        self._host, self._request_id = host, request_id

    def __call__(self, op: str, *args: Any) -> Any:
        reply = json.loads(self._host(self._request_id, op, json.dumps(args)))
        if "error" in reply:
            raise HostError(f"{op} failed in the Function: {reply['error']}")
        return reply.get("value")


class NodeCache:
    """The Function's cache (``context.cache``), each call made on Node's cache as it happens."""

    def __init__(self, call: _Calls) -> None:
        self._call = call

    def set(self, key: str, value: Any, ttl: float = DEFAULT_CACHE_TTL) -> None:
        """Store ``value`` for ``ttl`` seconds (default 3600); values must be JSON-serialisable."""
        try:
            json.dumps(value)
        except TypeError as error:
            raise TypeError(f"cache values must be JSON-serialisable, as in the Functions runtime: {error}") from None
        self._call("cache.set", key, value, ttl)

    def get(self, key: str, default: Any = None) -> Any:
        """The value for ``key``, or ``default`` when absent (Node's cache answers null)."""
        value = self._call("cache.get", key)
        return default if value is None else value

    def has(self, key: str) -> bool:
        """Whether ``key`` holds a live value."""
        return bool(self._call("cache.has", key))

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""
        return bool(self._call("cache.delete", key))

    def extend(self, key: str, seconds: float) -> bool:
        """Give a live entry ``seconds`` more; False when it is absent."""
        return bool(self._call("cache.extend", key, seconds))

    def keys(self, pattern: str = "*") -> list[str]:
        """Live keys matching a glob such as ``session:*``."""
        return sorted(self._call("cache.keys", pattern) or [])

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The live values among ``keys``."""
        found = self._call("cache.getMany", list(keys)) or {}
        return {key: value for key, value in found.items() if value is not None}


class NodeStorage:
    """The Function's storage (``context.storage``); bytes cross as base64."""

    def __init__(self, call: _Calls) -> None:
        self._call = call

    def write(self, key: str, data: bytes | str) -> None:
        """Store ``data`` under ``key``."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self._call("storage.write", key, base64.b64encode(raw).decode())

    def read(self, key: str) -> bytes:
        """The bytes under ``key``; KeyError when absent, as in the notebook."""
        found = self._call("storage.read", key)
        if found is None:
            raise KeyError(f"no storage object {key!r}")
        return base64.b64decode(found)

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``."""
        return sorted(self._call("storage.list", prefix) or [])

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return bool(self._call("storage.exists", key))

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""
        return bool(self._call("storage.delete", key))


class NodeContext:
    """``context`` in a deployed Function; the same members as the notebook's."""

    def __init__(self, request: dict[str, Any], host: Host) -> None:
        self.request_id = str(request.get("request_id") or uuid.uuid4().hex)
        call = _Calls(host, str(request.get("rid") or self.request_id))
        self._call = call
        self.cache = NodeCache(call)
        self.storage = NodeStorage(call)
        self.log = RequestLog()
        self.database = str(request.get("database") or "data/function.db")
        config = request.get("config") or {}
        self.config = FunctionConfig(
            function_name=str(config.get("functionName") or "function"),
            project_id=config.get("projectId"),
            environment=str(config.get("environment") or "production"),
            variables=dict(config.get("variables") or {}),
        )
        self.timestamp = str(request.get("timestamp") or "")
        self._env: Environment | None = None
        self._clients: FunctionClients | None = None

    def __repr__(self) -> str:
        return f"<context request {self.request_id} of function {self.config.function_name!r} (deployed)>"

    @property
    def env(self) -> Environment:
        """The Function's environment (``context.env``, else ``process.env``), asked of Node on first use."""
        if self._env is None:
            self._env = Environment(dict(self._call("env") or {}))
        return self._env

    @property
    def clients(self) -> FunctionClients:
        """``voice``, ``conversation``, ``sms``, ``numbers``: built on first use from ``env``, over Node's fetch."""
        if self._clients is None:
            from .sinch_api import build_function_clients  # on first use: most handlers never load the clients

            self._clients = build_function_clients(self.env, self.fetch)
        return self._clients

    @property
    def voice(self) -> Any:
        """The Calling API (v1) and Voice API v2 ``call``, as ``context.voice`` in the notebook."""
        return self.clients.voice

    @property
    def conversation(self) -> Any:
        """The Conversation API, as the notebook's (the official SDK's method names)."""
        return self.clients.conversation

    @property
    def sms(self) -> Any:
        """The SMS API, as the notebook's (the official SDK's method names)."""
        return self.clients.sms

    @property
    def numbers(self) -> Any:
        """No Numbers client in the Function yet: a stand-in that says so."""
        return self.clients.numbers

    def assets(self, name: str) -> str:
        """The text of ``assets/<name>``, as ``context.assets()`` in the Functions runtime."""
        text = self._call("assets", name)
        if text is None:
            raise FileNotFoundError(f"no asset {name!r}: put it in the notebook's assets/ folder before exporting")
        return str(text)

    def fetch(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request over the Function's own ``fetch``: status, headers, body (the clients' transport)."""
        encoded = base64.b64encode(body).decode() if body is not None else None
        reply = self._call("fetch", method, url, headers, encoded)
        return int(reply["status"]), dict(reply["headers"]), base64.b64decode(reply["body"])
