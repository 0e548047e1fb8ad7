"""The Sinch Pizza workshop: seven exercises in 60 minutes, each with a check and a hidden solution.

In the workshop notebook::

    from sinch_nb import workshop
    workshop.begin(solutions=False)   # True, or SINCH_NB_SOLUTIONS=1, reveals the solutions
    ...
    workshop.check(1)                  # ✓ / ✗ per expectation, with a hint; never raises
    workshop.solution(1)               # hidden until revealed; then shown and loaded
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Any

from ..session import get_session
from .exercises import EXERCISES, Exercise, Verdict

__all__ = ["EXERCISES", "Agenda", "Check", "Solution", "agenda", "begin", "check", "revealed", "solution"]

SOLUTIONS_ENV = "SINCH_NB_SOLUTIONS"


def begin(solutions: bool = False) -> Agenda:
    """Start the workshop; ``solutions=True`` (or ``SINCH_NB_SOLUTIONS=1``) reveals the solutions."""
    revealing = solutions or os.environ.get(SOLUTIONS_ENV, "") not in ("", "0", "false", "no")
    get_session().workshop_solutions = revealing
    return agenda()


def revealed() -> bool:
    """Whether ``workshop.solution(n)`` shows and loads solutions."""
    return get_session().workshop_solutions


def _exercise(number: int) -> Exercise:
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise ValueError(f"no exercise {number}: the workshop has {', '.join(str(e.number) for e in EXERCISES)}")


@dataclass(frozen=True)
class Agenda:
    """The exercises and their minutes."""

    def __repr__(self) -> str:
        lines = [f"{e.number}. {e.title} ({e.minutes} min)" for e in EXERCISES]
        total = sum(e.minutes for e in EXERCISES)
        state = "revealed" if revealed() else f"hidden (workshop.begin(solutions=True) or {SOLUTIONS_ENV}=1)"
        return "\n".join([f"Sinch Pizza workshop, {total} minutes; solutions {state}", *lines])


def agenda() -> Agenda:
    """What the workshop covers, and whether solutions are revealed."""
    return Agenda()


@dataclass(frozen=True)
class Check:
    """The outcome of ``workshop.check(n)``: shown as ✓ / ✗ lines."""

    number: int
    title: str
    lines: list[tuple[bool, str]]
    passed: bool

    def __repr__(self) -> str:
        head = f"Exercise {self.number}, {self.title}: {'done' if self.passed else 'not yet'}"
        return "\n".join([head, *(f"  {'✓' if met else '✗'} {text}" for met, text in self.lines)])

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#b26a00"
        items = "".join(f"<li>{'✓' if met else '✗'} {html.escape(text)}</li>" for met, text in self.lines)
        head = f"Exercise {self.number}, {html.escape(self.title)}: {'done' if self.passed else 'not yet'}"
        return f"<div style='color:{colour}'><b>{head}</b><ul style='list-style:none'>{items}</ul></div>"


def check(number: int) -> Check:
    """Run exercise ``number``'s check against the handlers defined now (starts the runtime if needed)."""
    import sinch_nb as sn

    exercise = _exercise(number)
    verdict = Verdict()
    if not sn.status().get("running"):
        sn.start()
    try:
        with get_session().making("workshop"):  # the check's calls are journaled, and hidden from sn.calls()
            exercise.run(sn, verdict)
    except Exception as error:  # a check never stops Run All: what broke is the hint
        verdict.expect(False, "the check could run", f"{type(error).__name__}: {error}")
    return Check(number, exercise.title, verdict.lines, verdict.passed)


@dataclass(frozen=True)
class Solution:
    """A solution as code to read, or the note that it is still hidden."""

    number: int
    cells: list[str]
    shown: bool

    def __repr__(self) -> str:
        if not self.shown:
            return (
                f"Solution {self.number} is hidden. Your instructor reveals the solutions with "
                f"workshop.begin(solutions=True) (or {SOLUTIONS_ENV}=1)."
            )
        return f"Solution {self.number} (loaded; re-run your own cell to go back to yours):\n\n" + "\n\n".join(
            self.cells
        )

    def _repr_markdown_(self) -> str:
        if not self.shown:
            return repr(self)
        blocks = "\n\n".join(f"```python\n{cell}\n```" for cell in self.cells)
        return f"**Solution {self.number}** (loaded; re-run your own cell to go back to yours)\n\n{blocks}"


def solution(number: int) -> Solution:
    """Exercise ``number``'s solution: shown and loaded when revealed, else a note that it is hidden."""
    exercise = _exercise(number)
    if not revealed():
        return Solution(number, [], False)
    for cell in exercise.solution:
        _run(cell)
    return Solution(number, exercise.solution, True)


def _run(cell: str) -> None:
    """Run a solution cell the way the attendee's own cell runs: through the %sinch magics."""
    from IPython import get_ipython

    shell: Any = get_ipython()
    if shell is None:
        raise RuntimeError("workshop.solution runs in a notebook (IPython); here, copy the cells instead")
    if "sinch" not in shell.magics_manager.magics["line"]:
        shell.run_line_magic("load_ext", "sinch_nb")
    first, _, body = cell.partition("\n")
    if first.startswith("%%sinch"):
        shell.run_cell_magic("sinch", first.removeprefix("%%sinch").strip(), body)
    else:
        shell.run_line_magic("sinch", first.removeprefix("%sinch").strip())
