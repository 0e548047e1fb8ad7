"""The clients a handler's ``context`` carries, as the Functions runtime pre-wires them (reference §3.2).

Each is None until its credentials are set: ``voice`` needs the Voice App key and secret
(Voice API v1) or the project access key (Voice API v2 ``call``; ``VOICE_SERVICE_ID`` picks the
service); ``conversation`` the project access key and ``CONVERSATION_APP_ID``; ``sms``
``SMS_SERVICE_PLAN_ID``; ``numbers`` ``ENABLE_NUMBERS_API=true``. The last three are the
official ``sinch`` SDK's domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..functions.secret import Secret
from . import hosts
from .credentials import Credentials, Lookup
from .oauth import TokenSource
from .voice_calls import VoiceClient, VoiceV2Client

__all__ = ["Clients", "build_clients", "simulated_clients", "simulated_function_env"]


@dataclass(frozen=True)
class Clients:
    """``context.voice``, ``context.conversation``, ``context.sms``, ``context.numbers``."""

    voice: VoiceClient | None = None
    conversation: Any = None
    sms: Any = None
    numbers: Any = None


def _sdk(credentials: Credentials, lookup: Lookup) -> Any:
    from sinch import SinchClient

    assert credentials.key_secret is not None
    client = SinchClient(
        project_id=credentials.project_id,
        key_id=credentials.key_id,
        key_secret=credentials.key_secret.reveal(),
        conversation_region=credentials.conversation_region,
    )
    configuration = client.configuration
    configuration.auth_origin = hosts.auth_url(lookup)
    configuration.conversation_domain = hosts.conversation_url(lookup)
    configuration.sms_domain = hosts.sms_url(lookup)  # without a region the SDK refuses every SMS request
    configuration.sms_region = lookup("SMS_REGION")[0] or "us"
    return client


def build_clients(credentials: Credentials, lookup: Lookup) -> Clients:
    """The clients these credentials allow."""
    c = credentials
    v2 = None
    if c.project_id and c.key_id and c.key_secret:
        tokens = TokenSource(hosts.auth_url(lookup), c.key_id, c.key_secret)
        v2 = VoiceV2Client(hosts.voice_v2_url(lookup), c.project_id, tokens, c.voice_service_id)
    voice = None
    if (c.application_key and c.application_secret) or v2 is not None:
        voice = VoiceClient(hosts.voice_url(lookup), c.application_key, c.application_secret, v2=v2)
    project = credentials.project_id and credentials.key_id and credentials.key_secret
    sdk = _sdk(credentials, lookup) if project else None
    enable_numbers = (lookup("ENABLE_NUMBERS_API")[0] or "").lower() == "true"
    return Clients(
        voice=voice,
        conversation=sdk.conversation if sdk is not None and credentials.conversation_app_id else None,
        sms=sdk.sms if sdk is not None and credentials.sms_service_plan_id else None,
        numbers=sdk.numbers if sdk is not None and enable_numbers else None,
    )


def simulated_clients(base_url: str, key_id: str, key_secret: str, application_secret: str) -> Clients:
    """The clients a simulated request's handler gets: the same classes, every host the simulated platform's.

    ``base_url`` is the runtime's ``PLATFORM_PREFIX``; the credentials are the simulated platform's
    own, made per process, so nothing reaches Sinch and nothing else gets in.
    """
    from sinch import SinchClient

    client = SinchClient(project_id="sinch-nb-simulator", key_id=key_id, key_secret=key_secret)
    configuration = client.configuration
    configuration.auth_origin = base_url
    configuration.conversation_domain = base_url
    configuration.conversation_region = "us"
    configuration.sms_domain = base_url
    configuration.sms_region = "us"
    v2 = VoiceV2Client(base_url, "sinch-nb-simulator", TokenSource(base_url, key_id, Secret(key_secret)))
    voice = VoiceClient(base_url, "sinch-nb-simulator", Secret(application_secret), v2=v2)
    return Clients(voice=voice, conversation=client.conversation, sms=client.sms, numbers=None)


#: The variables that move each API's host (``platform/hosts.py``), all to the simulated platform for parity.
HOST_OVERRIDES = ("SINCH_AUTH_URL", "SINCH_VOICE_URL", "SINCH_VOICE_V2_URL", "SINCH_CONVERSATION_URL", "SINCH_SMS_URL")


def simulated_function_env(base_url: str, key_id: str, key_secret: str, application_secret: str) -> dict[str, str]:
    """A deployed Function's environment pointed at the simulated platform: its clients as ``simulated_clients``.

    For ``sn.parity``: the Function's ``context.voice``, ``conversation`` and ``sms`` reach the same local
    Sinch APIs the notebook's simulated traffic did, with the simulated platform's per-process credentials.
    """
    return {
        "PROJECT_ID": "sinch-nb-simulator",
        "PROJECT_ID_API_KEY": key_id,
        "PROJECT_ID_API_SECRET": key_secret,
        "VOICE_APPLICATION_KEY": "sinch-nb-simulator",
        "VOICE_APPLICATION_SECRET": application_secret,
        "CONVERSATION_APP_ID": "sinch-nb-simulator",
        "SMS_SERVICE_PLAN_ID": "sinch-nb-simulator",
        **dict.fromkeys(HOST_OVERRIDES, base_url),
    }
