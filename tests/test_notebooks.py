"""Every notebook in notebooks/ runs top to bottom in a real kernel, offline, in a fresh folder."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if "fakes" not in p))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "Traceback" not in text


def test_the_debugging_notebook_shows_the_edit_and_writes_a_test(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS[[p.stem for p in NOTEBOOKS].index("03-debugging")], as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for c in notebook.cells for o in c.get("outputs", []))
    assert '+      "text": "Thanks for calling Acme, goodbye"' in shown
    assert (tmp_path / "tests_generated" / "test_support_call.py").is_file()
    assert (tmp_path / "captured" / "calls.jsonl").read_text().count("\n") >= 4
