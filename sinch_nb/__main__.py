"""``python -m sinch_nb demo [NOTEBOOK]``: a notebook (the quickstart by default), run headless in this terminal.

Its cells run in an IPython shell in this process (magics and all): the handlers
are defined, the runtime starts, a simulated caller dials, and the callbacks table
is printed; its markdown is rendered between them (rich). No browser, no phone, no
Sinch account.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

QUICKSTART = Path(__file__).resolve().parents[1] / "notebooks" / "01-quickstart.ipynb"


def show_markdown(console: Console, source: str) -> None:
    """Render a markdown cell whole, as the notebook shows it (plain text when stdout is not a terminal)."""
    from rich.markdown import Markdown

    console.print()
    console.print(Markdown(source, justify="default"))  # "default": no lines padded to the width


def show_code(console: Console, number: int, source: str) -> None:
    """Print a code cell under its number, highlighted as IPython reads it (magics included)."""
    from rich.syntax import Syntax

    console.print()
    console.rule(f"cell {number}", align="left")
    console.print(Syntax(source, "ipython3", background_color="default"), soft_wrap=True)  # long lines kept whole
    console.print()


def read_cells(path: Path) -> list[tuple[str, str]]:
    """Each cell's type and source, in order.

    A version-4 notebook is read as the JSON it is: importing nbformat takes a second here (jsonschema's
    format checkers), a third of the demo's run. nbformat upgrades older notebooks.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    if notebook.get("nbformat", 0) < 4:
        import nbformat

        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)  # type: ignore[no-untyped-call]
    return [(cell["cell_type"], _text(cell["source"])) for cell in notebook["cells"]]


def _text(source: str | list[str]) -> str:
    """A cell's source as one string (the file may hold it as a list of lines)."""
    return source if isinstance(source, str) else "".join(source)


def run_notebook(path: Path) -> int:
    """Run the code cells of ``path`` in an in-process IPython shell, markdown shown between; 1 on the first error."""
    from IPython.core.interactiveshell import InteractiveShell
    from rich.console import Console

    shell = InteractiveShell.instance()
    console = Console(highlight=False)  # writes to sys.stdout as it is at each print: the cells' output stays in order
    for number, (kind, source) in enumerate(read_cells(path), start=1):
        if kind == "markdown" and source.strip():
            show_markdown(console, source)
        if kind != "code" or not source.strip():
            continue
        show_code(console, number, source)
        result = shell.run_cell(source, store_history=True)  # type: ignore[no-untyped-call]
        if not result.success:
            print(f"\ncell {number} failed; the demo stops here", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sinch_nb")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a notebook headless (default: the quickstart)")
    demo.add_argument("notebook", nargs="?", type=Path, default=QUICKSTART)
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"no notebook at {args.notebook}; run from a clone of sinch_nb or pass a notebook path")
    import pandas as pd

    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 12)
    return run_notebook(args.notebook)


if __name__ == "__main__":
    sys.exit(main())
