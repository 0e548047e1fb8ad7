"""``context.env``: the process environment, readable by a handler, never shown with its secrets.

Standard library only: the deployed Function's ``context.env`` is the same class.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

__all__ = ["Environment", "is_secret_name"]

_SECRET_WORDS = {
    "KEY",
    "KEYS",
    "APIKEY",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "AUTHTOKEN",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
}
#: Keys that identify rather than authenticate (the CLI sends them as plain variables).
_PLAIN_KEYS = {"PROJECT_ID_API_KEY", "VOICE_APPLICATION_KEY"}


def is_secret_name(name: str) -> bool:
    """Whether ``name`` holds a credential, by the ``sinch`` CLI's rule (0.8.2)."""
    if name in _PLAIN_KEYS:
        return False
    words = [w.upper() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    return bool(words) and words[-1] in _SECRET_WORDS and not {"PUBLIC", "PUBLISHABLE"} & set(words)


class Environment(Mapping[str, str]):
    """A read-only view of environment variables: ``env["X"]`` gives the value; its repr masks secrets."""

    def __init__(self, source: Mapping[str, str]) -> None:
        self._source = source

    def __getitem__(self, name: str) -> str:
        return self._source[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def __repr__(self) -> str:
        shown = {name: "***" if is_secret_name(name) else value for name, value in sorted(self._source.items())}
        return f"Environment({shown!r})"

    __str__ = __repr__
