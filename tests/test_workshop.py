"""The workshop notebook: every check fails on the templates, and passes with the solutions revealed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_a_failed_check_shows_what_the_handler_received_and_answered(sn: Any) -> None:
    from sinch_nb import svaml, workshop

    main = svaml.menu("main").prompt("Press 1 for our opening hours, 2 to order")
    main.option("1", "return(hours)").option("2", "return(order)")
    sn.ice(lambda context, event: svaml.ice().say("Welcome to Sinch Pizza!").run_menu(main))

    def pie(context: Any, event: Any) -> Any:  # the classic mistake: comparing the key, not the value
        if event.menu_result.value == "1":
            return svaml.pie().say("We are open every day from 11 to 23").hangup()
        return svaml.pie().hangup()

    sn.pie(pie)
    result = repr(workshop.check(2))
    assert "✗ pressing 2 connects the caller to the kitchen" in result
    assert "PIE (return: 'order') → hangup" in result and "the option's return(...) value" in result
    assert "use .connect_pstn" not in result
    assert len(sn.calls()) == 0 and len(sn.calls(source="workshop")) == 2
