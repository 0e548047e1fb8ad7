"""Shared fixtures: Sinch's own payloads, a fresh runtime session on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sinch_nb.runtime.session import Session

FIXTURES = Path(__file__).parent / "fixtures" / "sinch"
PAYLOADS = FIXTURES / "payloads"

#: Secret values the suite hands to sinch_nb; test_zz_no_secret_leaks looks for them everywhere.
USED_SECRETS: set[str] = {
    "BeIukql3pTKJ8RGL5zo0DA==",  # VOICE_APPLICATION_SECRET (Sinch's docs example)
    "key-secret",  # PROJECT_ID_API_SECRET
    "foo_secret1234",  # a Conversation webhook secret
    "test-token",  # NGROK_AUTHTOKEN
}
#: Everything the tests printed or logged (captured by pytest), for the same scan.
CAPTURED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    CAPTURED.extend(text for _, text in report.sections)


def payload(name: str) -> dict[str, Any]:
    """One of Sinch's SDK test payloads, by file-name prefix (``voice-ice``)."""
    (path,) = PAYLOADS.glob(f"{name}.*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A session of its own, journaling to a temporary folder, stopped afterwards."""
    own = Session()
    own.configure(journal=tmp_path / "journal.db", base_dir=tmp_path)
    yield own
    own.shutdown()


@pytest.fixture
def client(session: Session) -> Iterator[httpx.Client]:
    """An HTTP client for ``session``'s runtime, started on a free loopback port."""
    server = session.start()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture
def sn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The public ``sinch_nb`` face over a clean kernel session in a temporary folder."""
    import sinch_nb

    monkeypatch.chdir(tmp_path)
    sinch_nb.reset_session().configure(journal=tmp_path / "journal.db", base_dir=tmp_path)
    sinch_nb.get_session().user_settings.clear()
    yield sinch_nb
    sinch_nb.reset_session()


NODE_CACHE = Path(__file__).resolve().parent / ".cache" / "node"


@pytest.fixture(scope="session")
def pyodide() -> Path:
    """Pyodide from npm, installed once into tests/.cache (the Functions runtime package is not on these registries)."""
    from sinch_nb.deployment.parity import install_pyodide

    if shutil.which("node") is None:
        pytest.fail("node is needed for the deploy tests")
    return install_pyodide(NODE_CACHE)


class MemoryHost:
    """What function.js's main thread answers the bridge's host calls with, over dicts: the bridge in CPython.

    The same ops and reply shapes as ``OPS`` in ``templates/function.js``; ``calls`` lists them in order.
    """

    def __init__(self, assets: dict[str, str] | None = None, env: dict[str, str] | None = None) -> None:
        self.env = dict(env or {})
        self.cache: dict[str, Any] = {}
        self.storage: dict[str, bytes] = {}
        self.assets = dict(assets or {})
        self.calls: list[tuple[str, list[Any]]] = []

    def __call__(self, rid: str, op: str, args_json: str) -> str:
        import base64
        import fnmatch

        args = json.loads(args_json)
        self.calls.append((op, args))
        ops: dict[str, Any] = {
            "cache.get": lambda key: self.cache.get(key),
            "cache.set": lambda key, value, ttl: self.cache.__setitem__(key, value),
            "cache.has": lambda key: key in self.cache,
            "cache.delete": lambda key: self.cache.pop(key, None) is not None,
            "cache.extend": lambda key, seconds: key in self.cache,
            "cache.keys": lambda pattern: [k for k in self.cache if fnmatch.fnmatchcase(k, pattern)],
            "cache.getMany": lambda keys: {k: self.cache[k] for k in keys if k in self.cache},
            "storage.write": lambda key, data: self.storage.__setitem__(key, base64.b64decode(data)),
            "storage.read": lambda key: base64.b64encode(self.storage[key]).decode() if key in self.storage else None,
            "storage.list": lambda prefix: [k for k in self.storage if k.startswith(prefix)],
            "storage.exists": lambda key: key in self.storage,
            "storage.delete": lambda key: self.storage.pop(key, None) is not None,
            "assets": lambda name: self.assets.get(name),
            "env": lambda: self.env,
        }
        return json.dumps({"value": ops[op](*args)})


def stream_rows() -> list[dict[str, Any]]:
    """The kernel session's stream rows once each is final (the runtime rewrites a row when its stream has ended)."""
    import sinch_nb

    deadline = time.monotonic() + 10
    while True:
        rows = [row for row in sinch_nb.get_session().journal.rows("", ()) if row["kind"] == "stream"]
        if all(row["outcome"] != "running" for row in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)
