"""Deploy an export: stage it beside the last good one, run the ``sinch`` CLI, follow it to Running.

A failed deploy leaves the last good export, and its ``functionId``, as they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli import deploy_project

if TYPE_CHECKING:
    from ..platform.functions_api import FunctionsApi
    from .export import Project

__all__ = ["deploy_function", "dry_run"]


def _staged(build_dir: Path, name: str, export: Callable[[Path], Project]) -> tuple[Path, Path, Project]:
    """Export into ``build/.<name>.next``, keeping the ``functionId`` of ``build/<name>``."""
    final, staging = build_dir / name, build_dir / f".{name}.next"
    if staging.exists():
        shutil.rmtree(staging)
    if (final / "sinch.json").is_file():
        staging.mkdir(parents=True)
        shutil.copy(final / "sinch.json", staging / "sinch.json")  # keeps the functionId
    return final, staging, export(staging)


def dry_run(build_dir: Path, name: str, export: Callable[[Path], Project]) -> dict[str, Any]:
    """What would ship (files, variables, secret names), without deploying or keeping the export."""
    _, staging, project = _staged(build_dir, name, export)
    try:
        files = sorted(str(p.relative_to(staging)) for p in project.files)
        secrets = [line.rstrip("=") for line in (staging / ".env").read_text().splitlines()]
        variables = json.loads((staging / "sinch.json").read_text())["variables"]
    finally:
        shutil.rmtree(staging)
    return {"name": name, "files": files, "variables": variables, "secret_names": secrets}


def deploy_function(
    build_dir: Path,
    name: str,
    export: Callable[[Path], Project],
    *,
    private: bool = False,
    wait: bool = True,
    api: FunctionsApi | None = None,
    show: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Export to ``build_dir/<name>`` and deploy it; with ``api`` and ``wait``, follow it to Running."""
    final, staging, _ = _staged(build_dir, name, export)
    try:
        result = deploy_project(staging, private=private, wait=wait, on_line=show)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    summary: dict[str, Any] = {
        "name": name,
        "function_id": result.function_id,
        "url": result.url,
        "status": result.status,
    }
    if wait and api is not None and result.function_id:
        state = api.wait(result.function_id, interval=1, on_status=lambda status: show(f"Status: {status}"))
        summary.update(status=state.get("status"), url=state.get("url") or result.url, error=state.get("error"))
    show(f"URL: {summary['url']}")
    return summary
