"""``%sinch export``: the notebook's handlers as a Sinch Function project (Node runtime, Pyodide inside).

The project holds ``sinch.json`` (name, runtime ``node``, variables; never a secret),
``package.json`` (the Functions runtime package and ``pyodide``, pinned), ``function.js``
(exports each handler under its Functions routing name; Voice API v2 handlers as
``voiceWebhook``, built with ``onCall``; media stream handlers through ``setup(runtime)``'s
``onWebSocket``, one path each), ``assets/`` (the handlers'
sources in execution order, each marked with its cell, and the stdlib-only
``sinch_nb.functions`` package), ``.env`` with secret names only, ``.gitignore`` and a README.
Export refuses what the Function cannot import: third-party packages, and the standard library
that Pyodide lacks or cannot run (``pyodide_stdlib.UNAVAILABLE``: sockets, threads, processes, ...).
"""

from __future__ import annotations

import ast
import json
import sys
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..functions import call_answers, routing
from ..functions.answers import DEFAULT_FALLBACK
from ..functions.errors import ExportError
from ..platform.credentials import FUNCTION_ENV_NAMES
from . import pyodide_stdlib

__all__ = ["PYODIDE_VERSION", "RUNTIME_VERSION", "ExportError", "Project", "export_project"]

#: Pinned: the version these tests run; Pyodide 0.27 carries Python 3.12.
PYODIDE_VERSION = "0.27.8"
RUNTIME_VERSION = "^0.6.0"
MAX_FILES, MAX_BYTES = 500, 25 * 1024 * 1024
#: The export Voice API v2 webhooks reach (``POST /`` and ``/webhook/voice``), built with ``onCall``.
VOICE_V2_EXPORT = "voiceWebhook"
#: What a Voice API v2 Function declares besides ``FUNCTION_ENV_NAMES``: its Voice service (names only).
V2_ENV_NAMES = ("VOICE_SERVICE_ID", "VOICE_SERVICE_SECRET")
_SHIPPED = {"sinch_nb", "sinch_nb.functions"}


@dataclass(frozen=True)
class Project:
    """An exported project: where it is, what it exports, its files."""

    path: Path
    name: str
    exports: dict[str, list[str]]
    files: list[Path]

    def __repr__(self) -> str:
        handlers = ", ".join(f"{name} ({', '.join(keys)})" for name, keys in self.exports.items())
        return f"<Sinch Function project {self.name} at {self.path}: {handlers}; {len(self.files)} files>"


#: Third-party HTTP clients (and Sinch's SDK): what the context's clients stand in for in the Function.
_HTTP_PACKAGES = frozenset({"requests", "httpx", "aiohttp", "urllib3", "pycurl", "websockets", "websocket", "sinch"})


def _third_party(source: str) -> list[str]:
    """What ``source`` imports from outside the standard library and the shipped ``sinch_nb.functions``."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return [
        n
        for n in names
        if n.split(".")[0] not in sys.stdlib_module_names
        and n not in _SHIPPED
        and not n.startswith("sinch_nb.functions.")
    ]


def _import_problems(what: str, origin: str, source: str, bound: dict[str, str]) -> list[str]:
    """Why each import in one cell or handler cannot work in the Function, and what to use instead."""
    problems = []
    for name in dict.fromkeys(_third_party(source)):
        instead = (
            pyodide_stdlib.SINCH_CLIENTS
            if name.split(".")[0] in _HTTP_PACKAGES
            else "copy the code it needs into a %%sinch module cell, using the standard library"
        )
        problems.append(
            f"{what} ({origin}) imports {name}, which is not in the standard library and does not ship with the "
            f"Function (its Pyodide has the standard library and sinch_nb.functions only): {instead}"
        )
    for verb, name, why, instead in pyodide_stdlib.unavailable_uses(source, bound):
        problems.append(
            f"{what} ({origin}) {verb} {name}, which cannot work in the Sinch Function: {why}. Instead: {instead}"
        )
    return problems


def _check_imports(modules: list[tuple[str, str]], handlers: list[dict[str, Any]]) -> None:
    """Refuse, naming each at once, the imports the Function cannot run: third-party, or stdlib Pyodide lacks."""
    bound: dict[str, str] = {}
    for _, source in modules:
        bound.update(pyodide_stdlib.imported_names(source))
    problems = [p for origin, source in modules for p in _import_problems("a module cell", origin, source, bound)]
    for handler in handlers:
        problems += _import_problems(f"the {handler['key']} handler", handler["origin"], handler["source"], bound)
    if len(problems) == 1:
        raise ExportError(problems[0])
    if problems:
        raise ExportError(f"{len(problems)} imports cannot work in the Sinch Function:\n- " + "\n- ".join(problems))


def _check_function(handler: dict[str, Any]) -> None:
    """A plain-function handler ships as its source: it must be a ``def`` the Function can rebuild."""
    try:
        tree = ast.parse(textwrap.dedent(handler["source"]))
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    if not any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in tree.body):
        raise ExportError(
            f"the {handler['key']} handler ({handler['origin']}) is not a def: the Function rebuilds each handler "
            "from its source, and a lambda has none of its own. Define it with def, or in a %%sinch cell"
        )


def _export_names(handlers: list[dict[str, Any]]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    for handler in handlers:
        names[routing.export_name(handler["key"])].append(handler["key"])
    reserved = [n for n, keys in names.items() if n in routing.VOICE_KINDS and any(" " in k for k in keys)]
    if reserved:
        raise ExportError(f"a custom endpoint ends in /{reserved[0]}, a name the Functions runtime keeps for voice")
    mixed = [k for k in names.get(VOICE_V2_EXPORT, []) if k.split(" ", 1)[0] not in routing.CALL_KINDS]
    if mixed:
        raise ExportError(
            f"the custom endpoint {mixed[0]} ends in /{VOICE_V2_EXPORT}, the export the Functions runtime keeps "
            "for Voice API v2 webhooks: end its path with another name"
        )
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise ExportError(f"the endpoint name {bad[0]!r} is not a JavaScript name: end the path with letters")
    return dict(names)


def _exports_js(names: dict[str, list[str]]) -> str:
    lines, members = [], []
    for name, keys in names.items():
        if keys == [name] and name in routing.VOICE_KINDS:
            lines.append(f"const {name} = voice({json.dumps(name)});")
        elif name == VOICE_V2_EXPORT:
            lines.append(f"export const {name} = onCall({_on_call_slots(keys)});")
        elif keys == ["conversation"]:
            lines.append("export const conversationWebhook = conversation;")
        else:
            table = ", ".join(f"{json.dumps(k.split(' ')[0])}: endpoint({json.dumps(k)})" for k in keys)
            lines.append(
                f"export async function {name}(context, request) {{\n"
                f"  const byMethod = {{ {table} }};\n"
                f'  const method = (request?.method ?? "{keys[0].split(" ")[0]}").toUpperCase();\n'
                "  const handler = byMethod[method];\n"
                "  if (handler) return handler(context, request);\n"
                "  return { statusCode: 405, body: { error: `${method} not allowed` } };\n"
                "}"
            )
        members.append(name)
    lines.append(f"export default {{ {', '.join(members)} }};")
    return "\n".join(lines) + "\n"


def _on_call_slots(keys: list[str]) -> str:
    """The ``onCall({...})`` argument for the v2 handlers' keys: each slot, and ``webhooks`` by name."""
    slots = [f"{k}: callSlot({json.dumps(k)})" for k in routing.CALL_KINDS if k in keys]
    named = [k for k in keys if k.startswith("webhook ")]
    if named:
        table = ", ".join(f"{json.dumps(k.split(' ', 1)[1])}: callSlot({json.dumps(k)})" for k in named)
        slots.append(f"webhooks: {{ {table} }}")
    return "{ " + ", ".join(slots) + " }"


def _package_files() -> dict[str, str]:
    """The stdlib-only ``sinch_nb.functions`` package, and a two-line ``sinch_nb`` in front of it."""
    files = {"sinch_nb/__init__.py": "from .functions import svaml  # noqa: F401\n"}
    package = resources.files("sinch_nb.functions")
    for item in sorted(package.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".py"):
            files[f"sinch_nb/functions/{item.name}"] = item.read_text()
    return files


def export_project(
    modules: list[str],
    handlers: list[dict[str, Any]],
    path: str | Path,
    name: str,
    *,
    variables: dict[str, str] | None = None,
    fallback: dict[str, Any] | None = None,
    description: str = "Exported from a notebook by sinch_nb",
    assets: Path | None = None,
    handler_timeout: float = 4.0,
    module_origins: list[str] | None = None,
    signature_window: float | None = 300.0,
) -> Project:
    """Write the project to ``path`` from the notebook's module cells and handlers (``runtime.sources``).

    ``module_origins`` names the module cells' cells for error messages (``cell [1]``), in ``modules``' order.
    """
    if not handlers:
        raise ExportError("no handlers to export: define one with %%sinch ice (or @sn.ice)")
    for handler in handlers:
        if not handler["cell"]:
            _check_function(handler)
    origins = module_origins or [f"module cell {number + 1}" for number in range(len(modules))]
    _check_imports(list(zip(origins, modules, strict=True)), handlers)
    streams = [h["key"] for h in handlers if h["kind"] == routing.STREAM_KIND]  # served by setup's onWebSocket
    names = _export_names([h for h in handlers if h["kind"] != routing.STREAM_KIND])
    v2 = any(h["kind"] in routing.CALL_KINDS for h in handlers)
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    previous = root / "sinch.json"
    kept = json.loads(previous.read_text()) if previous.is_file() else {}
    sinch_json = {
        "name": name,
        "runtime": "node",
        "description": description,
        "variables": dict(variables or {}),
        **({"functionId": kept["functionId"]} if "functionId" in kept else {}),
    }
    files = _package_files()
    manifest = {  # what function.js answers when Python cannot (it did not start): the notebook's fallbacks
        "python": sorted(files),
        "fallback": fallback or DEFAULT_FALLBACK,
        "fallback_v2": call_answers.FALLBACK_V2,
        "live_events": list(call_answers.LIVE_EVENTS),
        "handler_timeout": handler_timeout,
        "streams": streams,  # the stream handlers' keys, "stream /path": setup(runtime) registers each path
    }
    sources = {
        "modules": modules,
        "handlers": handlers,
        "fallback": fallback,
        "signature_window": signature_window,  # the v2 signature's freshness, and how long a ce-id is remembered
    }
    template = resources.files("sinch_nb.deployment").joinpath("templates/function.js").read_text()
    entry = template.replace("__MANIFEST__", json.dumps(manifest)).replace("__EXPORTS__", _exports_js(names))
    written = {
        "sinch.json": json.dumps(sinch_json, indent=2) + "\n",
        "package.json": json.dumps(
            {
                "name": name,
                "version": "1.0.0",
                "private": True,
                "type": "module",
                "main": "function.js",
                "engines": {"node": ">=20"},
                "dependencies": {"@sinch/functions-runtime": RUNTIME_VERSION, "pyodide": PYODIDE_VERSION},
            },
            indent=2,
        )
        + "\n",
        "function.js": entry,
        ".env": "".join(f"{key}=\n" for key in (*FUNCTION_ENV_NAMES, *(V2_ENV_NAMES if v2 else ()))),
        ".gitignore": ".env\nnode_modules/\n.local-storage/\n",
        "README.md": _readme(name, handlers),
        "assets/handlers.json": json.dumps(sources, indent=2) + "\n",
        "assets/handlers.py": _handlers_py(modules, handlers),
        **{f"assets/{k}": v for k, v in files.items()},
        **_notebook_assets(assets),
    }
    paths = []
    for relative, text in written.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        paths.append(target)
    _check_limits(root)
    return Project(root, name, {**names, **({"setup": streams} if streams else {})}, paths)


def _notebook_assets(folder: Path | None) -> dict[str, str]:
    """The notebook's own ``assets/`` files, for ``context.assets(name)`` in the Function."""
    if folder is None or not folder.is_dir():
        return {}
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name in ("handlers.json", "handlers.py") or name.startswith("sinch_nb/"):
            raise ExportError(f"assets/{name} would overwrite a file sinch_nb ships: rename it")
        found[f"assets/{name}"] = path.read_text()
    return found


def _handlers_py(modules: list[str], handlers: list[dict[str, Any]]) -> str:
    """The sources for reading, in execution order, each marked with where it came from."""
    parts = ["# The notebook's handler sources, as exported by sinch_nb (the Function loads handlers.json).\n"]
    parts += [f"\n# --- module cell {n + 1}\n{source}\n" for n, source in enumerate(modules)]
    parts += [f"\n# --- {h['key']} handler, from {h['origin']}\n{h['source']}\n" for h in handlers]
    return "".join(parts)


def _readme(name: str, handlers: list[dict[str, Any]]) -> str:
    rows = "\n".join(f"| `{h['key']}` | `{_served_by(h)}` | {h['origin']} |" for h in handlers)
    return (
        f"# {name}\n\nA Sinch Function exported from a notebook by sinch_nb: the handlers are Python, run by "
        "Pyodide inside the Node runtime.\n\n| route | export | from |\n| --- | --- | --- |\n"
        f"{rows}\n\nDeploy with `sinch functions deploy` (fill `.env` first; it is never committed).\n"
    )


def _served_by(handler: dict[str, Any]) -> str:
    """The export that serves a handler: its routing name, or ``setup``'s WebSocket for a stream."""
    if handler["kind"] == routing.STREAM_KIND:
        return f"setup: onWebSocket('{handler['key'].split(' ', 1)[1]}')"
    return routing.export_name(handler["key"])


def _check_limits(root: Path) -> None:
    files = [p for p in root.rglob("*") if p.is_file() and "node_modules" not in p.parts and p.name != ".env"]
    size = sum(p.stat().st_size for p in files)
    if len(files) > MAX_FILES or size > MAX_BYTES:
        largest = sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:3]
        names = ", ".join(f"{p.relative_to(root)} ({p.stat().st_size // 1024} KiB)" for p in largest)
        raise ExportError(
            f"the project has {len(files)} files and {size // 1024} KiB; Sinch Functions take at most {MAX_FILES} "
            f"files and 25 MB. Largest: {names}"
        )
