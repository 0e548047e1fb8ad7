"""Callback signatures: Voice "application signed requests" and Conversation webhook HMACs.

Public as ``sinch_nb.signing``. Verification follows reference/sinch-wire.md §3 and agrees
with every vector from Sinch's SDK tests:

- Voice: ``Authorization: Application <key>:<Base64(HMAC-SHA256(Base64Decode(secret), StringToSign))>``
  with StringToSign = method, Base64(MD5(raw body)) (empty for no body), the raw
  Content-Type, ``x-timestamp:<value>``, and the URL path without its query, joined by ``\\n``.
- Conversation: ``x-sinch-webhook-signature`` = Base64(HMAC-SHA256(UTF-8 secret,
  raw body + "." + nonce + "." + timestamp)).

Signatures are compared in constant time; a malformed header is simply not valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

__all__ = [
    "sign_conversation_webhook",
    "sign_voice_callback",
    "verify_conversation_webhook",
    "verify_voice_callback",
    "voice_string_to_sign",
]

_NONCE = "x-sinch-webhook-signature-nonce"
_TIMESTAMP = "x-sinch-webhook-signature-timestamp"
_SIGNATURE = "x-sinch-webhook-signature"
_ALGORITHM = "x-sinch-webhook-signature-algorithm"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _decode_secret(secret: str) -> bytes:
    """A Voice application secret: strict Base64, else lenient as Node's ``Buffer.from(s, 'base64')``."""
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        lenient = secret.replace("-", "+").replace("_", "/").rstrip("=")
        lenient = "".join(ch for ch in lenient if ch.isalnum() or ch in "+/")
        return base64.b64decode(lenient + "=" * (-len(lenient) % 4))


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def voice_string_to_sign(method: str, path: str, headers: Mapping[str, str], body: bytes | str) -> str:
    """The string a Voice callback signature covers."""
    raw = _bytes(body)
    content_md5 = base64.b64encode(hashlib.md5(raw).digest()).decode() if raw else ""
    content_type = _header(headers, "content-type") or ""
    timestamp = _header(headers, "x-timestamp") or ""
    return "\n".join([method.upper(), content_md5, content_type, f"x-timestamp:{timestamp}", urlsplit(path).path])


def _voice_signature(string_to_sign: str, application_secret: str) -> str:
    digest = hmac.new(_decode_secret(application_secret), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_voice_callback(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str,
    application_key: str,
    application_secret: str,
) -> str:
    """The ``Authorization`` header value Sinch would send: ``Application <key>:<signature>``."""
    signature = _voice_signature(voice_string_to_sign(method, path, headers, body), application_secret)
    return f"Application {application_key}:{signature}"


def voice_signing_headers(
    method: str,
    path: str,
    body: bytes | str,
    application_key: str,
    application_secret: str,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Content-Type, a fresh ``x-timestamp`` and the matching ``Authorization`` for a request."""
    headers = {
        "content-type": content_type,
        "x-timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    headers["authorization"] = sign_voice_callback(method, path, headers, body, application_key, application_secret)
    return headers


def verify_voice_callback(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str,
    application_key: str,
    application_secret: str,
) -> bool:
    """Whether ``headers`` carry a valid Sinch application signature for this request."""
    authorization = _header(headers, "authorization")
    if not authorization:
        return False
    parts = authorization.split(" ")
    if len(parts) != 2 or parts[0].lower() != "application":
        return False
    key_and_signature = parts[1].split(":")
    if len(key_and_signature) != 2:
        return False
    key, signature = key_and_signature
    if not hmac.compare_digest(key.encode(), application_key.encode()):
        return False
    try:
        expected = _voice_signature(voice_string_to_sign(method, path, headers, body), application_secret)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(signature.encode(), expected.encode())


def _conversation_signature(body: bytes, nonce: str, timestamp: str, secret: str) -> str:
    message = body + b"." + nonce.encode() + b"." + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def sign_conversation_webhook(
    body: bytes | str, secret: str, *, nonce: str | None = None, timestamp: str | None = None
) -> dict[str, str]:
    """The four ``x-sinch-webhook-signature*`` headers Sinch would send with ``body``."""
    nonce = nonce or secrets.token_hex(13).upper()
    timestamp = timestamp or str(int(time.time()))
    return {
        _SIGNATURE: _conversation_signature(_bytes(body), nonce, timestamp, secret),
        _NONCE: nonce,
        _TIMESTAMP: timestamp,
        _ALGORITHM: "HmacSHA256",
    }


def verify_conversation_webhook(headers: Mapping[str, str], body: bytes | str, secret: str) -> bool:
    """Whether a Conversation webhook carries a valid signature for ``secret``.

    The algorithm header may be absent (as three of Sinch's four SDKs accept); if present it
    must be ``HmacSHA256``.
    """
    signature, nonce, timestamp = (_header(headers, name) for name in (_SIGNATURE, _NONCE, _TIMESTAMP))
    if not signature or nonce is None or timestamp is None:
        return False
    algorithm = _header(headers, _ALGORITHM)
    if algorithm is not None and algorithm.lower() != "hmacsha256":
        return False
    expected = _conversation_signature(_bytes(body), nonce, timestamp, secret)
    return hmac.compare_digest(signature.encode(), expected.encode())
