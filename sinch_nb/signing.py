"""Sinch callback signatures: verify what Sinch sends, sign what the simulator sends.

from sinch_nb import signing
signing.verify_voice_callback("POST", "/ice", headers, body, key, secret)          # Voice API v1
signing.verify_voice_v2_callback("POST", "/", headers, body, service_id, secret)  # Voice API v2
signing.verify_conversation_webhook(headers, body, webhook_secret)
"""

from .functions.signing import (
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
