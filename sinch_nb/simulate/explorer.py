"""The IVR explorer: every path through a call flow, found by calling it.

From the ICE answer, each menu's options are pressed, and its timeout and invalid-input
branches taken, through the PIE handler, recursively (each path a fresh simulated call).
A menu seen again on the same path is a loop; ``max_depth`` bounds the rest.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .caller import Call, Transport

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Exploration", "Node", "explore"]

TIMEOUT, INVALID = "(timeout)", "(invalid)"
_KEYS = "0123456789*#"


@dataclass
class Node:
    """A point in the call flow: the keys that led here, what the caller heard, and what comes next."""

    keys: tuple[str, ...]
    heard: list[str]
    outcome: str
    children: list[Node] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.keys[-1] if self.keys else "call"


@dataclass
class Exploration:
    """Every path found: ``paths`` as a DataFrame, ``root`` as a tree."""

    root: Node
    callbacks: int

    def leaves(self) -> list[Node]:
        found, stack = [], [self.root]
        while stack:
            node = stack.pop()
            stack.extend(reversed(node.children))
            if not node.children:
                found.append(node)
        return found

    def paths(self) -> pd.DataFrame:
        """One row per path: keys pressed, what was heard last, the final action (or loop / depth)."""
        import pandas as pd

        rows = [
            {"path": " → ".join(n.keys), "depth": len(n.keys), "heard": " | ".join(n.heard), "final": n.outcome}
            for n in self.leaves()
        ]
        return pd.DataFrame(rows, columns=["path", "depth", "heard", "final"])

    def _text(self, node: Node, indent: str) -> list[str]:
        heard = f" — {' | '.join(node.heard)}" if node.heard else ""
        lines = [f"{indent}{node.label}{heard} ⇒ {node.outcome}"]
        for child in node.children:
            lines += self._text(child, indent + "    ")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._text(self.root, ""))

    def _html(self, node: Node) -> str:
        heard = html.escape(" | ".join(node.heard))
        body = (
            f"<b>{html.escape(node.label)}</b> <span style='color:#57606a'>{heard}</span> ⇒ {html.escape(node.outcome)}"
        )
        children = "".join(self._html(child) for child in node.children)
        return f"<li>{body}{f'<ul>{children}</ul>' if children else ''}</li>"

    def _repr_html_(self) -> str:
        return f"<ul style='list-style:none;padding-left:1em'>{self._html(self.root)}</ul>"


def _signature(call: Call) -> str:
    assert call.menu is not None
    current = call.menu.current
    return json.dumps([current.get("id"), current.get("mainPrompt"), current.get("options")], sort_keys=True)


def explore(transport: Transport, cli: str, to: str, *, max_depth: int = 5, **call_options: Any) -> Exploration:
    """Walk every menu branch of the flow behind ``transport``."""
    callbacks = 0

    def run(keys: tuple[str, ...]) -> tuple[Call, int]:
        nonlocal callbacks
        call = Call(transport, cli, to, **call_options).start()
        mark = 0
        for index, key in enumerate(keys):
            mark = len(call.transcript.steps)
            if key == TIMEOUT:
                call.wait()
            elif key == INVALID:
                invalid = next(k for k in _KEYS if call.menu is not None and k not in call.menu.options)
                start = call.menu.current.get("id") if call.menu else None
                for _ in range(10):
                    if call.state != "menu" or call.menu is None or call.menu.current.get("id") != start:
                        break
                    call.press(invalid)
            else:
                call.press(key)
            if call.state != "menu" and index < len(keys) - 1:
                break
        callbacks += len(call.transcript.statuses)
        return call, mark

    def heard(call: Call, since: int) -> list[str]:
        spoken = ("say", "play", "prompt")
        return [s.text for s in call.transcript.steps[since:] if s.party == "app" and s.action in spoken and s.text]

    def visit(keys: tuple[str, ...], seen: dict[str, tuple[str, ...]]) -> Node:
        call, mark = run(keys)
        said = heard(call, mark)
        if call.state != "menu":
            last = next((s for s in reversed(call.transcript.steps) if s.party == "app"), None)
            outcome = "ended" if last is None else last.action
            if last is not None and last.action not in ("hangup", "none", "say", "play", "prompt"):
                outcome = f"{last.action}: {last.text}"
            node = Node(keys, said, outcome)
            call.hang_up()
            return node
        signature = _signature(call)
        if signature in seen:
            back = " → ".join(seen[signature]) or "the first menu"
            call.hang_up()
            return Node(keys, said, f"loop back to {back}")
        if len(keys) >= max_depth:
            call.hang_up()
            return Node(keys, said, f"max depth {max_depth}")
        assert call.menu is not None
        menu = call.menu
        choices = list(menu.options)
        if menu.collects:
            choices.append("1" * int(menu.current.get("maxDigits", 1)) if menu.options else "1234#")
        choices += [TIMEOUT] + ([INVALID] if menu.options and not menu.collects else [])
        call.hang_up()
        node = Node(keys, said, f"menu {menu.current.get('id')}")
        for choice in choices:
            node.children.append(visit((*keys, choice), {**seen, signature: keys}))
        return node

    return Exploration(visit((), {}), callbacks)
