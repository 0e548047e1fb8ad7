"""Runtime settings and the default fallback answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.secret import Secret
from ..functions.answers import DEFAULT_FALLBACK

__all__ = ["DEFAULT_FALLBACK", "MiB", "Settings"]

MiB = 1024 * 1024


@dataclass
class Settings:
    """Runtime settings; change them with ``sn.configure(...)``."""

    handler_timeout: float = 4.0
    max_body: int = MiB
    fallback: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_FALLBACK))
    function_name: str = "notebook"
    variables: dict[str, str] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    #: Voice App credentials: with the secret set, voice callbacks must be signed.
    application_key: str | None = None
    application_secret: Secret | None = None
    #: The Conversation webhook's secret: with it set, webhooks must carry a valid HMAC.
    conversation_secret: Secret | None = None
    #: Accept unsigned callbacks even when a secret is known (forged signatures stay refused).
    insecure: bool = False
