"""``python -m sinch_nb demo [NOTEBOOK]``: a notebook (the quickstart by default), run headless in this terminal.

Its cells run in an IPython shell in this process (magics and all): the handlers
are defined, the runtime starts, a simulated caller dials, and the callbacks table
is printed; its markdown is rendered between them (rich). No browser, no phone, no
Sinch account.
"""

from __future__ import annotations

import argparse
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


def run_notebook(path: Path) -> int:
    """Run the code cells of ``path`` in an in-process IPython shell, markdown shown between; 1 on the first error."""
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell
    from rich.console import Console

    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    shell = InteractiveShell.instance()
    console = Console(highlight=False)  # writes to sys.stdout as it is at each print: the cells' output stays in order
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "markdown" and cell.source.strip():
            show_markdown(console, cell.source)
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        show_code(console, number, cell.source)
        result = shell.run_cell(cell.source, store_history=True)  # type: ignore[no-untyped-call]
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
