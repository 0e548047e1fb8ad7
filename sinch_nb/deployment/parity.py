"""The parity check: run an exported Function in Node (Pyodide inside) on the callbacks the notebook answered.

Each captured callback is handed to the project's exports the way the Sinch Functions Node
runtime calls them (``templates/local_runtime.mjs``), in the order they arrived, and the
Function's answer is compared with the one the notebook gave: the body for v1 voice
callbacks, status and body for webhooks, custom endpoints and Voice API v2 events (journal
kind ``call.*``, handed to ``voiceWebhook`` with their headers: 200 with commands, or 204).
The local runtime starts with an empty cache and storage, as a freshly deployed Function does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..functions import routing
from ..functions.errors import ParityUnavailableError
from .export import PYODIDE_VERSION, VOICE_V2_EXPORT

__all__ = ["Parity", "ParityUnavailableError", "check_parity", "install_pyodide", "pyodide_modules", "run_locally"]

LOCAL_RUNTIME = Path(__file__).parent / "templates" / "local_runtime.mjs"
#: Where ``sn.parity(install=True)`` puts Pyodide from npm (once per machine).
USER_NODE_CACHE = Path.home() / ".cache" / "sinch_nb" / "node"
_KINDS = ("ice", "ace", "pie", "dice", "notify", "conversation", "http")


@dataclass(frozen=True)
class Parity:
    """One row per captured callback: what the notebook answered and what the Function answers."""

    project: Path
    rows: list[dict[str, Any]]
    cold_start_ms: float | None

    @property
    def same(self) -> bool:
        """Whether the Function answered every callback as the notebook did."""
        return all(row["same"] for row in self.rows)

    def summary(self) -> str:
        matched = sum(row["same"] for row in self.rows)
        cold = f"; cold start {self.cold_start_ms / 1000:.1f} s" if self.cold_start_ms is not None else ""
        verdict = "the same answers" if self.same else f"{len(self.rows) - matched} DIFFERENT"
        return f"{self.project.name}: {matched} of {len(self.rows)} callbacks answered alike, {verdict}{cold}"

    def frame(self) -> Any:
        """The rows as a DataFrame (id, kind, notebook, function, same)."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("id") if self.rows else pd.DataFrame()

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [
            f"  #{row['id']} {row['kind']}: notebook {row['notebook']!r}, function {row['function']!r}"
            for row in self.rows
            if not row["same"]
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        table = self.frame().to_html() if self.rows else ""
        return f"<b>{html.escape(self.summary())}</b>{table}"


def _has_pyodide(modules: Path) -> bool:
    marker = modules / "pyodide" / "package.json"
    return marker.is_file() and json.loads(marker.read_text()).get("version") == PYODIDE_VERSION


def _install_command(prefix: Path) -> list[str]:
    return ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"pyodide@{PYODIDE_VERSION}"]


def install_pyodide(prefix: Path) -> Path:
    """``prefix/node_modules`` with Pyodide ``PYODIDE_VERSION``, npm-installing it there unless present."""
    modules = prefix / "node_modules"
    if _has_pyodide(modules):
        return modules
    if shutil.which("npm") is None:
        raise ParityUnavailableError("npm is needed to install Pyodide: install Node.js 18 or newer (it brings npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(_install_command(prefix), capture_output=True, text=True)
    if done.returncode != 0:
        raise ParityUnavailableError(f"npm could not install Pyodide (no network?): {done.stderr.strip()[-300:]}")
    return modules


def pyodide_modules(project: Path, *, install: bool = False) -> Path:
    """A ``node_modules`` with Pyodide ``PYODIDE_VERSION``: the project's, ``$SINCH_NB_NODE_MODULES`` or the user's."""
    candidates = [project / "node_modules", USER_NODE_CACHE / "node_modules"]
    if os.environ.get("SINCH_NB_NODE_MODULES"):
        candidates.insert(0, Path(os.environ["SINCH_NB_NODE_MODULES"]))
    for modules in candidates:
        if _has_pyodide(modules):
            return modules
    if not install:
        raise ParityUnavailableError(
            f"Pyodide {PYODIDE_VERSION} from npm is needed to run the Function locally: run "
            f"sn.parity(..., install=True) once (it runs `{' '.join(_install_command(USER_NODE_CACHE))}`), "
            f"or `npm install` in {project}"
        )
    return install_pyodide(USER_NODE_CACHE)


def _call(row: Mapping[str, Any]) -> dict[str, Any]:
    """How the Functions runtime would hand this captured request to the project's exports."""
    body = row["request_body"] or ""
    if _is_v2(row["kind"]):  # a Voice API v2 event: the request, as for the other webhooks
        headers = json.loads(row["request_headers"] or "{}")
        request = {"method": row["method"], "path": row["path"], "query": {}, "headers": headers, "body": body}
        return {"export": VOICE_V2_EXPORT, "request": request}
    if row["kind"] == "conversation":
        return {"export": "conversationWebhook", "request": {"body": json.loads(body)}}
    if row["kind"] == "http":
        key = f"{row['method']} {routing.normalise(row['path'])}"
        headers = json.loads(row["request_headers"] or "{}")
        request = {"method": row["method"], "query": {}, "headers": headers, "body": body}
        return {"export": routing.export_name(key), "request": request}
    return {"export": row["kind"], "data": json.loads(body)}


def _is_v2(kind: str) -> bool:
    """Whether a journal kind is a Voice API v2 event (``call.incoming``, ``call.webhook.NAME``, ...)."""
    return kind.startswith("call.")


def _answers_http(kind: str) -> bool:
    """Whether answers of this kind are compared as status and body (webhooks and endpoints), not body alone."""
    return kind in ("conversation", "http") or _is_v2(kind)


def _notebook_answer(row: Mapping[str, Any]) -> Any:
    body = row["response_body"]
    if not body:
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body


def _function_answer(kind: str, result: Any) -> Any:
    """The Function's answer in the notebook's terms (status and body for webhooks and endpoints)."""
    if _answers_http(kind) and isinstance(result, dict):
        return {"status": result.get("statusCode"), "body": result.get("body")}
    return result


def run_locally(project: Path, calls: list[dict[str, Any]], modules: Path) -> list[dict[str, Any]]:
    """Hand ``calls`` to the project's exports as the Functions runtime would: one answer (result, ms, logs) each."""
    link = project / "node_modules" / "pyodide"
    if modules != project / "node_modules" and not link.exists():  # function.js imports "pyodide"
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(modules / "pyodide", target_is_directory=True)
    shutil.rmtree(project / ".local-storage", ignore_errors=True)  # a fresh Function has stored nothing
    run = subprocess.run(
        ["node", str(LOCAL_RUNTIME), str(project)],
        input="".join(json.dumps(call) + "\n" for call in calls),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode != 0:
        raise ParityUnavailableError(f"the Function failed under Node: {run.stderr.strip()[-800:]}")
    return [json.loads(line) for line in run.stdout.splitlines()]


def check_parity(project: str | Path, records: Iterable[Mapping[str, Any]], *, install: bool = False) -> Parity:
    """Run ``project`` under Node on ``records`` (journal rows, oldest first) and compare answers."""
    project = Path(project).resolve()
    if not (project / "function.js").is_file():
        raise ParityUnavailableError(
            f"{project} is not an exported Function: run sn.export({str(project)!r}, name) first"
        )
    if shutil.which("node") is None:
        raise ParityUnavailableError(
            "Node.js 18 or newer is needed to run the Function locally (the Sinch Functions runtime is Node): "
            "install it from https://nodejs.org or your package manager"
        )
    # What a handler answered (not the runtime's defaults for missing handlers, nor refusals).
    rows = [
        r
        for r in records
        if (r["kind"] in _KINDS or _is_v2(str(r["kind"]))) and r["handler"] and (r["status"] or 500) < 400
    ]
    if not rows:
        return Parity(project, [], None)
    answers = run_locally(project, [_call(row) for row in rows], pyodide_modules(project, install=install))
    table = []
    for row, answer in zip(rows, answers, strict=True):
        if _answers_http(row["kind"]):
            notebook: Any = {"status": row["status"], "body": _notebook_answer(row)}
        else:
            notebook = _notebook_answer(row)
        function = _function_answer(row["kind"], answer["result"])
        table.append(
            {
                "id": row["id"],
                "kind": row["kind"],
                "call_id": row["call_id"],
                "notebook": notebook,
                "function": function,
                "same": notebook == function,
                "ms": answer["ms"],
                "logs": answer["logs"],
            }
        )
    return Parity(project, table, answers[0]["cold_ms"])
