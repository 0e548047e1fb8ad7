"""SVAML read as what a caller hears: prompts to text, actions to plain lines."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["action_line", "prompt_text", "script_html", "script_lines"]

_PROMPT = re.compile(r"#tts\[(.*?)\]|#ssml\[(.*?)\]|#href\[(.*?)\]|(https?://[^;\s]+)", re.S)
_TAG = re.compile(r"<[^>]+>")


def prompt_text(prompt: str | None) -> str:
    """``#tts[Hi];#href[x.wav]`` → ``Hi [plays x.wav]``."""
    if not prompt:
        return ""
    parts = []
    for tts, ssml, href, url in _PROMPT.findall(prompt):
        if tts:
            parts.append(tts)
        elif ssml:
            parts.append(_TAG.sub("", ssml).strip())
        else:
            parts.append(f"[plays {href or url}]")
    return " ".join(p for p in parts if p) or prompt


def action_line(action: dict[str, Any]) -> str:
    """One readable line for a SVAML action."""
    name = action.get("name", "")
    destination = (action.get("destination") or {}).get("endpoint")
    lines = {
        "hangup": "hangs up",
        "continue": "continues the call",
        "connectPstn": f"connects the caller to {action.get('number') or 'the dialled number'}",
        "connectSip": f"connects the caller to SIP {destination}",
        "connectMxp": f"connects the caller to app user {destination}",
        "connectStream": f"streams the call to {destination}",
        "connectConf": f"puts the caller in conference {action.get('conferenceId')}",
        "park": "puts the caller on hold"
        + (f": {prompt_text(action.get('holdPrompt'))}" if action.get("holdPrompt") else ""),
        "runMenu": f"runs menu {action.get('mainMenu') or 'main'}",
    }
    return str(lines.get(name, name))


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def script_lines(answer: dict[str, Any]) -> list[str]:
    """A SVAML answer as the lines of a call script: what is said, asked and done."""
    lines = []
    for item in answer.get("instructions", []):
        name = item.get("name")
        if name == "say":
            lines.append(f"Say: {item.get('text', '')}")
        elif name == "playFiles":
            lines.append("Play: " + " ".join(prompt_text(i) for i in item.get("ids", [])))
        elif name == "setCookie":
            lines.append(f"Remember {item.get('key')} = {item.get('value')}")
        else:
            lines.append(name or "?")
    action = answer.get("action")
    if action:
        lines.append(action_line(action)[:1].upper() + action_line(action)[1:])
        for menu in action.get("menus", []) if action.get("name") == "runMenu" else []:
            lines.append(f"  Menu {menu.get('id')}: {prompt_text(menu.get('mainPrompt'))}")
            lines += [f"    {o.get('dtmf')} → {o.get('action')}" for o in menu.get("options", [])]
    return lines


def script_html(answer: dict[str, Any], title: str) -> str:
    """``script_lines`` as a small HTML block for notebooks."""
    rows = "".join(f"<div>{_escape(line).replace('  ', '&nbsp;&nbsp;')}</div>" for line in script_lines(answer))
    return f"<div style='font-family:monospace'><b>{_escape(title)}</b>{rows}</div>"
