"""The IVR explorer: every path through a call flow, found by calling it, in a sandbox.

From the ICE answer, each menu's options are pressed, its timeout and invalid-input
branches taken (digit-collection menus: the shortest, the longest and an invalid
sequence), recursively, each path a fresh simulated call. Each call is marked
``sandbox``: the runtime gives its handlers a copy of the cache and storage and clients
that record what *would* have been sent (``Node.sent``), so exploring changes nothing and
sends nothing. A menu seen again on the same path is a loop; a path that does not repeat
the way it went before is reported as diverged; ``max_depth`` bounds the rest.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from .caller import Call, Transport, new_call
from .v2_call import CallV2

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Exploration", "Node", "explore"]

TIMEOUT, INVALID = "(timeout)", "(invalid)"
_KEYS = "0123456789*#"
_DIGITS = "1234567890"

#: Called when a path's call has ended: what its handlers would have sent, from the runtime's sandbox.
SentOf = Callable[[str], list[str]]


@dataclass
class Node:
    """A point in the call flow: the keys that led here, what the caller heard, and what comes next."""

    keys: tuple[str, ...]
    heard: list[str]
    outcome: str
    children: list[Node] = field(default_factory=list)
    #: What the handlers on this path would have sent (callouts, messages), recorded, never sent.
    sent: list[str] = field(default_factory=list)
    #: Why the app failed on this path, if it did.
    failures: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.keys[-1] if self.keys else "call"


@dataclass
class Exploration:
    """Every path found: ``paths`` as a DataFrame, ``root`` as a tree (Mermaid in JupyterLab)."""

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
        """One row per path: keys pressed, what was heard last, the outcome, what would have been sent."""
        import pandas as pd

        from ..journal.frames import JournalFrame

        rows = [
            {
                "path": " → ".join(n.keys),
                "depth": len(n.keys),
                "heard": " | ".join(n.heard),
                "final": n.outcome,
                "would_send": " | ".join(n.sent),
            }
            for n in self.leaves()
        ]
        return JournalFrame(pd.DataFrame(rows, columns=["path", "depth", "heard", "final", "would_send"]))

    def _text(self, node: Node, indent: str) -> list[str]:
        heard = f" — {' | '.join(node.heard)}" if node.heard else ""
        lines = [f"{indent}{node.label}{heard} ⇒ {node.outcome}"]
        lines += [f"{indent}    ✉ would send {item}" for item in node.sent]
        lines += [f"{indent}    ✗ the app failed: {item} — sn.last_error()" for item in node.failures]
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
        body += "".join(f"<br>✉ would send <code>{html.escape(item)}</code>" for item in node.sent)
        body += "".join(f"<br>✗ the app failed: {html.escape(item)}" for item in node.failures)
        children = "".join(self._html(child) for child in node.children)
        return f"<li>{body}{f'<ul>{children}</ul>' if children else ''}</li>"

    def html(self) -> str:
        """The tree as nested HTML lists (for front ends that draw no Mermaid: ``IPython.display.HTML``)."""
        return f"<ul style='list-style:none;padding-left:1em'>{self._html(self.root)}</ul>"

    def mermaid(self) -> str:
        """The tree as a Mermaid flowchart: JupyterLab 4 draws it from ``text/vnd.mermaid``."""
        from .diagrams import exploration_chart

        return exploration_chart(self.root)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .diagrams import Diagram

        return Diagram(self.mermaid(), repr(self))._repr_mimebundle_()


def _signature(call: Call) -> str:
    assert call.menu is not None
    current = call.menu.current
    return json.dumps([current.get("id"), current.get("mainPrompt"), current.get("options")], sort_keys=True)


def _choices(call: Call) -> list[str]:
    """What to try in the menu ``call`` is in: every option, then the sequences, a timeout and an invalid key."""
    menu = call.menu
    assert menu is not None
    choices = list(menu.options)
    if menu.collects:
        longest = (_DIGITS * 3)[: menu.max_digits]
        choices += [f"{longest[:1]}#", longest] if menu.max_digits > 1 else [longest]
        choices.append("*#")  # a sequence the app does not expect
    choices.append(TIMEOUT)
    if menu.options and not menu.collects:
        choices.append(INVALID)
    return list(dict.fromkeys(choices))


def _enter_v2(call: CallV2, keys: str) -> None:
    """A v2 caller types ``keys`` and stops: the input timeout ends input the maximum did not (V6).

    Input that matches nothing is typed again at each repeat, so the path ends where the menu
    sends it after the repeats (``onFail``, or ``call.menu``), as with an invalid key.
    """
    call.press(keys)
    if call.state == "menu" and call.menu is not None and call.menu.digits:
        call.wait()


def explore(
    transport: Transport,
    cli: str,
    to: str,
    *,
    max_depth: int = 5,
    sent_of: SentOf | None = None,
    **call_options: Any,
) -> Exploration:
    """Walk every menu branch of the flow behind ``transport``, each path a sandboxed call."""
    callbacks = 0

    def until_pie(call: Call | CallV2, act: Callable[[], Any]) -> None:
        """Repeat ``act`` (silence, an invalid key) until the menu sends its PIE or the call leaves it."""
        before, start = call.pies, call.menu.current.get("id") if call.menu else None
        for _ in range(call.model.max_callbacks):
            if call.state != "menu" or call.pies != before or (call.menu and call.menu.current.get("id") != start):
                return
            act()

    def run(keys: tuple[str, ...], expected: list[str]) -> tuple[Call, int, str | None]:
        """A fresh call pressing ``keys``; where the last key's effects begin; why it diverged, if it did."""
        nonlocal callbacks
        options = dict(call_options)
        call = new_call(options.pop("api", "v1"), transport, cli, to, sandbox=sent_of is not None, **options).start()
        mark, diverged = 0, None
        for index, key in enumerate(keys):
            if call.state != "menu" or _signature(call) != expected[index]:
                diverged = f"diverged: before {' → '.join(keys[: index + 1])} the call was not in the same menu again"
                break
            mark = len(call.transcript.steps)
            if key == TIMEOUT:
                until_pie(call, call.wait)
            elif key == INVALID:
                menu = call.menu
                assert menu is not None
                invalid = next(k for k in _KEYS if k not in menu.options)
                until_pie(call, partial(call.press, invalid))
            elif isinstance(call, CallV2):
                until_pie(call, partial(_enter_v2, call, key))
            else:
                call.press(key)
        callbacks += len(call.transcript.statuses)
        return call, mark, diverged

    def finish(call: Call, node: Node) -> Node:
        call.hang_up()
        if sent_of is not None:
            node.sent = sent_of(call.transcript.call_id)
        node.failures = list(dict.fromkeys(call.transcript.failures))
        return node

    def heard(call: Call, since: int) -> list[str]:
        spoken = ("say", "play", "prompt")
        return [s.text for s in call.transcript.steps[since:] if s.party == "app" and s.action in spoken and s.text]

    def visit(keys: tuple[str, ...], expected: list[str], seen: dict[str, tuple[str, ...]]) -> Node:
        call, mark, diverged = run(keys, expected)
        said = heard(call, mark)
        if diverged is not None:
            return finish(call, Node(keys, said, diverged))
        if call.state != "menu":
            return finish(call, Node(keys, said, call.transcript.outcome or "ended"))
        signature = _signature(call)
        if signature in seen:
            back = " → ".join(seen[signature]) or "the first menu"
            return finish(call, Node(keys, said, f"loop back to {back}"))
        if len(keys) >= max_depth:
            return finish(call, Node(keys, said, f"max depth {max_depth}"))
        choices = _choices(call)
        assert call.menu is not None
        node = finish(call, Node(keys, said, f"menu {call.menu.current.get('id')}"))
        for choice in choices:
            node.children.append(visit((*keys, choice), [*expected, signature], {**seen, signature: keys}))
        return node

    return Exploration(visit((), [], {}), callbacks)
