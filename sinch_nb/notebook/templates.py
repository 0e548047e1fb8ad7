"""Starting points: the notebooks ``%sinch new`` writes, as ``sinch functions init`` writes a project.

Each template is a notebook in ``template_notebooks/`` (package data), saved without outputs, so
what a user gets is the file a maintainer opened, edited and ran in JupyterLab. What
``sn.templates()`` says about one is read from the notebook itself (its title and its
``%%sinch`` cells), so there is no second description to keep in step.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ..functions.errors import NotebookExistsError, TemplateNotFoundError

__all__ = ["Template", "Templates", "find", "names", "templates", "write"]

SUFFIX = ".ipynb"
#: The line under the table: how to use what it lists.
USAGE = "%sinch new TEMPLATE [PATH] writes one as a notebook (sn.new(TEMPLATE) in Python)"


def _folder() -> Traversable:
    return resources.files(__package__ or "sinch_nb.notebook").joinpath("template_notebooks")


def names() -> list[str]:
    """The templates' names, sorted: what ``%sinch new`` takes (cheap: lists the folder, reads nothing)."""
    return sorted(item.name.removesuffix(SUFFIX) for item in _folder().iterdir() if item.name.endswith(SUFFIX))


@dataclass(frozen=True)
class Template:
    """One starting point: its name, what it does (its notebook's title), its handler cells in order."""

    name: str
    summary: str
    handlers: tuple[str, ...]
    notebook: Traversable

    @classmethod
    def read(cls, name: str) -> Template:
        """The template ``name``, described from its notebook."""
        notebook = _folder().joinpath(name + SUFFIX)
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(cell["source"]) for cell in cells]
        title = next((s.splitlines()[0] for s in sources if s.startswith("# ")), f"# {name}")
        heads = [s.splitlines()[0].removeprefix("%%sinch ").strip() for s in sources if s.startswith("%%sinch ")]
        return cls(name, title.removeprefix("# "), tuple(head for head in heads if head != "module"), notebook)


@dataclass(frozen=True)
class Templates:
    """The templates, shown as a table in Jupyter and in a terminal; ``templates["sms-responder"]`` gives one."""

    items: tuple[Template, ...]

    def __iter__(self) -> Iterator[Template]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, name: str) -> Template:
        for template in self.items:
            if template.name == name:
                return template
        raise TemplateNotFoundError(name, [t.name for t in self.items])

    def _rows(self) -> list[tuple[str, str, str]]:
        return [(t.name, t.summary, ", ".join(t.handlers)) for t in self.items]

    def __repr__(self) -> str:
        rows = [("template", "what it does", "handlers"), *self._rows()]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]
        return "\n".join([*lines, "", USAGE])

    def _repr_html_(self) -> str:
        cell = "<td style='text-align:left'>{}</td>"
        head = "".join(f"<th style='text-align:left'>{name}</th>" for name in ("template", "what it does", "handlers"))
        body = "".join(
            "<tr>" + "".join(cell.format(html.escape(value)) for value in row) + "</tr>" for row in self._rows()
        )
        usage = html.escape(USAGE)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p><code>{usage}</code></p>"


def templates() -> Templates:
    """Every template, described from its notebook."""
    return Templates(tuple(Template.read(name) for name in names()))


def find(name: str) -> Template:
    """The template ``name``; ``TemplateNotFoundError`` listing the names when there is none."""
    known = names()
    if name not in known:
        raise TemplateNotFoundError(name, known)
    return Template.read(name)


def target(name: str, path: str | Path | None) -> Path:
    """Where ``%sinch new name [path]`` writes: ``./name.ipynb``, ``name.ipynb`` inside a folder, ``.ipynb`` added."""
    if path is None:
        return Path(name + SUFFIX)
    chosen = Path(path)
    if chosen.is_dir() or str(path).endswith(("/", "\\")):
        return chosen / (name + SUFFIX)
    return chosen if chosen.suffix == SUFFIX else chosen.with_name(chosen.name + SUFFIX)


def write(name: str, path: str | Path | None = None, *, force: bool = False) -> Path:
    """Write template ``name`` as a notebook at ``path`` (see ``target``); never over a file unless ``force``."""
    template = find(name)
    destination = target(name, path)
    if destination.exists() and not force:
        raise NotebookExistsError(
            f"{destination} exists already: give another PATH (%sinch new {name} other{SUFFIX}), "
            "or overwrite it with --force (force=True in sn.new)"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(template.notebook.read_bytes())
    return destination
