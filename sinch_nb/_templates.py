"""Starting points from Python: ``sn.templates()`` lists them, ``sn.new()`` writes one as a notebook.

The notebook version of ``sinch functions init TEMPLATE``; ``%sinch new`` calls ``new``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .notebook.templates import Templates

__all__ = ["new", "templates"]


def templates() -> Templates:
    """Every template: its name, what it does, its handlers (a table in Jupyter and in a terminal)."""
    from .notebook.templates import templates as read

    return read()


def new(template: str, path: str | Path | None = None, *, force: bool = False) -> Path:
    """Write ``template`` as a ready-to-run notebook at ``path`` (``./<template>.ipynb`` unless given); returns it.

    A folder gets ``<template>.ipynb`` inside it, and ``.ipynb`` is added when missing. An existing
    file is never overwritten unless ``force`` (``NotebookExistsError``); an unknown name raises
    ``TemplateNotFoundError`` listing the names.
    """
    from .notebook.templates import write

    return write(template, path, force=force)
