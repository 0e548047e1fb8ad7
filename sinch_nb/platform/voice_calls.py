"""``context.voice`` in the notebook: ``functions/voice_api.py``'s clients over httpx.

The request building (SVAML, v2 flows, signatures, tokens, errors) is the standard-library core
the deployed Function runs too; only the transport differs.
"""

from __future__ import annotations

import httpx

from ..functions import voice_api
from ..functions.secret import Secret
from ..functions.voice_api import flow_commands
from .http import HttpxTransport
from .oauth import TokenSource

__all__ = ["VoiceClient", "VoiceV2Client", "flow_commands"]


class VoiceV2Client(voice_api.VoiceV2Client):
    """Voice API v2 calls over httpx (``client``, or one of its own with a 15 s timeout)."""

    def __init__(
        self,
        base_url: str,
        project_id: str,
        tokens: TokenSource,
        service_id: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.client = client or httpx.Client(timeout=15)
        super().__init__(base_url, project_id, tokens, service_id, transport=HttpxTransport(self.client))


class VoiceClient(voice_api.VoiceClient):
    """``context.voice`` over httpx: the Calling API (v1) signed with the Voice App's key and secret, and ``v2``."""

    def __init__(
        self,
        base_url: str,
        application_key: str | None,
        application_secret: Secret | None,
        client: httpx.Client | None = None,
        *,
        v2: VoiceV2Client | None = None,
    ) -> None:
        signed = bool(application_key and application_secret)
        transport = HttpxTransport(client or httpx.Client(timeout=15)) if signed else None
        super().__init__(base_url, application_key, application_secret, transport, v2=v2)
