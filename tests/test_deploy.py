"""Export to a Sinch Function project, run it under Node with Pyodide, and require the notebook's answers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import payload

from sinch_nb import get_session
from sinch_nb.deployment.export import PYODIDE_VERSION, ExportError
from sinch_nb.functions.cells import compile_cell

TESTS = Path(__file__).resolve().parent

ICE = """count = context.cache.get("calls", 0) + 1
context.cache.set("calls", count)
return (svaml.ice().say(f"{GREETING}, caller number {count}")
        .run_menu(svaml.menu("main").prompt("Press 1 for sales, 2 for support")
                  .option("1", "return(sales)").option("2", "return(support)")))"""
PIE = """context.storage.write(f"choices/{event.call_id}.txt", event.menu_result.value or "none")
choice = context.storage.read(f"choices/{event.call_id}.txt").decode()
context.log.info("chose %s", choice)
if context.storage.exists("last-choice.txt"):
    context.log.info("the caller before chose %s", context.storage.read("last-choice.txt").decode())
context.storage.write("last-choice.txt", choice)
if choice == "sales":
    return svaml.pie().say("Connecting you to sales").connect_pstn("+15550001111")
return svaml.pie().say(f"You chose {choice}").hangup()"""


def cell(kind: str, body: str, number: int, key: str | None = None) -> None:
    params = ("context", "request") if kind == "http" else ("context", "event")
    function = compile_cell(body, params, f"<sinch {kind} cell [{number}]>", get_session().registry.namespace)
    get_session().registry.register(kind, function, f"cell [{number}]", key=key, source=body)


@pytest.fixture
def node_modules(pyodide: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sn.parity finds this machine's Pyodide where a user points SINCH_NB_NODE_MODULES."""
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(pyodide))
    return pyodide


def notebook_handlers(sn: Any) -> None:
    get_session().registry.run_module("cell [1]", 'GREETING = "Welcome"', "<sinch module cell [1]>")
    cell("ice", ICE, 2)
    cell("pie", PIE, 3)
    cell("dice", 'context.log.info("ended: %s", event.reason)', 4)
    cell("conversation", "context.cache.set('last_text', event.text)", 5)
    cell(
        "http",
        "return {'calls': context.cache.get('calls', 0), 'motd': context.assets('motd.txt')}",
        6,
        key="GET /status",
    )
    assets = get_session().settings.base_dir / "assets"
    assets.mkdir(exist_ok=True)
    (assets / "motd.txt").write_text("Open 9-17")


def test_export_writes_a_function_project(sn: Any, tmp_path: Path) -> None:
    notebook_handlers(sn)
    project = sn.export(tmp_path / "build" / "my-ivr", "my-ivr", variables={"COMPANY_NAME": "Acme"})
    root = project.path
    sinch_json = json.loads((root / "sinch.json").read_text())
    assert sinch_json == {
        "name": "my-ivr",
        "runtime": "node",
        "description": "Exported from a notebook by sinch_nb",
        "variables": {"COMPANY_NAME": "Acme"},
    }
    package = json.loads((root / "package.json").read_text())
    assert package["dependencies"] == {"@sinch/functions-runtime": "^0.6.0", "pyodide": PYODIDE_VERSION}
    entry = (root / "function.js").read_text()
    assert "export default { ice, pie, dice, conversationWebhook, status }" in entry
    imports = [line for line in entry.splitlines() if line.startswith("import ")]
    # Node's own modules only: Pyodide loads in the worker, the Functions runtime package is not needed to load
    assert imports and all(' from "node:' in line for line in imports), imports
    assert (root / ".env").read_text().splitlines()[0] == "PROJECT_ID="
    assert all(line.endswith("=") for line in (root / ".env").read_text().splitlines())
    assert (root / ".gitignore").read_text().startswith(".env")
    sources = (root / "assets" / "handlers.py").read_text()
    assert sources.index("module cell 1") < sources.index("ice handler, from cell [2]") < sources.index("pie handler")
    assert (root / "assets" / "sinch_nb" / "functions" / "svaml.py").is_file()
    assert "| `GET /status` | `status` | cell [6] |" in (root / "README.md").read_text()
    assert (root / "assets" / "motd.txt").read_text() == "Open 9-17"  # the notebook's own assets ship too


def test_a_project_over_the_limits_is_refused_naming_the_largest_files(sn: Any, tmp_path: Path) -> None:
    notebook_handlers(sn)
    (get_session().settings.base_dir / "assets" / "recording.txt").write_text("x" * (26 * 1024 * 1024))
    with pytest.raises(ExportError, match=r"at most 500 files and 25 MB.*assets/recording.txt"):
        sn.export(tmp_path / "big", "big")


def test_a_handler_importing_outside_the_standard_library_is_named_at_export(sn: Any, tmp_path: Path) -> None:
    cell("ice", "import requests\nreturn svaml.ice().hangup()", 7)
    with pytest.raises(ExportError, match=r"the ice handler \(cell \[7\]\) imports requests"):
        sn.export(tmp_path / "x", "x")


#: Standard-library imports Pyodide cannot run: the line, the module named, why, and what to use instead.
UNUSABLE = [
    ("import socket", "socket", "which has no sockets", "context.voice / context.conversation / context.sms"),
    (
        "from urllib.request import urlopen",
        "urllib.request",
        "which has no sockets",
        "context.voice / context.conversation / context.sms",
    ),
    ("import threading", "threading", "cannot start threads", "use async def handlers with asyncio"),
    ("import subprocess", "subprocess", "cannot start processes", "do the work in Python in the handler"),
]


@pytest.mark.parametrize(("line", "module", "why", "instead"), UNUSABLE, ids=[u[1] for u in UNUSABLE])
def test_export_refuses_a_handler_importing_what_pyodide_cannot_run(
    sn: Any, tmp_path: Path, line: str, module: str, why: str, instead: str
) -> None:
    cell("ice", f"{line}\nreturn svaml.ice().hangup()", 7)
    with pytest.raises(ExportError) as refused:
        sn.export(tmp_path / "x", "x")
    message = str(refused.value)
    assert message.startswith(f"the ice handler (cell [7]) imports {module}, which cannot work in the Sinch Function")
    assert why in message and instead in message
    assert not (tmp_path / "x" / "function.js").exists()  # nothing written


@pytest.mark.parametrize(("line", "module", "why", "instead"), UNUSABLE, ids=[u[1] for u in UNUSABLE])
def test_export_refuses_a_module_cell_importing_what_pyodide_cannot_run(
    sn: Any, tmp_path: Path, line: str, module: str, why: str, instead: str
) -> None:
    get_session().registry.run_module("cell [3]", line, "<sinch module cell [3]>")
    cell("ice", "return svaml.ice().hangup()", 4)
    with pytest.raises(ExportError) as refused:
        sn.export(tmp_path / "x", "x")
    message = str(refused.value)
    assert message.startswith(f"a module cell (cell [3]) imports {module}, which cannot work in the Sinch Function")
    assert why in message and instead in message


def test_export_names_every_import_the_function_cannot_run_at_once(sn: Any, tmp_path: Path) -> None:
    get_session().registry.run_module("cell [1]", "import asyncio as aio", "<sinch module cell [1]>")
    cell("ice", "import requests\nawait aio.open_connection('example.com', 80)\nreturn svaml.ice().hangup()", 2)
    with pytest.raises(ExportError) as refused:
        sn.export(tmp_path / "x", "x")
    lines = str(refused.value).splitlines()
    assert lines[0] == "2 imports cannot work in the Sinch Function:"
    assert lines[1].startswith("- the ice handler (cell [2]) imports requests, which is not in the standard library")
    assert lines[1].endswith("reach Sinch APIs through context.voice / context.conversation / context.sms")
    assert lines[2].startswith("- the ice handler (cell [2]) uses asyncio.open_connection, which cannot work")
    assert "urllib.request" not in str(refused.value)  # no longer recommended: it cannot work there either


def test_the_standard_library_pyodide_runs_exports_and_answers_alike(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    get_session().registry.run_module(
        "cell [1]", "import json, re, datetime, hashlib, math\nfrom asyncio import sleep", "<sinch module cell [1]>"
    )
    body = """import asyncio
digits = re.sub(r"\\D", "", event.cli)
stamp = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc).isoformat()
parts = [digits[-4:], stamp, asyncio.iscoroutinefunction(sleep)]
digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:8]
return svaml.ice().say(f"{parts[0]} {parts[1]} {parts[2]} {digest} {math.isqrt(17)}").hangup()"""
    cell("ice", body, 2)
    sn.dial("+15551234567", "+15559876543")
    parity = sn.parity(sn.export(tmp_path / "build", "stdlib").path)  # exported: none of these was refused
    assert parity.by_kind().loc["ice", ["compared", "same"]].tolist() == [1, 1], parity.rows[0]["logs"]
    said = parity.rows[0]["function"]["instructions"][0]["text"]
    assert said.startswith("4567 2024-05-01T00:00:00+00:00 True ") and said.endswith(" 4")  # they ran in Pyodide too


def test_the_exported_function_answers_as_the_notebook_did(sn: Any, tmp_path: Path, node_modules: Path) -> None:
    notebook_handlers(sn)
    sn.dial("+15551234567", "+15559876543", press=["1"])
    sn.dial("+15551234567", "+15559876543", press=["2"])
    server = sn.start()
    import httpx

    httpx.post(f"{server.url}/webhook/conversation", json=payload("conversation-message-inbound"))
    httpx.get(f"{server.url}/status")
    project = sn.export(tmp_path / "build", "parity").path

    parity = sn.parity(project)

    assert parity.same, repr(parity)
    kinds = [row["kind"] for row in parity.rows]
    assert kinds.count("ice") == 2 and kinds.count("pie") == 2 and kinds.count("dice") == 2
    assert "conversation" in kinds and "http" in kinds  # the webhook and the custom endpoint too
    ices = [row["function"] for row in parity.rows if row["kind"] == "ice"]
    texts = [ice["instructions"][0]["text"] for ice in ices]
    assert texts == ["Welcome, caller number 1", "Welcome, caller number 2"]  # the cache carried across calls
    assert parity.cold_start_ms is not None
    logs = [log for row in parity.rows for log in row["logs"]]
    assert ["info", "chose sales"] in logs
    # an object stored by an earlier call is read back through Node's async storage
    assert ["info", "the caller before chose sales"] in logs
    assert (project / ".local-storage" / "choices").is_dir()
    assert "answered alike, the same answers" in parity.summary()
    assert len(parity.frame()) == len(parity.rows)
    assert parity.frame()["diff"].map(len).sum() == 0  # no callback has a field that differs
    counts = parity.by_kind()[["compared", "same", "differ"]]
    assert counts.to_dict("index") == {
        "ice": {"compared": 2, "same": 2, "differ": 0},
        "pie": {"compared": 2, "same": 2, "differ": 0},
        "dice": {"compared": 2, "same": 2, "differ": 0},
        "conversation": {"compared": 1, "same": 1, "differ": 0},
        "http": {"compared": 1, "same": 1, "differ": 0},
    }
    shown = repr(parity).splitlines()
    assert shown[1].split() == ["kind", "compared", "same", "differ"]  # the per-kind table under the summary
    assert shown[2].split() == ["ice", "2", "2", "0"] and shown[6].split() == ["http", "1", "1", "0"]
    page = parity._repr_html_()
    assert "<th>kind</th><th>compared</th><th>same</th><th>differ</th>" in page
    assert "<td>pie</td><td>2</td><td>2</td><td>0</td>" in page and "→" not in page  # nothing differs
    assert "Authorization" not in page + repr(parity) and "chose sales" not in page  # no request headers, no logs


def test_parity_names_the_callbacks_a_changed_handler_answers_differently(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    notebook_handlers(sn)
    sn.dial("+15551234567", "+15559876543", press=["1"])
    cell("ice", ICE.replace("{GREETING}", "Hello"), 7)  # edited after the call, then exported
    parity = sn.parity(sn.export(tmp_path / "build", "edited").path)
    different = [row for row in parity.rows if not row["same"]]
    assert [row["kind"] for row in different] == ["ice"]
    assert "1 DIFFERENT" in parity.summary()
    assert "Hello, caller number 1" in repr(parity) and "Welcome, caller number 1" in repr(parity)
    counts = parity.by_kind()
    assert counts.loc["ice", ["compared", "same", "differ"]].tolist() == [1, 0, 1]
    assert counts.loc["ice", "differing"] == [different[0]["id"]]
    assert counts.loc["pie", ["compared", "same", "differ"]].tolist() == [1, 1, 0]  # the others still alike
    change = 'instructions[0].text: "Welcome, caller number 1" → "Hello, caller number 1"'
    assert different[0]["diff"] == [change]  # the one field that changed, named by its path
    shown = repr(parity).splitlines()
    assert ["ice", "1", "0", "1"] in [line.split() for line in shown]
    assert shown.index(f"    {change}") > shown.index(
        f"  #{different[0]['id']} ice, call {different[0]['call_id']} (notebook → Function):"
    )
    page = parity._repr_html_()
    assert page.index("<td>ice</td><td>1</td><td>0</td><td><b>1</b></td>") < page.index(
        "instructions[0].text: &quot;Welcome, caller number 1&quot; → &quot;Hello, caller number 1&quot;"
    )  # the table first, then the differing callbacks with their diffs


def test_parity_with_no_callbacks_says_nothing_was_compared(sn: Any, tmp_path: Path) -> None:
    notebook_handlers(sn)
    parity = sn.parity(sn.export(tmp_path / "build", "unused").path)  # no call placed in this session
    assert parity.rows == [] and parity.by_kind().empty
    assert "no callbacks to compare" in parity.summary() and "sn.dial" in repr(parity)
    assert "answered alike" not in parity._repr_html_()


def test_parity_says_what_is_missing_to_run_the_function_locally(
    sn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinch_nb.deployment import parity as parity_room

    notebook_handlers(sn)
    sn.dial("+15551234567", "+15559876543", press=["1"])
    project = sn.export(tmp_path / "build", "missing").path
    monkeypatch.delenv("SINCH_NB_NODE_MODULES", raising=False)
    monkeypatch.setattr(parity_room, "USER_NODE_CACHE", tmp_path / "empty-cache")
    with pytest.raises(parity_room.ParityUnavailableError, match=r"install=True"):
        sn.parity(project)
    monkeypatch.setenv("PATH", str(tmp_path))  # no node here
    with pytest.raises(parity_room.ParityUnavailableError, match=r"Node\.js 18 or newer"):
        sn.parity(project)
    with pytest.raises(parity_room.ParityUnavailableError, match=r"sn\.export"):
        sn.parity(tmp_path / "not-a-project")


# -- deploy with the sinch CLI (a fake that checks the project) and the Operations API (a fake) --


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from fakes.sinch_api import FakeSinch

    from sinch_nb.runtime.server import Server

    fake = FakeSinch("app-key", "BeIukql3pTKJ8RGL5zo0DA==")
    server = Server(fake.app())
    server.start()
    log = tmp_path / "cli.jsonl"
    for key, value in {
        "PATH": f"{TESTS / 'fakes'}:{__import__('os').environ['PATH']}",
        "FAKE_SINCH_LOGGED_IN": "1",
        "FAKE_SINCH_LOG": str(log),
        "PROJECT_ID": "project-1",
        "PROJECT_ID_API_KEY": "key-id",
        "PROJECT_ID_API_SECRET": "key-secret",
        "SINCH_AUTH_URL": server.url,
        "SINCH_FUNCTIONS_URL": server.url,
    }.items():
        monkeypatch.setenv(key, value)
    yield fake, log
    fake.close_log_streams()  # the log stream never ends by itself
    server.stop()


def test_deploy_runs_the_cli_then_follows_the_status_to_running(
    sn: Any, platform: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, log = platform
    notebook_handlers(sn)
    result = sn.deploy("my-ivr")
    printed = capsys.readouterr().out
    assert "Deployment Complete!" in printed and "Status: Building" in printed and "Status: Running" in printed
    assert result["status"] == "Running" and result["url"].startswith("https://fn-01jkxf")
    (call,) = [json.loads(line) for line in log.read_text().splitlines() if '"deploy"' in line]
    assert call["argv"] == ["functions", "deploy", "--non-interactive", "--no-docs"]
    assert call["cwd"].endswith("build/.my-ivr.next")
    project = get_session().settings.base_dir / "build" / "my-ivr"
    function_id = json.loads((project / "sinch.json").read_text())["functionId"]
    assert result["function_id"] == function_id

    fake.log_events.append(
        {
            "timestamp": "2026-12-01T10:00:00Z",
            "request": {"method": "POST", "path": "/ice", "body": {"event": "ice", "callid": "live-1", "cli": "+46"}},
            "response": {"statusCode": 200, "body": {"action": {"name": "hangup"}}},
            "durationMs": 3.5,
            "console": ["hello from the function"],
        }
    )
    rows = sn.logs("my-ivr")
    assert rows["source"].astype(str).tolist() == ["deployed"]
    assert rows["call_id"].tolist() == ["live-1"] and rows["kind"].astype(str).tolist() == ["ice"]
    assert set(sn.callbacks()["source"].astype(str)) == {"deployed"}  # beside local ones when there are some


def test_dry_run_lists_what_would_ship_without_running_the_cli(sn: Any, platform: Any) -> None:
    _, log = platform
    notebook_handlers(sn)
    summary = sn.deploy("my-ivr", dry_run=True)
    assert "function.js" in summary["files"] and "assets/handlers.json" in summary["files"]
    assert "VOICE_APPLICATION_SECRET" in summary["secret_names"]
    assert not log.exists()


def test_a_failed_deploy_keeps_the_last_good_export(sn: Any, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb.deployment.cli import DeployError

    notebook_handlers(sn)
    sn.deploy("my-ivr")
    project = get_session().settings.base_dir / "build" / "my-ivr"
    good = json.loads((project / "sinch.json").read_text())
    monkeypatch.setenv("FAKE_SINCH_DEPLOY", "fail")
    with pytest.raises(DeployError, match="Failed to deploy function: build failed"):
        sn.deploy("my-ivr")
    assert json.loads((project / "sinch.json").read_text()) == good
    assert not (get_session().settings.base_dir / "build" / ".my-ivr.next").exists()


def test_deploy_errors_name_the_fix(sn: Any, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb.deployment.cli import DeployError

    notebook_handlers(sn)
    monkeypatch.setenv("FAKE_SINCH_LOGGED_IN", "0")
    with pytest.raises(DeployError, match="sinch auth login"):
        sn.deploy("my-ivr")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with pytest.raises(DeployError, match="npm install -g @sinch/cli"):
        sn.deploy("my-ivr")


def test_no_secret_value_in_the_exported_project(sn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_APPLICATION_SECRET", "BeIukql3pTKJ8RGL5zo0DA==")
    monkeypatch.setenv("PROJECT_ID_API_SECRET", "key-secret")
    notebook_handlers(sn)
    sn.start()  # credentials applied to the runtime, as in a live session
    project = sn.export(tmp_path / "build", "secretless").path
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert b"BeIukql3pTKJ8RGL5zo0DA==" not in text and b"key-secret" not in text, path


def test_a_notebook_run_by_nbclient_exports_a_function_with_the_same_answers(
    tmp_path: Path, node_modules: Path
) -> None:
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml",
        '%%sinch module\nimport json\nGREETING = "Welcome"',
        f"%%sinch ice\n{ICE}",
        f"%%sinch pie\n{PIE}",
        '%%sinch dice\ncontext.log.info("ended: %s", event.reason)',
        "%%sinch conversation\ncontext.cache.set('last_text', event.text)",
        "%%sinch http GET /status\nreturn {'calls': context.cache.get('calls', 0)}",
        'sn.dial("+15551234567", "+15559876543", press=["1"])\nsn.dial("+15551234567", "+15559876543", press=["2"])',
        "%sinch export build/parity --name parity",
        "%sinch parity build/parity",
        "%sinch stop",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = notebook.cells[9].outputs[0]["data"]["text/plain"]
    assert "parity: 6 of 6 callbacks answered alike, the same answers" in shown


def test_deploy_from_a_kernel_shows_a_progress_widget(tmp_path: Path) -> None:
    from kernel import Kernel

    env = {"PATH": f"{TESTS / 'fakes'}:{__import__('os').environ['PATH']}", "FAKE_SINCH_LOGGED_IN": "1"}
    kernel = Kernel(tmp_path, env=env)
    try:
        kernel.run("%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml")
        kernel.run("%%sinch ice\nreturn svaml.ice().hangup()")
        deployed = kernel.run("%sinch deploy --name kernel-fn")
        assert deployed.error is None, deployed.stderr
        assert any("HTML" in r for r in deployed.results)  # the widget, not lines of text
        assert (tmp_path / "build" / "kernel-fn" / "sinch.json").is_file()
        dry = kernel.run("%sinch deploy --name kernel-fn --dry-run")
        assert "Would deploy kernel-fn" in dry.stdout
    finally:
        kernel.shutdown()


def test_following_logs_gives_a_handle_that_stops(sn: Any, platform: Any) -> None:
    fake, _ = platform
    notebook_handlers(sn)
    sn.deploy("my-ivr")
    fake.log_events.append(
        {
            "timestamp": "2026-12-01T10:00:00Z",
            "request": {"method": "POST", "path": "/ice", "body": {"event": "ice", "callid": "live-2", "cli": "+46"}},
            "response": {"statusCode": 200, "body": {"action": {"name": "hangup"}}},
        }
    )
    follower = sn.logs("my-ivr", follow=True)
    deadline = time.monotonic() + 10
    while "live-2" not in sn.callbacks()["call_id"].tolist() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "live-2" in sn.callbacks()["call_id"].tolist()
    assert follower.running and "following" in repr(follower)
    follower.stop()
    assert not follower.running and "stopped" in repr(follower)


def test_logs_without_credentials_name_the_variables(sn: Any, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook_handlers(sn)
    sn.deploy("my-ivr")
    monkeypatch.delenv("PROJECT_ID_API_SECRET")
    with pytest.raises(sn.CredentialsError, match="PROJECT_ID, PROJECT_ID_API_KEY and PROJECT_ID_API_SECRET"):
        sn.logs("my-ivr")
    with pytest.raises(sn.DeployError, match="no deployed function other: %sinch deploy first"):
        sn.logs("other")
