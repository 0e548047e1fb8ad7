"""The parity check: run an exported Function in Node (Pyodide inside) on the callbacks the notebook answered.

Each captured callback is handed to the project's exports the way the Sinch Functions Node
runtime calls them (``templates/local_runtime.mjs``), in the order they arrived, and the
Function's answer is compared with the one the notebook gave: the body for v1 voice
callbacks, status and body for webhooks, custom endpoints and Voice API v2 events (journal
kind ``call.*``, handed to ``voiceWebhook`` with their headers: 200 with commands, or 204).
The local runtime starts with an empty cache and storage, as a freshly deployed Function does.

The report counts, per callback kind, the callbacks compared and those answered alike, and
shows each difference as a field path with both values (``answer_diff``).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..functions import routing
from ..functions.calls import EVENTS as V2_EVENTS
from ..functions.errors import ParityUnavailableError
from ..functions.stream_session import SUMMARY_PREFIX
from .export import PYODIDE_VERSION, VOICE_V2_EXPORT
from .stream_parity import check_ws, compare_stream, not_comparable, plan_stream, replay_stream

__all__ = [
    "Parity",
    "ParityUnavailableError",
    "answer_diff",
    "check_parity",
    "install_pyodide",
    "pyodide_modules",
    "run_locally",
]

LOCAL_RUNTIME = Path(__file__).parent / "templates" / "local_runtime.mjs"
#: Where ``sn.parity(install=True)`` puts Pyodide from npm (once per machine).
USER_NODE_CACHE = Path.home() / ".cache" / "sinch_nb" / "node"
_KINDS = ("ice", "ace", "pie", "dice", "notify", "conversation", "http", routing.STREAM_KIND)
#: Seconds to wait after a replayed stream for its handler's log lines (written when the handler has ended).
LOG_SETTLE = 0.3


@dataclass(frozen=True)
class Parity:
    """One row per captured callback: what the notebook answered, what the Function answers, and how they differ."""

    project: Path
    rows: list[dict[str, Any]]
    cold_start_ms: float | None

    @property
    def same(self) -> bool:
        """Whether the Function answered every callback as the notebook did."""
        return all(row["same"] for row in self.rows)

    def summary(self) -> str:
        """One line: how many callbacks answered alike, and the cold start."""
        if not self.rows:
            return (
                f"{self.project.name}: no callbacks to compare: the notebook answered none in this session "
                "(place calls with sn.dial or real traffic first)"
            )
        matched = sum(row["same"] for row in self.rows)
        cold = f"; cold start {self.cold_start_ms / 1000:.1f} s" if self.cold_start_ms is not None else ""
        verdict = "the same answers" if self.same else f"{len(self.rows) - matched} DIFFERENT"
        unknown = sum(not row.get("comparable", True) for row in self.rows)  # a stream whose recording is gone
        verdict += f" ({unknown} not comparable)" if unknown else ""
        return f"{self.project.name}: {matched} of {len(self.rows)} callbacks answered alike, {verdict}{cold}"

    def kinds(self) -> list[dict[str, Any]]:
        """Per callback kind, in the order of the kinds' table: compared, same, differ and the differing ids."""
        counts: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            entry = counts.setdefault(
                row["kind"], {"kind": row["kind"], "compared": 0, "same": 0, "differ": 0, "differing": []}
            )
            entry["compared"] += 1
            entry["same" if row["same"] else "differ"] += 1
            if not row["same"]:
                entry["differing"].append(row["id"])
        return [counts[kind] for kind in sorted(counts, key=_kind_order)]

    def by_kind(self) -> Any:
        """The per-kind counts as a DataFrame indexed by kind (compared, same, differ, differing ids)."""
        import pandas as pd

        columns = ["compared", "same", "differ", "differing"]
        if not self.rows:
            return pd.DataFrame(columns=columns).rename_axis("kind")
        return pd.DataFrame(self.kinds()).set_index("kind")[columns]

    def frame(self) -> Any:
        """The rows as a DataFrame (id, kind, notebook, function, same, diff, ms, logs)."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("id") if self.rows else pd.DataFrame()

    def __repr__(self) -> str:
        lines = [self.summary()]
        if self.rows:
            width = max(len("kind"), *(len(entry["kind"]) for entry in self.kinds()))
            lines.append(f"  {'kind':<{width}}  compared  same  differ")
            lines += [
                f"  {e['kind']:<{width}}  {e['compared']:>8}  {e['same']:>4}  {e['differ']:>6}" for e in self.kinds()
            ]
        for row in self.rows:
            if not row["same"]:
                lines.append(f"  {_title(row)}:")
                lines += [f"    {line}" for line in row["diff"]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        parts = [f"<b>{html.escape(self.summary())}</b>"]
        if self.rows:
            head = "".join(f"<th>{name}</th>" for name in ("kind", "compared", "same", "differ"))
            body = "".join(
                f"<tr><td>{html.escape(e['kind'])}</td><td>{e['compared']}</td><td>{e['same']}</td>"
                f"<td>{_bold(e['differ']) if e['differ'] else 0}</td></tr>"
                for e in self.kinds()
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        for row in self.rows:
            if not row["same"]:
                diff = html.escape("\n".join(row["diff"]))
                parts.append(f"<p>{html.escape(_title(row))}</p><pre>{diff}</pre>")
        if self.rows:
            parts.append("<p><small>.frame(): every callback; .by_kind(): this table as a DataFrame</small></p>")
        return "".join(parts)


def _bold(count: int) -> str:
    """A count of differing callbacks in bold, so it stands out in the kinds' table."""
    return f"<b>{count}</b>"


def _title(row: Mapping[str, Any]) -> str:
    """A differing row's heading: its journal id, kind and call, and which way the diff reads."""
    call = f", call {row['call_id']}" if row.get("call_id") else ""
    return f"#{row['id']} {row['kind']}{call} (notebook → Function)"


def _kind_order(kind: str) -> tuple[int, int, str]:
    """Sort key: v1 voice, conversation and http first, then Voice API v2 events in the OAS's order, then others."""
    if kind in _KINDS:
        return (0, _KINDS.index(kind), kind)
    if kind in V2_EVENTS:
        return (1, V2_EVENTS.index(kind), kind)
    return (2, 0, kind)


#: At most this many changed fields listed per callback; the rest are counted.
MAX_DIFF_LINES = 20


def answer_diff(notebook: Any, function: Any) -> list[str]:
    """Each field that differs, as ``path: notebook value → Function value`` (empty when the answers are equal).

    A field-path diff rather than a unified diff of the pretty JSON: it names the changed field
    (``instructions[0].text``) however deep it sits, and stays one line per change.
    """
    lines: list[str] = []
    _diff(notebook, function, "", lines)
    if not lines and notebook != function:  # not expected: a safety net so a difference never shows as none
        lines.append(f"(answer): {_shown(notebook)} → {_shown(function)}")
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… and {len(lines) - MAX_DIFF_LINES} more fields differ"]
    return lines


def _diff(notebook: Any, function: Any, path: str, lines: list[str]) -> None:
    if isinstance(notebook, dict) and isinstance(function, dict):
        for key in [*notebook, *(k for k in function if k not in notebook)]:
            step = _step(path, key)
            if key not in function:
                lines.append(f"{step}: {_shown(notebook[key])} → (absent)")
            elif key not in notebook:
                lines.append(f"{step}: (absent) → {_shown(function[key])}")
            else:
                _diff(notebook[key], function[key], step, lines)
    elif isinstance(notebook, list) and isinstance(function, list):
        for index in range(max(len(notebook), len(function))):
            step = f"{path}[{index}]"
            if index >= len(function):
                lines.append(f"{step}: {_shown(notebook[index])} → (absent)")
            elif index >= len(notebook):
                lines.append(f"{step}: (absent) → {_shown(function[index])}")
            else:
                _diff(notebook[index], function[index], step, lines)
    elif notebook != function:
        lines.append(f"{path or '(answer)'}: {_shown(notebook)} → {_shown(function)}")


def _step(path: str, key: Any) -> str:
    """``path.key``, or ``path["key"]`` when the key is not a plain name (``matches["1"]``)."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _shown(value: Any) -> str:
    """A value as JSON; a whole object or list present on one side only is cut at 120 characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dict | list) and len(text) > 120:
        return text[:119] + "…"
    return text


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


def _prepare(project: Path, modules: Path) -> None:
    """The project ready to run as a freshly deployed Function: Pyodide reachable, nothing stored yet."""
    link = project / "node_modules" / "pyodide"
    if modules != project / "node_modules" and not link.exists():  # function.js imports "pyodide"
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(modules / "pyodide", target_is_directory=True)
    shutil.rmtree(project / ".local-storage", ignore_errors=True)  # a fresh Function has stored nothing


def run_locally(
    project: Path, calls: list[dict[str, Any]], modules: Path, env: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Hand ``calls`` to the project's exports as the Functions runtime would: one answer (result, ms, logs) each.

    ``env`` is the Function's ``context.env`` (its credentials and hosts); nothing else of this process's reaches it.
    """
    _prepare(project, modules)
    run = subprocess.run(
        ["node", str(LOCAL_RUNTIME), str(project)],
        input="".join(json.dumps(call) + "\n" for call in calls),
        env={**os.environ, "SINCH_NB_FUNCTION_ENV": json.dumps(dict(env or {}))},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode != 0:
        raise ParityUnavailableError(f"the Function failed under Node: {run.stderr.strip()[-800:]}")
    return [json.loads(line) for line in run.stdout.splitlines()]


def check_parity(
    project: str | Path,
    records: Iterable[Mapping[str, Any]],
    *,
    install: bool = False,
    env: Mapping[str, str] | None = None,
) -> Parity:
    """Run ``project`` under Node on ``records`` (journal rows, oldest first) and compare answers.

    ``env`` is the Function's environment: the simulated platform's credentials and hosts, so its clients
    reach the same fake Sinch the notebook's simulated traffic did, never the real one.
    """
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
    rows = [r for r in records if _compared(r)]
    if not rows:
        return Parity(project, [], None)
    modules = pyodide_modules(project, install=install)
    if any(row["kind"] == routing.STREAM_KIND for row in rows):
        return _with_streams(project, rows, modules, env)
    answers = run_locally(project, [_call(row) for row in rows], modules, env)
    table = [_http_row(row, answer) for row, answer in zip(rows, answers, strict=True)]
    return Parity(project, table, answers[0]["cold_ms"])


def _compared(row: Mapping[str, Any]) -> bool:
    """Whether a journal row is what a handler answered (not the runtime's defaults for missing handlers, nor
    refusals): callbacks answered below 400, streams whose handler ran to the end (outcome ok)."""
    if row["kind"] == routing.STREAM_KIND:
        return bool(row["handler"]) and row["outcome"] == "ok"
    return (row["kind"] in _KINDS or _is_v2(str(row["kind"]))) and bool(row["handler"]) and (row["status"] or 500) < 400


def _http_row(row: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """One callback's parity row: the notebook's answer, the Function's, and how they differ."""
    if _answers_http(row["kind"]):
        notebook: Any = {"status": row["status"], "body": _notebook_answer(row)}
    else:
        notebook = _notebook_answer(row)
    function = _function_answer(row["kind"], answer["result"])
    return {
        "id": row["id"],
        "kind": row["kind"],
        "call_id": row["call_id"],
        "notebook": notebook,
        "function": function,
        "same": notebook == function,
        "diff": answer_diff(notebook, function),
        "ms": answer["ms"],
        "logs": answer["logs"],
    }


def _with_streams(project: Path, rows: list[Mapping[str, Any]], modules: Path, env: Mapping[str, str] | None) -> Parity:
    """Callbacks and streams, one after another in arrival order, into one Function instance (one cache)."""
    check_ws(modules, project)
    table: list[dict[str, Any]] = []
    cold: float | None = None
    with LocalFunction(project, modules, env) as function:
        for index, row in enumerate(rows):
            if row["kind"] != routing.STREAM_KIND:
                answer = function.call(_call(row))
                table.append(_http_row(row, answer))
                cold = answer["cold_ms"] if index == 0 else cold
                continue
            entry = function.stream(row)
            table.append(entry)
            cold = entry["ms"] if index == 0 else cold  # the first stream's reply waited for Python to start
    return Parity(project, table, cold)


class LocalFunction:
    """The exported Function under Node, as one instance: callbacks on stdin, media streams on a WebSocket port.

    ``templates/local_runtime.mjs`` with ``SINCH_NB_WS_PORT=0``; its stdout (answers) and stderr (the stream
    handlers' log lines) are read by threads so neither pipe fills while a stream is replayed.
    """

    def __init__(self, project: Path, modules: Path, env: Mapping[str, str] | None = None) -> None:
        _prepare(project, modules)
        self.node = subprocess.Popen(
            ["node", str(LOCAL_RUNTIME), str(project)],
            env={
                **os.environ,
                "SINCH_NB_WS_PORT": "0",
                "SINCH_NB_NODE_MODULES": str(modules),  # where local_runtime.mjs finds ws
                "SINCH_NB_FUNCTION_ENV": json.dumps(dict(env or {})),
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.answers: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._answers, daemon=True).start()
        threading.Thread(target=self._errors, daemon=True).start()
        listening = json.loads(self._line(60, "start serving WebSockets"))
        self.port = int(listening["listening"])

    def _answers(self) -> None:
        """Stdout's lines into ``answers``; ``None`` once Node has ended."""
        assert self.node.stdout is not None
        for line in self.node.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def _errors(self) -> None:
        """Stderr's lines into ``stderr``: the stream handlers' log lines, and Node's errors."""
        assert self.node.stderr is not None
        for line in self.node.stderr:
            self.stderr.append(line)

    def _line(self, timeout: float, doing: str) -> str:
        """The next stdout line; the Function's stderr in the error when Node ended or took too long."""
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            error = "".join(self.stderr).strip()[-800:]
            raise ParityUnavailableError(f"the Function did not {doing} under Node: {error or 'no output'}")
        return line

    def call(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """One callback handed to the project's exports: its answer (result, ms, cold_ms, logs)."""
        assert self.node.stdin is not None
        self.node.stdin.write(json.dumps(call) + "\n")
        self.node.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line(300, f"answer {call['export']}"))
        return answer

    def stream(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One journaled stream replayed into the Function and compared: its parity row."""
        entry: dict[str, Any] = {"id": row["id"], "kind": row["kind"], "call_id": row["call_id"]}
        try:
            plan = plan_stream(row)
        except ValueError as error:
            return {**entry, **not_comparable(str(error)), "ms": None, "logs": [], "comparable": False}
        logged = len(self.stderr)
        with ThreadPoolExecutor(1) as pool:  # its own loop: the caller's (a notebook's) is busy running this cell
            replayed = pool.submit(asyncio.run, replay_stream(self.port, plan)).result()
        time.sleep(LOG_SETTLE)  # the handler's log lines follow its end, by way of the local runtime's stderr
        logs = [json.loads(line)["log"] for line in self.stderr[logged:] if line.startswith('{"log"')]
        logs = [log for log in logs if not str(log[-1]).startswith(SUMMARY_PREFIX)]  # the handler's, as a row's
        compared = compare_stream(row, plan, replayed)
        return {**entry, **compared, "ms": replayed.reply_ms, "logs": logs, "comparable": True}

    def __enter__(self) -> LocalFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.node.poll() is None:
            self.node.terminate()
            self.node.wait(10)
