"""The first hour: ``./dev`` names its commands and an unknown one; the headless demo shows a notebook's markdown."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "dev"


def dev_commands() -> list[str]:
    """The commands ``./dev``'s case statement runs (the first name of each branch, the catch-all left out)."""
    branches = re.findall(r"^ {4}([a-z][\w |-]*)\)$", DEV.read_text(), re.M)
    return [branch.split("|")[0].strip() for branch in branches]


def listed(text: str) -> set[str]:
    """The commands a ``./dev`` usage text lists, one per indented line."""
    return set(re.findall(r"^ {2}([a-z]\w*)\b", text, re.M))


def test_dev_names_an_unknown_command_and_lists_every_command() -> None:
    commands = dev_commands()
    assert {"lab", "demo", "test", "bench", "help"} <= set(commands)

    unknown = subprocess.run([str(DEV), "foo"], capture_output=True, text=True, timeout=30)
    assert unknown.returncode != 0
    assert unknown.stderr.startswith("unknown command: foo\n")
    assert listed(unknown.stderr) == set(commands)

    for asked in (["help"], []):
        shown = subprocess.run([str(DEV), *asked], capture_output=True, text=True, timeout=30)
        assert shown.returncode == 0, shown.stderr
        assert listed(shown.stdout) == set(commands)


def test_the_demo_renders_a_markdown_cell_whole(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Before the code\n\nThis paragraph sits under the heading."),
        nbformat.v4.new_code_cell("print(6 * 7)"),
        nbformat.v4.new_markdown_cell("And a closing note with *emphasis*."),
    ]
    path = tmp_path / "small.ipynb"
    nbformat.write(notebook, path)

    ran = subprocess.run(
        [sys.executable, "-m", "sinch_nb", "demo", str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert "Before the code" in out and "#" not in out.split("Before the code")[0]  # a heading, not its source
    shown = ("This paragraph sits under the heading.", "print(6 * 7)", "42", "closing note")
    order = [out.find(text) for text in shown]
    assert -1 not in order and order == sorted(order), out
    assert "*emphasis*" not in out  # rendered, not echoed
