"""Callback signatures: Voice "application signed requests" and Conversation webhook HMACs.

Public as ``sinch_nb.signing``. Verification follows reference/sinch-wire.md §3 and agrees
with every vector from Sinch's SDK tests:

- Voice: ``Authorization: Application <key>:<Base64(HMAC-SHA256(Base64Decode(secret), StringToSign))>``
  with StringToSign = method, Base64(MD5(raw body)) (empty for no body), the raw
  Content-Type, ``x-timestamp:<value>``, and the URL path without its query, joined by ``\\n``.
- Voice API v2 (reference/sinch-voice-v2.md §5): ``Authorization: service <serviceId>:<sig>``,
  the same HMAC over ``POST``, Base64(MD5(raw body)), the raw Content-Type,
  ``x-timestamp:<value>`` and the path of the webhook URL (no query), keyed by the Base64-decoded
  service secret. Where the sources disagree: the query string is left out (OAS and Java; the
  Python SDK 2.3.0 keeps it and fails Java's vector), and for an empty body both the OAS/Node
  string (empty MD5 and Content-Type lines, which ``sign_voice_v2_callback`` makes) and the Python
  SDK's (MD5 of nothing and the Content-Type) are accepted, since either needs the secret.
- Conversation: ``x-sinch-webhook-signature`` = Base64(HMAC-SHA256(UTF-8 secret,
  raw body + "." + nonce + "." + timestamp)).

Signatures are compared in constant time; a malformed header is simply not valid. Standard
library only: the deployed Function signs its Voice API v1 requests with it (``voice_api.py``);
the notebook's rooms import it from here too.
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
    "sign_voice_v2_callback",
    "verify_conversation_webhook",
    "verify_voice_callback",
    "verify_voice_v2_callback",
    "voice_signing_headers",
    "voice_string_to_sign",
    "voice_timestamp",
    "voice_v2_signing_headers",
    "voice_v2_string_to_sign",
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


def voice_v2_string_to_sign(method: str, path: str, headers: Mapping[str, str], body: bytes | str) -> str:
    """The string a Voice API v2 webhook signature covers (OAS/Node: no body, empty MD5 and Content-Type)."""
    raw = _bytes(body)
    content_md5 = base64.b64encode(hashlib.md5(raw).digest()).decode() if raw else ""
    content_type = (_header(headers, "content-type") or "") if raw else ""
    timestamp = _header(headers, "x-timestamp") or ""
    return "\n".join([method.upper(), content_md5, content_type, f"x-timestamp:{timestamp}", urlsplit(path).path])


def _python_sdk_empty_body_string(method: str, path: str, headers: Mapping[str, str]) -> str:
    """The Python SDK's string for an empty body: MD5 of nothing and the Content-Type, both present."""
    empty_md5 = base64.b64encode(hashlib.md5(b"").digest()).decode()
    content_type = _header(headers, "content-type") or ""
    timestamp = _header(headers, "x-timestamp") or ""
    return "\n".join([method.upper(), empty_md5, content_type, f"x-timestamp:{timestamp}", urlsplit(path).path])


def sign_voice_v2_callback(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str,
    service_id: str,
    service_secret: str,
) -> str:
    """The ``Authorization`` header value Sinch would send: ``service <serviceId>:<signature>``.

    ``headers`` must hold the ``Content-Type`` and ``x-timestamp`` that go with the request.
    """
    signature = _voice_signature(voice_v2_string_to_sign(method, path, headers, body), service_secret)
    return f"service {service_id}:{signature}"


def voice_v2_signing_headers(
    path: str,
    body: bytes | str,
    service_id: str,
    service_secret: str,
    content_type: str = "application/json; charset=utf-8",
) -> dict[str, str]:
    """Content-Type, a fresh ``x-timestamp`` (7 fractional digits, as Sinch writes it) and ``Authorization``.

    For a POST to ``path`` (the webhook URL's path): what the simulator sends with a v2 event.
    """
    now = datetime.now(UTC)
    headers = {
        "content-type": content_type,
        "x-timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
    }
    headers["authorization"] = sign_voice_v2_callback("POST", path, headers, body, service_id, service_secret)
    return headers


def verify_voice_v2_callback(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str,
    service_id: str,
    service_secret: str,
) -> bool:
    """Whether ``headers`` carry a valid Voice API v2 service signature for this request.

    Header names and the ``service`` scheme in any case, the method in any case, ``path`` with or
    without its query. False (never an exception) for a missing or malformed ``Authorization``,
    another service id, a missing ``x-timestamp``, or a signature that does not match. The secret
    is Base64-decoded as for v1 (leniently, as Node's ``Buffer.from``). The age of
    ``x-timestamp`` is the runtime's to judge.
    """
    authorization = _header(headers, "authorization")
    if not authorization or _header(headers, "x-timestamp") is None:
        return False
    parts = authorization.split(" ")
    if len(parts) != 2 or parts[0].lower() != "service":
        return False
    id_and_signature = parts[1].split(":")
    if len(id_and_signature) != 2:
        return False
    received_id, signature = id_and_signature
    if not service_id or not hmac.compare_digest(received_id.encode(), service_id.encode()):
        return False
    candidates = [voice_v2_string_to_sign(method, path, headers, body)]
    if not _bytes(body):
        candidates.append(_python_sdk_empty_body_string(method, path, headers))
    valid = False
    for string_to_sign in candidates:
        try:
            expected = _voice_signature(string_to_sign, service_secret)
        except (binascii.Error, ValueError):
            return False
        valid |= hmac.compare_digest(signature.encode(), expected.encode())
    return valid


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


def voice_timestamp(value: str) -> float | None:
    """A Voice ``x-timestamp`` (ISO 8601, ``Z``, up to 7 fractional digits) as epoch seconds; None if unreadable."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
