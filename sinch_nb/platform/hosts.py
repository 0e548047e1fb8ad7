"""Where Sinch's APIs live; every base URL can be overridden (region, or a test double) by env or .env.

The rules are ``functions/sinch_api.py``'s, shared with the deployed Function; here they read a ``Lookup``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..functions import sinch_api
from ..functions.sinch_api import VOICE_V2_REGIONS
from .credentials import Lookup

__all__ = [
    "VOICE_V2_REGIONS",
    "auth_url",
    "conversation_url",
    "functions_url",
    "sms_url",
    "voice_management_url",
    "voice_url",
    "voice_v2_url",
]


def _get(lookup: Lookup) -> Callable[[str], str | None]:
    return lambda name: lookup(name)[0]


def voice_management_url(lookup: Lookup) -> str:
    """Voice application management (callback URLs, numbers): ``SINCH_VOICE_MANAGEMENT_URL``."""
    return sinch_api.override(_get(lookup), "SINCH_VOICE_MANAGEMENT_URL", "https://callingapi.sinch.com")


def voice_url(lookup: Lookup) -> str:
    """Calling API (callouts, calls, conferences): ``SINCH_VOICE_URL``, or by ``VOICE_REGION`` (``euc1``…)."""
    return sinch_api.voice_url(_get(lookup))


def voice_v2_url(lookup: Lookup) -> str:
    """Voice API v2 (services, calls): ``SINCH_VOICE_V2_URL``, or ``VOICE_REGION`` when it is a v2 region."""
    return sinch_api.voice_v2_url(_get(lookup))


def conversation_url(lookup: Lookup) -> str:
    """Conversation API: ``SINCH_CONVERSATION_URL``, or by ``CONVERSATION_REGION`` (``us``, ``eu``, ``br``)."""
    return sinch_api.conversation_url(_get(lookup))


def sms_url(lookup: Lookup) -> str:
    """SMS API (project OAuth): ``SINCH_SMS_URL``, or by ``SMS_REGION`` (``us``, ``eu``…)."""
    return sinch_api.sms_url(_get(lookup))


def auth_url(lookup: Lookup) -> str:
    """OAuth 2.0 token endpoint host: ``SINCH_AUTH_URL``."""
    return sinch_api.auth_url(_get(lookup))


def functions_url(lookup: Lookup) -> str:
    """Functions Operations API (status, SSE logs): ``SINCH_FUNCTIONS_URL``."""
    return sinch_api.override(_get(lookup), "SINCH_FUNCTIONS_URL", "https://functions.api.sinch.com")
