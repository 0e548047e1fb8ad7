"""The package's shape: fast import, a stdlib-only functions room, the headless demo."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout))


def test_import_sinch_nb_loads_no_heavy_library() -> None:
    modules = loaded_after("import sinch_nb")
    heavy = {"pandas", "ipywidgets", "pyngrok", "starlette", "uvicorn", "pydantic", "httpx", "sqlite3"}
    assert not {name.split(".")[0] for name in modules} & heavy


def test_the_functions_room_imports_only_the_standard_library() -> None:
    before = loaded_after("pass")
    modules = loaded_after("import sinch_nb.functions, sinch_nb.functions.routing, sinch_nb.functions.sinch_api")
    outside = {
        name.split(".")[0]
        for name in modules - before
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("sinch_nb")
    }
    assert outside == set()
    sources = "".join(p.read_text() for p in (ROOT / "sinch_nb" / "functions").glob("*.py"))
    assert "from .." not in sources  # nothing from the rest of sinch_nb either


def test_the_headless_demo_runs_the_quickstart(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sinch_nb", "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "runtime at http://127.0.0.1:" in out.stdout
    assert "Welcome, caller +15551234567" in out.stdout
    assert "ice → pie → ace → dice" in out.stdout
    assert "runtime stopped; port freed" in out.stdout
    assert (tmp_path / ".sinch_nb" / "journal.db").is_file()


def test_dev_lab_serves_the_quickstart_in_jupyterlab(tmp_path: Path) -> None:
    """The README's first command (its setup is done by now: ./dev test ran it) opens the quickstart."""
    import os
    import time

    import httpx
    from conftest import free_port

    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    command = [str(ROOT / "dev"), "lab", "--no-browser", f"--port={port}", "--IdentityProvider.token="]
    lab = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, page = time.monotonic() + 90, None
        while time.monotonic() < deadline and page is None and lab.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/lab/tree/01-quickstart.ipynb")
            except httpx.TransportError:
                time.sleep(0.5)
        assert page is not None and page.status_code == 200, lab.stderr.read() if lab.poll() is not None else ""
        # jupyter serves notebooks/ (so every tutorial is in the file browser) and opens the quickstart
        opened = httpx.get(f"http://127.0.0.1:{port}/api/contents/01-quickstart.ipynb").json()
        assert opened["type"] == "notebook"
        (redirect,) = (tmp_path / "runtime").glob("jpserver-file-to-run-*-open.html")
        assert "lab/tree/01-quickstart.ipynb" in redirect.read_text()  # the page a browser is sent to
    finally:
        lab.terminate()
        lab.wait(timeout=30)


def test_committed_notebooks_have_no_outputs() -> None:
    for path in (ROOT / "notebooks").rglob("*.ipynb"):
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name} has outputs"


def subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """Every ``%sinch`` subcommand at any depth ("secrets add"), with the help= it was added with, and its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                path = f"{prefix}{name}"
                yield path, helps.get(name) or "", sub
                yield from subcommands(sub, f"{path} ")


def help_block(text: str, path: str) -> str:
    """The part of the help about ``%sinch path``: from its line to the next subcommand's, whitespace collapsed."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if f"{line} ".startswith(f"  %sinch {path} "))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  %sinch ")), len(lines))
    return " ".join(" ".join(lines[start:end]).split())


def test_the_magic_help_documents_every_subcommand_option_and_cell_kind() -> None:
    from IPython.testing.globalipapp import start_ipython

    from sinch_nb.functions import routing
    from sinch_nb.notebook.magics import HELP, _line_parser

    parser = _line_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    assert set(commands.choices) == {path for path, _, _ in subcommands(parser) if " " not in path}
    for name, _, sub in subcommands(parser):
        assert f"%sinch {name}" in HELP, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in HELP, f"%sinch {name} {flag}"
            for choice in action.choices or ():
                assert str(choice) in HELP, f"%sinch {name} {choice}"
    for kind in (*routing.HANDLER_KINDS, "module"):
        assert f"%%sinch {kind}" in HELP, kind
    shell = start_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "sinch_nb")
    for name in ("%sinch", "%%sinch"):
        assert "%sinch parity PATH [--install]" in shell.object_inspect_text(name)  # what %sinch? pages


def test_every_subcommand_and_argument_has_a_help_and_the_help_text_shows_it() -> None:
    """HELP is generated from the parser: a subcommand or argument added without help= fails here."""
    from sinch_nb.notebook.magics import HELP, _line_parser

    parser = _line_parser()
    assert all(action.help for action in parser._actions)
    found = list(subcommands(parser))
    assert {"start", "deploy", "secrets add", "help"} <= {path for path, _, _ in found}
    for path, text, sub in found:
        assert text, f"%sinch {path} has no help"
        assert sub.description == text  # what %sinch {path} --help shows
        block = help_block(HELP, path)
        assert " ".join(text.split()) in block, f"%sinch {path}: its help is not in HELP"
        for action in sub._actions:
            assert action.help, f"%sinch {path} {action.option_strings or action.dest} has no help"
            if isinstance(action, argparse._SubParsersAction) or "--help" in action.option_strings:
                continue  # its choices are subcommands, checked in this loop; --help shows itself
            assert " ".join(action.help.split()) in block, f"%sinch {path} {action.option_strings or action.dest}"


def test_the_cell_kinds_table_is_the_runtimes_kinds_and_every_line_is_dispatched() -> None:
    """The cell kinds written once are the ones the runtime routes; each runnable subcommand has one method."""
    from sinch_nb.functions import routing
    from sinch_nb.notebook.magics import CELL_KINDS, CELL_USAGE, HELP, SinchMagics, _line_parser

    assert set(CELL_KINDS) == {*routing.HANDLER_KINDS, "module"}
    assert CELL_USAGE == (
        "%%sinch ice|ace|pie|dice|notify|incoming|answered|manage|completed|fallback|conversation|module"
        "  or  %%sinch http METHOD /path  or  %%sinch webhook NAME  or  %%sinch stream /path"
    )
    flat = " ".join(HELP.split())
    for text in CELL_KINDS.values():
        assert " ".join(text.split()) in flat
    parser = _line_parser()
    runnable = {
        path
        for path, _, sub in subcommands(parser)
        if not any(isinstance(action, argparse._SubParsersAction) for action in sub._actions)
    }
    assert set(SinchMagics._COMMANDS) == runnable
    for path in runnable:  # each parses to its own entry of the dispatch table
        sub = next(sub for name, _, sub in subcommands(parser) if name == path)
        required = [action for action in sub._actions if not action.option_strings and action.nargs is None]
        assert parser.parse_args([*path.split(), *("x" for _ in required)]).command == path


def test_every_benchmark_imports() -> None:
    """./dev bench runs them by hand; this catches one that a refactor broke (its main() is not run)."""
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        code = f"import sys; sys.path.insert(0, {str(script.parent)!r}); import {script.stem}"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, f"{script.name}: {done.stderr[-600:]}"


def test_every_error_sinch_nb_raises_is_a_sinch_nb_error_exported_from_the_package() -> None:
    import importlib
    import inspect
    import pkgutil

    import sinch_nb
    from sinch_nb.functions import errors

    # Signals, not errors: functions.bridge tells Node a stored object is needed; the magics' parser says --help.
    signals = {"NeedFromNode", "_HelpRequested"}
    found = {}
    for module_info in pkgutil.walk_packages(sinch_nb.__path__, "sinch_nb."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            error = inspect.isclass(value) and issubclass(value, Exception) and not issubclass(value, Warning)
            if error and value.__module__.startswith("sinch_nb"):
                found[name] = value
    assert len(found) > 15
    for name, error in found.items():
        assert name in signals or issubclass(error, sinch_nb.SinchNbError), name
    for name in errors.__all__:
        assert getattr(sinch_nb, name) is getattr(errors, name), name
        assert name in sinch_nb.__all__, name
        assert name in (errors.__doc__ or ""), f"{name} is missing from the tree drawn in the docstring"


def test_no_face_module_imports_another_face_modules_names() -> None:
    import ast

    for path in (ROOT / "sinch_nb").glob("_*.py"):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert not (node.module or "").startswith("_"), f"{path.name} imports from .{node.module}"
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from .{node.module}"


#: docs/architecture.md's table: what each room may import inside sinch_nb.
ROOM_IMPORTS = {
    "functions": set(),
    "contract": {"functions"},
    "journal": set(),
    "runtime": {"functions", "contract", "journal"},
    "tunnel": {"functions"},
    "platform": {"functions", "contract"},
    "simulate": {"functions", "contract", "journal"},
    "deployment": {"functions", "platform", "journal"},
}


def test_each_room_imports_only_what_the_architecture_allows() -> None:
    import ast

    for room, allowed in ROOM_IMPORTS.items():
        for path in (ROOT / "sinch_nb" / room).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level >= 2:
                    target = (node.module or "").split(".")[0]
                    assert target in allowed, f"{path.relative_to(ROOT)} imports sinch_nb.{node.module}"
                elif isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
                    names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                    assert not any((n or "").startswith("sinch_nb") for n in names), path
