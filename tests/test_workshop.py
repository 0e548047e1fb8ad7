"""The workshop notebook: every check fails on the templates, and passes with the solutions revealed."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

WORKSHOP = Path(__file__).resolve().parents[1] / "notebooks" / "workshop" / "sinch-pizza.ipynb"


def run(notebook: nbformat.NotebookNode, folder: Path) -> list[tuple[str, str]]:
    """(cell source, what it showed as text) for every cell, after running the notebook in a kernel."""
    resources = {"metadata": {"path": str(folder)}}
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources=resources).execute()
    shown = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
        assert not [o for o in cell.outputs if o.get("output_type") == "error"], cell.source
        shown.append((cell.source, text))
    return shown


def test_the_templates_fail_every_check_and_the_solutions_stay_hidden(tmp_path: Path) -> None:
    shown = run(nbformat.read(WORKSHOP, as_version=4), tmp_path)
    checks = [text for source, text in shown if source.startswith("workshop.check(")]
    solutions = [text for source, text in shown if source.startswith("workshop.solution(")]
    assert len(checks) == len(solutions) == 7
    assert all(": not yet" in text and "✗" in text for text in checks), checks
    assert all("is hidden" in text and "%%sinch" not in text for text in solutions)


def test_the_flag_reveals_solutions_that_pass_every_check(tmp_path: Path) -> None:
    notebook = nbformat.read(WORKSHOP, as_version=4)
    setup = next(c for c in notebook.cells if "workshop.begin(solutions=False)" in c.source)
    setup.source = setup.source.replace("solutions=False", "solutions=True")  # what the instructor flips
    shown = run(notebook, tmp_path)
    checks = [text for source, text in shown if source.startswith("workshop.check(")]
    solutions = [text for source, text in shown if source.startswith("workshop.solution(")]
    assert [text.split(": ", 1)[1].split("\n")[0] for text in checks] == ["done"] * 7, checks
    assert all("✗" not in text for text in checks)
    assert all("(loaded;" in text for text in solutions)
    assert "%%sinch ice" in solutions[0] and "%sinch export" in solutions[6]
    assert (tmp_path / "build" / "sinch-pizza" / "function.js").is_file()


def test_the_environment_reveals_the_solutions_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from sinch_nb import workshop

    monkeypatch.setenv("SINCH_NB_SOLUTIONS", "1")
    assert "solutions revealed" in repr(workshop.begin(solutions=False))
    monkeypatch.setenv("SINCH_NB_SOLUTIONS", "0")
    assert "solutions hidden" in repr(workshop.begin())
    assert workshop.revealed() is False
    with pytest.raises(ValueError, match="no exercise 9"):
        workshop.check(9)
