"""SVAML read as what a caller hears: prompts to text, actions to plain lines."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["action_line", "prompt_text"]

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
