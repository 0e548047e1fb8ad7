"""The deployed Function's ``context.voice``, ``conversation``, ``sms`` and ``numbers``: built from its environment.

``build_function_clients(env, transport)`` reads the Function's credentials under the names the
notebook reads (``functions/clients.py`` ``NEEDS``; ``PROJECT_ID``, ``PROJECT_ID_API_KEY``,
``PROJECT_ID_API_SECRET``, ``VOICE_APPLICATION_KEY``, ``VOICE_APPLICATION_SECRET``,
``CONVERSATION_APP_ID``, ``SMS_SERVICE_PLAN_ID``, ``VOICE_SERVICE_ID``, ``ENABLE_NUMBERS_API``)
and the hosts the notebook uses (regions and ``SINCH_*_URL`` overrides, below), and gives a
``MissingClient`` wherever credentials are missing: ``context.voice`` is the notebook's own
``VoiceClient`` class (``voice_api.py``); ``conversation`` and ``sms`` mirror the ``sinch`` SDK
calls (``messaging_api.py``); ``numbers`` has no client here (``UnavailableClient`` when enabled).

The bridge's contract: it calls ``build_function_clients(context.env, transport)`` with a
``transport(method, url, headers, body) -> (status, headers, body)`` (``rest.Transport``:
``str, str, dict[str, str], bytes | None`` in, ``int, dict[str, str], bytes`` out) that performs
the request with Node's ``fetch`` and blocks until the answer is read (Pyodide has no sockets, so
this is the only way out). ``body`` ``None`` means no body (``fetch`` refuses one on GET); the
transport returns 4xx/5xx answers rather than raising (``check_status`` turns them into
``PlatformError`` with the fix) and raises only when no answer came (DNS, TLS, timeout). A
per-request transport is fine (``NodeContext.fetch`` is one): building the clients costs no
request, and the OAuth token is kept per Function instance (``TOKENS``, by auth host and key, one
for v2 calls, Conversation and SMS) until a minute before it expires. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .clients import MissingClient, UnavailableClient
from .messaging_api import ConversationClient, SmsClient
from .rest import TokenCache, TokenSource, Transport
from .secret import Secret
from .voice_api import VoiceClient, VoiceV2Client

__all__ = [
    "VOICE_V2_REGIONS",
    "FunctionClients",
    "Transport",
    "auth_url",
    "build_function_clients",
    "conversation_url",
    "override",
    "sms_url",
    "voice_url",
    "voice_v2_url",
]

#: A variable's value, or None when it is not set (or empty).
Get = Callable[[str], str | None]
#: This Function instance's OAuth tokens, by auth host and key: they outlive the clients of one request.
TOKENS: TokenCache = {}


# Hosts: every base URL can be overridden (region, or a test double) -----------------------------


def override(get: Get, name: str, default: str) -> str:
    """``name``'s value if set, else ``default``; without a trailing slash."""
    return (get(name) or default).rstrip("/")


def voice_url(get: Get) -> str:
    """Calling API (callouts, calls, conferences): ``SINCH_VOICE_URL``, or by ``VOICE_REGION`` (``euc1``…)."""
    region = get("VOICE_REGION")
    default = f"https://calling-{region}.api.sinch.com" if region else "https://calling.api.sinch.com"
    return override(get, "SINCH_VOICE_URL", default)


#: Voice API v2's regional hosts (``{region}.voice.api.sinch.com``), as the ``sinch`` SDK names them.
VOICE_V2_REGIONS = ("us1", "br1", "eu1", "sg1", "au1")


def voice_v2_url(get: Get) -> str:
    """Voice API v2 (services, calls): ``SINCH_VOICE_V2_URL``, or ``VOICE_REGION`` when it is a v2 region.

    ``VOICE_REGION`` also names v1 Calling API regions (``euc1``…); only ``us1``, ``br1``, ``eu1``,
    ``sg1`` and ``au1`` pick a v2 host, anything else leaves the global ``https://voice.api.sinch.com``.
    """
    region = get("VOICE_REGION")
    prefix = f"{region}." if region in VOICE_V2_REGIONS else ""
    return override(get, "SINCH_VOICE_V2_URL", f"https://{prefix}voice.api.sinch.com")


def conversation_url(get: Get) -> str:
    """Conversation API: ``SINCH_CONVERSATION_URL``, or by ``CONVERSATION_REGION`` (``us``, ``eu``, ``br``)."""
    region = get("CONVERSATION_REGION") or "us"
    return override(get, "SINCH_CONVERSATION_URL", f"https://{region}.conversation.api.sinch.com")


def sms_url(get: Get) -> str:
    """SMS API with the project's OAuth token (the SDK's ``zt.`` hosts): ``SINCH_SMS_URL``, or by ``SMS_REGION``.

    ``SMS_REGION`` is ``us`` (the default), ``eu``, ``au``, ``br`` or ``ca``, as the SDK's ``sms_region``.
    """
    region = get("SMS_REGION") or "us"
    return override(get, "SINCH_SMS_URL", f"https://zt.{region}.sms.api.sinch.com")


def auth_url(get: Get) -> str:
    """OAuth 2.0 token endpoint host: ``SINCH_AUTH_URL``."""
    return override(get, "SINCH_AUTH_URL", "https://auth.sinch.com")


# The clients --------------------------------------------------------------------------------------


class FunctionClients(NamedTuple):
    """``context.voice``, ``.conversation``, ``.sms``, ``.numbers``: each a ``MissingClient`` where unset."""

    voice: VoiceClient | MissingClient
    conversation: ConversationClient | MissingClient
    sms: SmsClient | MissingClient
    numbers: Any


def build_function_clients(env: Mapping[str, str], transport: Transport) -> FunctionClients:
    """The clients the Function's environment ``env`` allows, sending every request through ``transport``.

    As in the notebook: ``voice`` with the Voice App's key and secret (v1) or the project's access
    key (v2 ``call``, service ``VOICE_SERVICE_ID``); ``conversation`` with the project's key and
    ``CONVERSATION_APP_ID``; ``sms`` with the project's key and ``SMS_SERVICE_PLAN_ID``. ``numbers``
    is a ``MissingClient`` unless ``ENABLE_NUMBERS_API=true`` and the project's key are set, then an
    ``UnavailableClient`` (no Numbers client in the Function yet). Empty values count as unset.
    """

    def get(name: str) -> str | None:
        return env.get(name) or None

    project_id, key_id, key_secret = get("PROJECT_ID"), get("PROJECT_ID_API_KEY"), get("PROJECT_ID_API_SECRET")
    tokens = (
        TokenSource(auth_url(get), key_id, Secret(key_secret), transport, TOKENS)
        if project_id and key_id and key_secret
        else None
    )
    v2 = (
        VoiceV2Client(voice_v2_url(get), project_id, tokens, get("VOICE_SERVICE_ID"), transport=transport)
        if project_id and tokens is not None
        else None
    )
    application_key, application_secret = get("VOICE_APPLICATION_KEY"), get("VOICE_APPLICATION_SECRET")
    voice: VoiceClient | MissingClient = MissingClient("voice")
    if (application_key and application_secret) or v2 is not None:
        secret = Secret(application_secret) if application_secret else None
        voice = VoiceClient(voice_url(get), application_key, secret, transport, v2=v2)
    conversation: ConversationClient | MissingClient = MissingClient("conversation")
    sms: SmsClient | MissingClient = MissingClient("sms")
    numbers: Any = MissingClient("numbers")
    if project_id and tokens is not None:
        if get("CONVERSATION_APP_ID"):
            conversation = ConversationClient(conversation_url(get), project_id, tokens, transport)
        if get("SMS_SERVICE_PLAN_ID"):
            sms = SmsClient(sms_url(get), project_id, tokens, transport)
        if (get("ENABLE_NUMBERS_API") or "").lower() == "true":
            numbers = UnavailableClient(
                "numbers",
                "the deployed Function has no Numbers API client yet (sinch_nb offers context.voice, "
                "context.conversation and context.sms there); search and rent numbers from the notebook "
                "with sn.clients().numbers, or in the Sinch dashboard",
            )
    return FunctionClients(voice, conversation, sms, numbers)
