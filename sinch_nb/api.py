"""The functions a notebook calls: ``sn.start()``, ``sn.dial()``, ``sn.callbacks()``, decorators.

Everything here works on the kernel's one session (``runtime.session.SESSION``).
Heavy libraries load on first call, not at import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .functions import routing
from .runtime.session import SESSION

if TYPE_CHECKING:
    import pandas as pd

    from .deployment.export import Project
    from .notebook.dialpad import Dialpad
    from .notebook.monitor import Monitor
    from .platform.clients import Clients
    from .platform.credentials import CredentialStore
    from .platform.linking import Linker
    from .runtime.app import ErrorReport
    from .runtime.registry import Handler
    from .runtime.replay import Diff, Replay
    from .runtime.server import Server
    from .runtime.settings import Settings
    from .simulate.explorer import Exploration
    from .tunnel.doctor import Doctor

__all__ = [
    "ace",
    "callback",
    "callbacks",
    "calls",
    "clients",
    "configure",
    "conversation",
    "deploy",
    "dial",
    "dialpad",
    "dice",
    "diff",
    "doctor",
    "explore",
    "export",
    "export_callbacks",
    "handlers",
    "http",
    "ice",
    "last_error",
    "load_callbacks",
    "logs",
    "monitor",
    "notify",
    "pie",
    "replay",
    "start",
    "status",
    "stop",
    "to_pytest",
]

F = TypeVar("F", bound=Callable[..., Any])


def _register(kind: str, function: F, key: str | None = None) -> F:
    origin = f"function {function.__module__}.{function.__qualname__}"
    SESSION.registry.register(kind, function, origin, key=key)
    return function


def ice(function: F) -> F:
    """Register ``def handler(context, event)`` as the ICE handler (incoming call)."""
    return _register("ice", function)


def ace(function: F) -> F:
    """Register the ACE handler (the called party answered)."""
    return _register("ace", function)


def pie(function: F) -> F:
    """Register the PIE handler (the caller's menu input)."""
    return _register("pie", function)


def dice(function: F) -> F:
    """Register the DiCE handler (the call ended); its answer is ignored."""
    return _register("dice", function)


def notify(function: F) -> F:
    """Register the Notify handler (recordings, transcriptions, AMD)."""
    return _register("notify", function)


def conversation(function: F) -> F:
    """Register the Conversation webhook handler (SMS, WhatsApp, …) at ``/webhook/conversation``."""
    return _register("conversation", function)


def http(method: str, path: str) -> Callable[[F], F]:
    """Register ``def handler(context, request)`` as a custom endpoint, e.g. ``@sn.http("GET", "/status")``."""
    key = routing.handler_key("http", method, path)

    def decorate(function: F) -> F:
        return _register("http", function, key)

    return decorate


def _store() -> CredentialStore:
    from .platform.credentials import CredentialStore

    return CredentialStore(SESSION.settings.base_dir)


def _state_dir() -> Path:
    return SESSION.settings.base_dir / ".sinch_nb"


def _apply_credentials(insecure: bool) -> None:
    """Give the runtime the Voice App and webhook secrets found in env, ``.env`` or the keychain."""
    found = _store().credentials()
    changes: dict[str, Any] = {
        "application_key": found.application_key,
        "application_secret": found.application_secret,
        "conversation_secret": found.conversation_webhook_secret,
    }
    changes = {k: v for k, v in changes.items() if k not in SESSION.explicit}
    explicit = set(SESSION.explicit)
    SESSION.configure(insecure=insecure, **changes)
    SESSION.explicit = explicit


def start(
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    tunnel: str | None = None,
    url: str | None = None,
    link: bool = True,
    insecure: bool = False,
) -> Server:
    """Serve the handlers on ``host:port`` (a free port when None); returns the runtime (``.url``).

    ``tunnel="ngrok"`` or ``"cloudflared"`` (or ``url=`` a public URL you have) makes it reachable
    from Sinch, and, with credentials set and ``link`` on, points the Voice App and a Conversation
    webhook at it until ``stop()``. With ``VOICE_APPLICATION_SECRET`` known, voice callbacks must
    be signed; ``insecure=True`` accepts unsigned ones (forged signatures are always refused).
    """
    from .tunnel import open_tunnel

    _apply_credentials(insecure)
    server = SESSION.start(port=port, host=host)
    SESSION.app.clients = clients()
    if tunnel is None and url is None:
        return server
    store = _store()
    opened = open_tunnel(tunnel or "none", server.port, lookup=store.lookup, state_dir=_state_dir(), url=url)
    server.public_url = opened.public_url if opened else None
    if opened is None:
        return server
    print(f"Public URL {opened.public_url}  ({opened.provider})")
    if link:
        _link(opened.public_url, store)
    return server


def _link(public_url: str, store: CredentialStore) -> None:
    import httpx

    from .platform.errors import PlatformError
    from .platform.linking import Linker

    global _LINKER
    _register_exit()
    _LINKER = Linker(_state_dir(), store.credentials(), store.lookup)
    try:
        messages = _LINKER.link(public_url)
    except (PlatformError, httpx.HTTPError) as error:
        messages = [f"Linking failed, the runtime keeps serving: {error}"]
    if _LINKER.webhook_secret is not None and "conversation_secret" not in SESSION.explicit:
        explicit = set(SESSION.explicit)
        SESSION.configure(conversation_secret=_LINKER.webhook_secret)
        SESSION.explicit = explicit
    for message in messages:
        print(message)


_LINKER: Linker | None = None
_EXIT_REGISTERED = False


def _register_exit() -> None:
    global _EXIT_REGISTERED
    if not _EXIT_REGISTERED:
        import atexit

        atexit.register(_unlink_and_close)  # runs before the session's own shutdown (LIFO)
        _EXIT_REGISTERED = True


def _unlink_and_close() -> list[str]:
    from .tunnel import close_all

    global _LINKER
    messages = _LINKER.safe_restore() if _LINKER is not None else []
    _LINKER = None
    close_all()
    if SESSION.server is not None:
        SESSION.server.public_url = None
    return messages


def stop() -> bool:
    """Put the Voice App and webhooks back, close the tunnel, stop the runtime and free its port.

    True if the runtime was running.
    """
    for message in _unlink_and_close():
        print(message)
    return SESSION.stop()


def clients() -> Clients:
    """The Sinch clients the current credentials allow (``context.voice``, ``.conversation``, …)."""
    from .platform.clients import build_clients

    store = _store()
    return build_clients(store.credentials(), store.lookup)


def doctor() -> Doctor:
    """What works and what does not for a public URL, each failure with its fix."""
    from .tunnel.doctor import run_doctor

    server = SESSION.server
    return run_doctor(_store(), running_port=server.port if server and server.running else None)


def configure(**settings: Any) -> Settings:
    """Change runtime settings: ``handler_timeout``, ``fallback``, ``variables``, ``journal``, …"""
    return SESSION.configure(**settings)


def handlers() -> list[Handler]:
    """The registered handlers, voice first."""
    return SESSION.registry.handlers()


def status() -> dict[str, Any]:
    """Whether the runtime runs, where, with which handlers, and how many callbacks it journaled."""
    server = SESSION.server
    error = SESSION.last_error()
    return {
        "running": bool(server and server.running),
        "url": server.url if server and server.running else None,
        "public_url": server.public_url if server and server.running else None,
        "signatures": "checked" if SESSION.settings.application_secret else "not checked (no VOICE_APPLICATION_SECRET)",
        "handlers": [h.label for h in handlers()],
        "journal": str(SESSION.journal.path),
        "callbacks": SESSION.journal.count(),
        "last_error": f"#{error.record_id}: {error.error}" if error else None,
    }


def callbacks(
    kind: str | None = None, call_id: str | None = None, *, bodies: bool = False, styled: bool = False
) -> Any:
    """Every callback journaled (this session and earlier ones), one row each, as a DataFrame.

    ``bodies=True`` adds request headers and body, response body, traceback and logs;
    ``styled=True`` returns it styled for reading (failures tinted); ``sn.callback(id)`` gives
    one record whole.
    """
    from .journal.views import callbacks_frame
    from .journal.views import styled as style

    frame = callbacks_frame(SESSION.journal, kind=kind, call_id=call_id, bodies=bodies)
    return style(frame) if styled else frame


def callback(record_id: int) -> dict[str, Any]:
    """One journaled request, every field (headers JSON-decoded); KeyError if there is none."""
    import json

    row = SESSION.journal.get(record_id)
    if row is None:
        raise KeyError(f"no callback #{record_id} in {SESSION.journal.path}; sn.callbacks() lists them")
    for name in ("request_headers", "warnings", "logs"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def calls() -> pd.DataFrame:
    """One row per call: first and last seen, kinds in order, menu path, DiCE reason and result."""
    from .journal.views import calls_frame

    return calls_frame(SESSION.journal)


def dial(cli: str, to: str, press: Iterable[str | int] = (), *, custom: str = "") -> pd.DataFrame:
    """Place a simulated call through the runtime (started if needed); returns the transcript."""
    from .simulate.caller import dial as simulate_dial

    server = SESSION.server if SESSION.server and SESSION.server.running else SESSION.start()
    settings = SESSION.settings
    secret = settings.application_secret.reveal() if settings.application_secret else None
    key = settings.application_key or "sinch-nb-simulator"
    transcript = simulate_dial(
        server.url, cli, to, press, custom=custom, application_key=key, application_secret=secret
    )
    return transcript.to_frame()


def last_error() -> ErrorReport | None:
    """The most recent failed callback: handler, error and traceback."""
    return SESSION.last_error()


# -- debugging: replay, diff, explore, files, tests ---------------------------


def replay(record_id: int, body: Any = None) -> Replay:
    """Send callback ``record_id`` again through the runtime (``body`` replaces its body); journaled as a replay."""
    from .runtime.replay import replay as run_replay

    return run_replay(SESSION, record_id, body)


def diff(record_id: int) -> Diff:
    """Replay callback ``record_id`` and compare today's answer with the one it got then."""
    from .runtime.replay import diff as run_diff

    return run_diff(SESSION, record_id)


def _in_process() -> Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]:
    def send(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        result = SESSION.request("POST", path, headers, body)
        return result.status, result.body

    return send


def explore(cli: str = "+15550000001", to: str = "+15550000002", max_depth: int = 5) -> Exploration:
    """Every path through the call flow: each option, timeout and invalid input, recursively; loops found."""
    from .simulate.explorer import explore as run_explore

    settings = SESSION.settings
    secret = settings.application_secret.reveal() if settings.application_secret else None
    key = settings.application_key or "sinch-nb-simulator"
    return run_explore(_in_process(), cli, to, max_depth=max_depth, application_key=key, application_secret=secret)


def export_callbacks(path: str | Path, call_id: str | None = None) -> Path:
    """Write the journal (or one call) to ``path``: ``.jsonl`` or ``.parquet``."""
    from .journal.files import export_callbacks as write

    return write(SESSION.journal, path, call_id)


def load_callbacks(path: str | Path) -> pd.DataFrame:
    """Add the callbacks in ``path`` to this journal (to replay them here); returns them."""
    from .journal.files import load_callbacks as read
    from .journal.views import callbacks_frame

    ids = read(SESSION.journal, path)
    frame = callbacks_frame(SESSION.journal)
    return frame.loc[frame.index.isin(ids)]


def to_pytest(call_id: str, path: str | Path) -> Path:
    """Write a pytest file that replays call ``call_id`` and asserts today's answers."""
    import pprint

    from .runtime.sources import handler_sources

    rows = [row for row in SESSION.journal.rows("WHERE call_id = ?", (call_id,)) if row["status"] is not None]
    if not rows:
        raise KeyError(f"no callbacks for call {call_id}; sn.calls() lists the calls")
    modules, handlers = handler_sources(SESSION.registry)
    captured = [
        {
            "id": row["id"],
            "kind": row["kind"],
            "method": row["method"],
            "path": row["path"],
            "body": row["request_body"],
            "status": row["status"],
            "answer": json.loads(row["response_body"]) if row["response_body"] else None,
        }
        for row in rows
    ]
    text = _PYTEST_TEMPLATE.format(
        call_id=call_id,
        modules=pprint.pformat(modules, width=100),
        handlers=pprint.pformat([h.as_dict() for h in handlers], width=100, sort_dicts=False),
        callbacks=pprint.pformat(captured, width=100, sort_dicts=False),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


_PYTEST_TEMPLATE = '''"""Replays call {call_id} as sinch_nb captured it; fails when today's handlers answer differently.

Generated by sinch_nb.to_pytest: regenerate it after an intended change.
"""

import pytest

from sinch_nb.testing import CallReplayer

MODULES = {modules}

HANDLERS = {handlers}

CALLBACKS = {callbacks}


@pytest.fixture(scope="module")
def replayer(tmp_path_factory):
    replayer = CallReplayer(MODULES, HANDLERS, tmp_path_factory.mktemp("replay"))
    yield replayer
    replayer.close()


@pytest.mark.parametrize("callback", CALLBACKS, ids=[f"{{c['id']}}-{{c['kind']}}" for c in CALLBACKS])
def test_answer_is_unchanged(replayer, callback):
    status, answer = replayer.send(callback)
    assert status == callback["status"]
    assert answer == callback["answer"]
'''


# -- widgets --------------------------------------------------------------------

_MONITOR: Monitor | None = None


def monitor() -> Monitor:
    """The live callback monitor (re-running the cell replaces the previous one)."""
    from .notebook.monitor import Monitor

    global _MONITOR
    if _MONITOR is not None:
        _MONITOR.close()
    _MONITOR = Monitor(SESSION)
    return _MONITOR


def _call_options() -> dict[str, Any]:
    settings = SESSION.settings
    secret = settings.application_secret.reveal() if settings.application_secret else None
    return {"application_key": settings.application_key or "sinch-nb-simulator", "application_secret": secret}


def dialpad(cli: str = "+15551234567", to: str = "+15559876543", timeout: float | None = None) -> Dialpad:
    """A softphone: Call, press keys, hear the answers, Hang up (over real HTTP to the runtime)."""
    import httpx

    from .notebook.dialpad import Dialpad
    from .simulate.caller import http_transport

    def transport() -> Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]:
        server = SESSION.server if SESSION.server and SESSION.server.running else SESSION.start()
        return http_transport(httpx.Client(base_url=server.url, timeout=30))

    return Dialpad(transport, cli=cli, to=to, call_options=_call_options(), timeout=timeout)


# -- deploy -------------------------------------------------------------------------


def export(path: str | Path, name: str, *, variables: dict[str, str] | None = None) -> Project:
    """Write the notebook's handlers as a Sinch Function project (Node runtime, Pyodide inside) to ``path``."""
    from .deployment.export import export_project
    from .runtime.sources import handler_sources

    modules, handlers = handler_sources(SESSION.registry)
    merged = {**SESSION.settings.variables, **(variables or {})}
    return export_project(
        modules,
        [h.as_dict() for h in handlers],
        path,
        name,
        variables=merged,
        fallback=SESSION.settings.fallback,
        assets=SESSION.settings.base_dir / "assets",
    )


def _build_dir(name: str) -> Path:
    return SESSION.settings.base_dir / "build" / name


def deploy(
    name: str | None = None, *, dry_run: bool = False, private: bool = False, wait: bool = True
) -> dict[str, Any]:
    """Export to ``./build/<name>`` and deploy it with the ``sinch`` CLI, then follow it to Running.

    ``dry_run`` lists what would ship (files, variables, secret names) and stops there. A failed
    deploy leaves the last good export, and its ``functionId``, as they were.
    """
    import shutil

    from .deployment.cli import deploy_project

    name = name or SESSION.settings.function_name
    final, staging = _build_dir(name), _build_dir(f".{name}.next")
    if staging.exists():
        shutil.rmtree(staging)
    if (final / "sinch.json").is_file():
        staging.mkdir(parents=True)
        shutil.copy(final / "sinch.json", staging / "sinch.json")  # keeps the functionId
    project = export(staging, name)
    if dry_run:
        files = sorted(str(p.relative_to(staging)) for p in project.files)
        secrets = [line.rstrip("=") for line in (staging / ".env").read_text().splitlines()]
        variables = json.loads((staging / "sinch.json").read_text())["variables"]
        shutil.rmtree(staging)
        summary = {"name": name, "files": files, "variables": variables, "secret_names": secrets}
        print(f"Would deploy {name}: {len(files)} files, variables {sorted(variables)}, secrets {secrets}")
        return summary
    from .notebook.progress import progress

    show = progress(f"Deploying {name} with the sinch CLI")
    try:
        result = deploy_project(staging, private=private, wait=wait, on_line=show)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    summary = {"name": name, "function_id": result.function_id, "url": result.url, "status": result.status}
    api = _functions_api()
    if wait and api is not None and result.function_id:
        state = api.wait(result.function_id, interval=1, on_status=lambda status: show(f"Status: {status}"))
        summary.update(status=state.get("status"), url=state.get("url") or result.url, error=state.get("error"))
    show(f"URL: {summary['url']}")
    return summary


def _functions_api() -> Any:
    from .platform import hosts
    from .platform.functions_api import FunctionsApi
    from .platform.oauth import TokenSource

    store = _store()
    found = store.credentials()
    if not (found.project_id and found.key_id and found.key_secret):
        return None
    tokens = TokenSource(hosts.auth_url(store.lookup), found.key_id, found.key_secret)
    return FunctionsApi(hosts.functions_url(store.lookup), found.project_id, tokens)


def logs(name: str | None = None, *, follow: bool = False) -> Any:
    """The deployed function's request logs, into the journal as rows with ``source`` = deployed.

    Without ``follow`` it reads what the stream holds and returns those rows; with ``follow`` it
    keeps reading in the background and returns a handle whose ``stop()`` ends it.
    """
    import threading

    from .journal.views import callbacks_frame
    from .platform.functions_api import log_record

    name = name or SESSION.settings.function_name
    config = _build_dir(name) / "sinch.json"
    if not config.is_file() or "functionId" not in json.loads(config.read_text()):
        raise KeyError(f"no deployed function {name}: %sinch deploy first")
    function_id = json.loads(config.read_text())["functionId"]
    api = _functions_api()
    if api is None:
        raise KeyError("reading logs needs PROJECT_ID, PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET")

    def read() -> list[int]:
        return [SESSION.journal.append(log_record(event)) for event in api.logs(function_id)]

    if follow:
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                read()
                stop.wait(2)

        threading.Thread(target=loop, name="sinch_nb-logs", daemon=True).start()
        return stop
    ids = read()
    frame = callbacks_frame(SESSION.journal)
    return frame.loc[frame.index.isin(ids)]
