"""Deploying from Python: ``sn.export()``, ``parity()``, ``deploy()`` and ``logs()``.

Each binds this kernel's session (handlers, settings, journal, credentials) to the
deployment room, which does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .session import get_session

if TYPE_CHECKING:
    import pandas as pd

    from .deployment.export import Project
    from .deployment.logs import LogFollower
    from .deployment.parity import Parity

__all__ = ["deploy", "export", "logs", "parity"]


def export(path: str | Path, name: str, *, variables: dict[str, str] | None = None) -> Project:
    """Write the notebook's handlers as a Sinch Function project (Node runtime, Pyodide inside) to ``path``."""
    from .deployment.export import export_project
    from .runtime.sources import handler_sources

    session = get_session()
    modules, handlers = handler_sources(session.registry)
    return export_project(
        modules,
        [h.as_dict() for h in handlers],  # stream handlers too: setup(runtime) serves them (onWebSocket)
        path,
        name,
        variables={**session.settings.variables, **(variables or {})},
        fallback=session.settings.fallback,
        assets=session.settings.base_dir / "assets",
        handler_timeout=session.settings.handler_timeout,
        signature_window=session.settings.signature_window,
        module_origins=[module.origin for module in session.registry.modules.values()],
    )


def parity(project: str | Path, *, install: bool = False, session_only: bool = True) -> Parity:
    """Run an exported Function under Node on the callbacks this notebook answered; compare the answers.

    Needs Node.js and Pyodide from npm (``install=True`` fetches it once). By default only this
    session's callbacks are used, since the Function starts with an empty cache, as they did.
    """
    from .deployment.parity import check_parity

    session = get_session()
    journal = session.journal
    where, params = ("WHERE session = ?", (journal.session,)) if session_only else ("", ())
    return check_parity(project, journal.rows(where, params), install=install, env=_simulated_env())


def _simulated_env() -> dict[str, str]:
    """The Function's environment for the parity run: the running runtime's simulated platform, or nothing."""
    from .platform.clients import simulated_function_env
    from .simulate.local_platform import PREFIX, LocalPlatform

    session = get_session()
    server, platform = session.server, session.app.platform if session.app is not None else None
    if server is None or not server.running or not isinstance(platform, LocalPlatform):
        return {}  # the Function's clients are then MissingClient, as a Function without credentials has
    return simulated_function_env(server.url + PREFIX, platform.key_id, platform.key_secret, platform.voice_secret)


def _build_dir() -> Path:
    return get_session().settings.base_dir / "build"


def deploy(
    name: str | None = None, *, dry_run: bool = False, private: bool = False, wait: bool = True
) -> dict[str, Any]:
    """Export to ``./build/<name>`` and deploy it with the ``sinch`` CLI, then follow it to Running.

    ``dry_run`` lists what would ship (files, variables, secret names) and stops there. A failed
    deploy leaves the last good export, and its ``functionId``, as they were.
    """
    from .deployment import deploy as deployment

    session = get_session()
    name = name or session.settings.function_name

    def export_to(path: Path) -> Project:
        return export(path, name)

    if dry_run:
        summary = deployment.dry_run(_build_dir(), name, export_to)
        files, variables, secrets = summary["files"], summary["variables"], summary["secret_names"]
        print(f"Would deploy {name}: {len(files)} files, variables {sorted(variables)}, secrets {secrets}")
        return summary
    from .notebook.progress import progress
    from .platform.functions_api import functions_api

    show = progress(f"Deploying {name} with the sinch CLI")
    api = functions_api(session.credential_store())
    return deployment.deploy_function(_build_dir(), name, export_to, private=private, wait=wait, api=api, show=show)


def logs(name: str | None = None, *, follow: bool = False) -> pd.DataFrame | LogFollower:
    """The deployed function's request logs, into the journal as rows with ``source`` = deployed.

    Without ``follow`` it returns the rows of what the log stream holds now: the events it sends
    on connecting, read until it goes quiet (a second before the first event, half a second after
    one, ten seconds at most), since the live stream never ends by itself.
    With ``follow`` it holds the stream open in the background, journaling each request as it comes,
    and returns a ``LogFollower``: ``stop()`` ends it (so do kernel shutdown and a new follower of the
    same function); its repr and ``errors`` show failures, which it also prints. No event is
    journaled twice in a session, whichever of these read it.
    """
    from .deployment.logs import LogFollower, cursor_for, deployed_function_id, read_logs
    from .journal.views import callbacks_frame
    from .platform.functions_api import require_functions_api

    session = get_session()
    function_id = deployed_function_id(_build_dir(), name or session.settings.function_name)
    api = require_functions_api(session.credential_store(), "reading the deployed function's logs")
    cursor = cursor_for(session.journal, function_id)
    if follow:
        for earlier in [f for f in session.followers if isinstance(f, LogFollower) and f.function_id == function_id]:
            earlier.stop()  # re-running the cell replaces its follower
            session.followers.remove(earlier)
        follower = LogFollower(api, function_id, session.journal, cursor)
        session.followers.append(follower)
        return follower
    ids = read_logs(api, function_id, session.journal, cursor)
    frame = callbacks_frame(session.journal)
    return frame.loc[frame.index.isin(ids)]
