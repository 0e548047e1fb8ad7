"""Progress of a long step: a live widget in a notebook, plain lines in a terminal."""

from __future__ import annotations

import html
from collections.abc import Callable

__all__ = ["progress"]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress(title: str) -> Callable[[str], None]:
    """A function that shows each line it is given, under ``title``."""
    if not _in_notebook():
        print(title)
        return print
    import ipywidgets as widgets
    from IPython.display import display

    lines: list[str] = []
    view = widgets.HTML(f"<b>{html.escape(title)}</b>")
    display(view)  # type: ignore[no-untyped-call]

    def show(line: str) -> None:
        lines.append(line)
        body = "\n".join(lines[-40:])
        view.value = f"<b>{html.escape(title)}</b><pre style='margin:0'>{html.escape(body)}</pre>"

    return show
