"""Sinch callback signatures: verify what Sinch sends, sign what the simulator sends.

from sinch_nb import signing
signing.verify_voice_callback("POST", "/ice", headers, body, key, secret)
signing.verify_conversation_webhook(headers, body, webhook_secret)
"""

from .contract.signing import (
    sign_conversation_webhook,
    sign_voice_callback,
    verify_conversation_webhook,
    verify_voice_callback,
    voice_signing_headers,
    voice_string_to_sign,
)

__all__ = [
    "sign_conversation_webhook",
    "sign_voice_callback",
    "verify_conversation_webhook",
    "verify_voice_callback",
    "voice_signing_headers",
    "voice_string_to_sign",
]
