"""The signatures live in ``functions/signing.py`` (standard library, shipped in the Function); re-exported here."""

from __future__ import annotations

from ..functions.signing import (
    sign_conversation_webhook,
    sign_voice_callback,
    sign_voice_v2_callback,
    verify_conversation_webhook,
    verify_voice_callback,
    verify_voice_v2_callback,
    voice_signing_headers,
    voice_string_to_sign,
    voice_v2_signing_headers,
    voice_v2_string_to_sign,
)

__all__ = [
    "sign_conversation_webhook",
    "sign_voice_callback",
    "sign_voice_v2_callback",
    "verify_conversation_webhook",
    "verify_voice_callback",
    "verify_voice_v2_callback",
    "voice_signing_headers",
    "voice_string_to_sign",
    "voice_v2_signing_headers",
    "voice_v2_string_to_sign",
]
