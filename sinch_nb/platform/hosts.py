"""Where Sinch's APIs live; every base URL can be overridden (region, or a test double) by env or .env."""

from __future__ import annotations

from .credentials import Lookup

__all__ = ["auth_url", "conversation_url", "functions_url", "voice_management_url", "voice_url", "voice_v2_url"]


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


#: Voice API v2's regional hosts (``{region}.voice.api.sinch.com``), as the ``sinch`` SDK names them.
VOICE_V2_REGIONS = ("us1", "br1", "eu1", "sg1", "au1")


def voice_v2_url(lookup: Lookup) -> str:
    """Voice API v2 (services, calls): ``SINCH_VOICE_V2_URL``, or ``VOICE_REGION`` when it is a v2 region.

    ``VOICE_REGION`` also names v1 Calling API regions (``euc1``…); only ``us1``, ``br1``, ``eu1``,
    ``sg1`` and ``au1`` pick a v2 host, anything else leaves the global ``https://voice.api.sinch.com``.
    """
    region = lookup("VOICE_REGION")[0]
    prefix = f"{region}." if region in VOICE_V2_REGIONS else ""
    return _override(lookup, "SINCH_VOICE_V2_URL", f"https://{prefix}voice.api.sinch.com")


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
