"""``Secret`` lives in ``functions/secret.py`` (standard library, shipped in the Function); re-exported here."""

from __future__ import annotations

from ..functions.secret import Secret

__all__ = ["Secret"]
