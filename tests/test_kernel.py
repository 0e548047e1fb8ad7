"""Behaviour that lives in a kernel: magics, a runtime that answers while cells run, restarts."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from conftest import free_port, payload, port_is_free
from kernel import SETUP, Kernel, started_kernel
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

ICE = '%%sinch ice\nreturn svaml.ice().say("{text}").hangup()'


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    yield from started_kernel(tmp_path)


def start(kernel: Kernel, port: int | None = None) -> str:
    result = kernel.run(f"%sinch start{f' --port {port}' if port else ''}")
    assert result.error is None, result.error
    match = re.search(r"runtime at (http://\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_the_quickstart_notebook_runs_top_to_bottom(tmp_path: Path) -> None:
    notebook = nbformat.read(ROOT / "notebooks" / "01-quickstart.ipynb", as_version=4)
    checks = """
frame = sn.callbacks()
assert frame["kind"].astype(str).tolist() == ["ice", "pie", "ace", "dice", "ice", "pie", "dice"], frame
assert (frame["status"] == 200).all() and (frame["outcome"] != "fallback").all()
calls = sn.calls()
assert calls["menu_path"].tolist() == ["sales", "support"], calls
assert calls["reason"].tolist() == ["CALLERHANGUP", "MANAGERHANGUP"], calls
assert not sn.last_error() and "No callback has failed" in repr(sn.last_error())
print("checks passed")
"""
    notebook.cells.append(nbformat.v4.new_code_cell(checks))
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = {i: "".join(o.get("text", "") for o in c.get("outputs", [])) for i, c in enumerate(notebook.cells)}
    assert "checks passed" in outputs[len(notebook.cells) - 1]
    assert any(re.search(r"^ice v1 \(cell \[\d+\]\)", text) for text in outputs.values())
    assert (tmp_path / ".sinch_nb" / "journal.db").is_file()


@pytest.mark.parametrize(
    "busy",
    [
        "import time\ntime.sleep(5)",
        "import time\ndeadline = time.time() + 5\nn = 0\nwhile time.time() < deadline:\n    n += 1",
    ],
    ids=["sleeping-cell", "cpu-bound-cell"],
)
def test_callbacks_are_answered_while_a_cell_runs(kernel: Kernel, busy: str) -> None:
    assert kernel.run(ICE.format(text="still here")).error is None
    url = start(kernel)
    # The cell notes its own start and end on the machine's monotonic clock (the same in both processes).
    running = kernel.submit(f"import time\nstarted = time.monotonic()\n{busy}\nprint(started, time.monotonic())")
    time.sleep(1)  # well inside the cell's 5 s
    callbacks = []
    with httpx.Client(base_url=url, timeout=10) as http:
        for _ in range(5):
            sent = time.monotonic()
            response = http.post("/ice", json=payload("voice-ice"))
            assert response.json()["instructions"][0]["text"] == "still here"
            callbacks.append((sent, time.monotonic()))
    cell = kernel.wait(running, timeout=60)
    assert cell.error is None
    cell_started, cell_ended = map(float, cell.stdout.split())
    for sent, answered in callbacks:
        assert cell_started < sent and answered < cell_ended, "answered while the cell ran, not after it"
        assert answered - sent < 1.0, f"a callback took {answered - sent:.2f} s while the cell ran"


def test_the_server_thread_never_prints_into_a_cell(kernel: Kernel) -> None:
    kernel.run("%%sinch ice\nreturn 1 / 0")
    kernel.run('%%sinch pie\nreturn svaml.pie().connect_pstn("+15550001111")')
    kernel.run("%%sinch dice\nreturn {'ignored': True}")  # DiCE answers are not read by Sinch: a warning
    url = start(kernel)
    quiet = kernel.submit("import time\ntime.sleep(2)")
    with httpx.Client(base_url=url, timeout=10) as http:
        http.post("/ice", json=payload("voice-ice"))
        http.post("/pie", json=payload("voice-pie"))
        http.post("/ice", content=b"{broken")
        http.post("/dice", json=payload("voice-dice"))
    cell = kernel.wait(quiet)
    assert (cell.stdout, cell.stderr, cell.results) == ("", "", [])
    report = kernel.run("print(sn.callbacks()[['kind', 'outcome', 'warnings']].to_json(orient='records'))")
    rows = json.loads(report.stdout)
    assert [r["outcome"] for r in rows] == ["fallback", "ok", "rejected", "ok"]
    assert "not read by Sinch" in rows[3]["warnings"]


def test_re_running_a_cell_swaps_its_handler(kernel: Kernel) -> None:
    first = kernel.run(ICE.format(text="one"), cell_id="cell-a")
    assert "ice v1" in first.stdout
    url = start(kernel)
    second = kernel.run(ICE.format(text="two"), cell_id="cell-a")
    assert "ice v2" in second.stdout and url in second.stdout
    with httpx.Client(base_url=url) as http:
        assert http.post("/ice", json=payload("voice-ice")).json()["instructions"][0]["text"] == "two"
    kernel.run("%%sinch pie\nreturn svaml.pie().hangup()", cell_id="cell-a")
    handlers = kernel.run("%sinch handlers").stdout
    assert "pie" in handlers and "ice" not in handlers


def test_handler_cells_see_module_cells_not_notebook_globals(kernel: Kernel) -> None:
    kernel.run('GREETING = "from the notebook"')
    kernel.run("%%sinch ice\nreturn svaml.ice().say(GREETING).hangup()")
    url = start(kernel)
    with httpx.Client(base_url=url) as http:
        http.post("/ice", json=payload("voice-ice"))
        error = kernel.run("print(sn.last_error().error)").stdout
        assert "NameError" in error or "GREETING" in error
        assert "%%sinch module" in error
        module = kernel.run('%%sinch module\nGREETING = "from a module cell"')
        assert "defines GREETING" in module.stdout
        answer = http.post("/ice", json=payload("voice-ice")).json()
    assert answer["instructions"][0]["text"] == "from a module cell"


def test_async_cells_and_custom_endpoints(kernel: Kernel) -> None:
    kernel.run("%%sinch http GET /status\nimport asyncio\nawait asyncio.sleep(0)\nreturn {'up': request.path}")
    url = start(kernel)
    with httpx.Client(base_url=url) as http:
        assert http.get("/status").json() == {"up": "/status"}


def test_bad_magic_arguments_are_usage_errors(kernel: Kernel) -> None:
    # IPython shows a UsageError as one line on stderr, without a traceback.
    assert "UsageError" in kernel.run("%sinch launch").stderr
    assert "usage: %sinch start" in kernel.run("%sinch launch").stderr
    assert "needs a method and a path" in kernel.run("%%sinch http GET\nreturn 1").stderr
    assert "unknown handler kind" in kernel.run("%%sinch icee\nreturn 1").stderr
    assert "is a cell magic" in kernel.run("%sinch ice").stderr
    assert "usage" in kernel.run("%sinch start --port eighty").stderr
    assert "%sinch start" in kernel.run("%sinch help").stdout


def test_a_subcommand_shows_its_own_help(kernel: Kernel) -> None:
    shown = kernel.run("%sinch deploy --help")
    assert shown.error is None and not shown.stderr and "Would deploy" not in shown.stdout  # nothing ran
    assert shown.stdout.startswith("usage: %sinch deploy [--name N] [--dry-run] [--private] [--no-wait]\n")
    assert "export to ./build/N and deploy with the sinch CLI" in shown.stdout
    for option in ("--name N", "--dry-run", "--private", "--no-wait"):
        assert f"\n  {option} " in shown.stdout, option  # a row of its own, with its help
    assert "%sinch start" not in shown.stdout  # deploy's help, not the whole text
    assert kernel.run("%sinch help deploy").stdout == shown.stdout
    assert "--install" in kernel.run("%sinch parity --help").stdout  # even though PATH is missing
    assert "store a secret in the OS keychain" in kernel.run("%sinch help secrets add").stdout
    assert "no subcommand 'nope'" in kernel.run("%sinch help nope").stderr


def test_config_changes_the_settings_as_sn_configure_does(kernel: Kernel) -> None:
    def settings() -> str:
        code = (
            "s = sn.get_session()\nprint(s.settings.handler_timeout, s.settings.function_name, sorted(s.user_settings))"
        )
        return kernel.run(code).stdout.strip()

    assert settings() == "4.0 notebook []"  # loading the magics set nothing
    assert not kernel.run("%config SinchMagics.handler_timeout = 2").stderr
    assert not kernel.run('%config SinchMagics.function_name = "my-ivr"').stderr
    assert settings() == "2.0 my-ivr ['function_name', 'handler_timeout']"
    kernel.run("sn.configure(handler_timeout=3)")
    shown = kernel.run("%config SinchMagics").stdout
    assert "SinchMagics.handler_timeout=<Float>" in shown and "Current: 3.0" in shown  # the session's value
    kernel.run("%config SinchMagics.handler_timeout = 2")
    assert settings().startswith("2.0 ")
    kernel.run("sn.reset_session()")  # a new session: %config reaches it, not the old one
    kernel.run('%config SinchMagics.function_name = "my-ivr"')
    assert settings() == "4.0 my-ivr ['function_name']"


def test_stop_frees_the_port_and_so_does_kernel_shutdown(tmp_path: Path) -> None:
    port = free_port()
    kernel = Kernel(tmp_path)
    try:
        kernel.run(SETUP)
        start(kernel, port)
        assert not port_is_free(port)
        assert "port freed" in kernel.run("%sinch stop").stdout
        assert port_is_free(port)
        start(kernel, port)
        hold = f"import socket\ns = socket.socket()\ns.bind(('127.0.0.1', {port}))\ns.listen()"
        kernel.run(f"sn.stop()\n{hold}")  # another program takes the port
        in_use = kernel.run(f"sn.start(port={port})")
        assert "PortInUseError" in (in_use.error or "") and str(port) in (in_use.error or "")
        kernel.run("s.close()")
        start(kernel, port)
    finally:
        kernel.shutdown()
    assert port_is_free(port)


def test_after_a_kernel_restart_tables_show_this_session_and_history_keeps_the_rest(kernel: Kernel) -> None:
    kernel.run(ICE.format(text="hi"))
    start(kernel)
    kernel.run('sn.dial("+15551234567", "+15559876543")')
    before = kernel.run("print(len(sn.callbacks()))").stdout.strip()
    assert before == "2"
    kernel.restart()
    kernel.run(SETUP)
    after = kernel.run("print(len(sn.callbacks()), len(sn.calls()))").stdout.strip()
    assert after == "0 0"  # a new kernel session starts with empty tables ...
    history = "print(sn.callbacks(history=True)['kind'].astype(str).tolist(), len(sn.calls(history=True)))"
    assert kernel.run(history).stdout.strip() == "['ice', 'dice'] 1"  # ... and keeps the earlier ones
    kernel.run('sn.dial("+15551234567", "+15559876543")')
    assert kernel.run("print(len(sn.callbacks()), len(sn.calls(history=True)))").stdout.strip() == "2 2"


def test_a_handler_cell_is_labelled_with_the_number_the_notebook_shows(kernel: Kernel) -> None:
    kernel.run("x = 1")  # the fixture's setup was cell [1]; this is [2]
    labelled = kernel.run(ICE.format(text="three"))  # and this is [3]
    assert "ice v1 (cell [3])" in labelled.stdout, labelled.stdout
    listed = kernel.run("%sinch handlers").stdout
    assert "cell [3]" in listed and "cell [4]" not in listed
