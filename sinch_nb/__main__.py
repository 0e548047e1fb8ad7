"""``python -m sinch_nb demo``: the quickstart notebook, run headless in this terminal.

Its cells run in an IPython shell in this process (magics and all): the handlers
are defined, the runtime starts, a simulated caller dials, and the callbacks table
is printed. No browser, no phone, no Sinch account.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "notebooks" / "01-quickstart.ipynb"


def run_notebook(path: Path) -> int:
    """Run every code cell of ``path`` in an in-process IPython shell; 1 on the first error."""
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    shell = InteractiveShell.instance()
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            print(f"\n== {cell.source.splitlines()[0].lstrip('# ')}")
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        print(f"\n>>> cell {number}\n{cell.source}\n")
        result = shell.run_cell(cell.source, store_history=True)  # type: ignore[no-untyped-call]
        if not result.success:
            print(f"\ncell {number} failed; the demo stops here", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sinch_nb")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the quickstart notebook headless")
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
