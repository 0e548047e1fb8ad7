"""The deploy half of the face: ``sn.export``, ``sn.deploy``, ``sn.logs``.

Re-exported by ``sinch_nb``; the deployment room loads on first call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import _store
from .runtime.session import SESSION

if TYPE_CHECKING:
    from .deployment.export import Project
    from .deployment.parity import Parity

__all__ = ["deploy", "export", "logs", "parity"]


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


def parity(project: str | Path, *, install: bool = False, session_only: bool = True) -> Parity:
    """Run an exported Function under Node on the callbacks this notebook answered; compare the answers.

    Needs Node.js and Pyodide from npm (``install=True`` fetches it once). By default only this
    session's callbacks are used, since the Function starts with an empty cache, as they did.
    """
    from .deployment.parity import check_parity

    journal = SESSION.journal
    where, params = ("WHERE session = ?", (journal.session,)) if session_only else ("", ())
    return check_parity(project, journal.rows(where, params), install=install)


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
