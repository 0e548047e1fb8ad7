"""Runtime settings and the default fallback answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..functions.answers import DEFAULT_FALLBACK
from ..functions.secret import Secret

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
    #: Voice API v2: the service and its secret; with the secret set, call.* webhooks must be signed.
    voice_service_id: str | None = None
    voice_service_secret: Secret | None = None
    #: The Conversation webhook's secret: with it set, webhooks must carry a valid HMAC.
    conversation_secret: Secret | None = None
    #: Accept unsigned callbacks even when a secret is known (forged signatures stay refused).
    insecure: bool = False
    #: The interpreter's thread switch interval while the runtime serves (Python's own is 0.005 s):
    #: how soon the runtime's thread gets a turn while a cell computes. Restored on stop.
    switch_interval: float = 0.0005
    #: How far a signed callback's timestamp may be from now, in seconds (None: not checked); within it,
    #: an exact repeat gets the first answer without running the handler again (``runtime/repeats.py``).
    signature_window: float | None = 300.0
    #: The journal's size bound: past it, the oldest rows are pruned (None: never).
    journal_max_rows: int | None = 200_000
