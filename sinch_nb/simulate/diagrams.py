"""Pictures of calls as Mermaid text: a call's timeline as a sequence diagram, the explorer's tree as a flowchart.

JupyterLab 4 renders ``text/vnd.mermaid`` outputs itself (no extension, no network); other
front ends fall back to the text and HTML in the same bundle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .explorer import Node

__all__ = ["MERMAID", "Diagram", "exploration_chart", "timeline_chart"]

MERMAID = "text/vnd.mermaid"
_PARTIES = {"caller": "Caller", "sinch": "Sinch", "app": "App", "callee": "Callee", "sinch_nb": "App"}


class _Step(Protocol):
    at: float
    callback: str
    party: str
    action: str
    text: str


def _clean(text: str, limit: int = 60) -> str:
    """Text Mermaid shows as it is: no markup characters, one line, cut."""
    text = re.sub(r"[\"#;<>{}\[\]|`]", " ", text.replace("\n", " ")).strip()
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Diagram:
    """A Mermaid diagram for display: drawn in JupyterLab, its text elsewhere (``.source`` is the Mermaid)."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        # Only Mermaid and text: JupyterLab ranks HTML above Mermaid, so an HTML copy would hide the drawing.
        return {MERMAID: self.source, "text/plain": self.text}


def timeline_chart(steps: Iterable[_Step]) -> str:
    """A call as a sequence diagram: the caller, Sinch, the app and a callee, each step at its second."""
    steps = list(steps)
    lines = ["sequenceDiagram", "    participant Caller", "    participant Sinch", "    participant App"]
    if any(step.party == "callee" for step in steps if hasattr(step, "party")):
        lines.append("    participant Callee")
    last_callback = ""
    for step in steps:
        when = f"{step.at:.1f}s"
        words = _clean(f"{step.action} {step.text}".strip())
        if step.party == "app" and step.callback != last_callback:
            lines.append(f"    Sinch->>App: {step.callback.upper()} ({when})")
        last_callback = step.callback if step.party == "app" else last_callback
        if step.party == "app":
            lines.append(f"    App-->>Caller: {words}")
        elif step.party == "caller":
            lines.append(f"    Caller->>Sinch: {words} ({when})")
        elif step.party == "callee":
            lines.append(f"    Sinch->>Callee: {words} ({when})")
        elif step.party == "sinch_nb":
            lines.append(f"    Note over App: {words}")
        elif step.action == "disconnect":
            lines.append(f"    Sinch->>App: DICE {words} ({when})")
        else:
            lines.append(f"    Note over Sinch: {words}")
    return "\n".join(lines)


def exploration_chart(root: Node) -> str:
    """The explorer's tree as a top-down flowchart: menus as boxes, keys on the edges, outcomes as leaves."""
    lines = ["flowchart TD"]
    counter = 0

    def add(node: Node) -> str:
        nonlocal counter
        name = f"n{counter}"
        counter += 1
        heard = _clean(" | ".join(node.heard), 40)
        label = _clean(node.outcome, 50) + (f"<br/><i>{heard}</i>" if heard else "")
        lines.append(f'    {name}["{label}"]' if node.children else f'    {name}(["{label}"])')
        for child in node.children:
            lines.append(f'    {name} -->|"{_clean(child.label, 20)}"| {add(child)}')
        return name

    add(root)
    return "\n".join(lines)
