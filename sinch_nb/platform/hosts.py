"""Where Sinch's APIs live; every base URL can be overridden (region, or a test double) by env or .env."""

from __future__ import annotations

from .credentials import Lookup

__all__ = ["auth_url", "conversation_url", "functions_url", "voice_management_url", "voice_url"]


def _override(lookup: Lookup, name: str, default: str) -> str:
    value = lookup(name)[0]
    return (value or default).rstrip("/")


def voice_management_url(lookup: Lookup) -> str:
    """Voice application management (callback URLs, numbers): ``SINCH_VOICE_MANAGEMENT_URL``."""
    return _override(lookup, "SINCH_VOICE_MANAGEMENT_URL", "https://callingapi.sinch.com")


def voice_url(lookup: Lookup) -> str:
    """Calling API (callouts, calls, conferences): ``SINCH_VOICE_URL``, or by ``VOICE_REGION`` (``euc1``…)."""
    region = lookup("VOICE_REGION")[0]
    default = f"https://calling-{region}.api.sinch.com" if region else "https://calling.api.sinch.com"
    return _override(lookup, "SINCH_VOICE_URL", default)


def conversation_url(lookup: Lookup) -> str:
    """Conversation API: ``SINCH_CONVERSATION_URL``, or by ``CONVERSATION_REGION`` (``us``, ``eu``, ``br``)."""
    region = lookup("CONVERSATION_REGION")[0] or "us"
    return _override(lookup, "SINCH_CONVERSATION_URL", f"https://{region}.conversation.api.sinch.com")


def auth_url(lookup: Lookup) -> str:
    """OAuth 2.0 token endpoint host: ``SINCH_AUTH_URL``."""
    return _override(lookup, "SINCH_AUTH_URL", "https://auth.sinch.com")


def functions_url(lookup: Lookup) -> str:
    """Functions Operations API (status, SSE logs): ``SINCH_FUNCTIONS_URL``."""
    return _override(lookup, "SINCH_FUNCTIONS_URL", "https://functions.api.sinch.com")
