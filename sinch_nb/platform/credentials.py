"""Credentials under the Sinch Functions names, from the environment, ``.env`` or the OS keychain.

Lookup order: the process environment, then a ``.env`` beside the notebook, then the
keychain (keyring, service ``sinch_nb``). Secret values come back wrapped in ``Secret``
and are never printed. Where no keychain backend exists (Binder, CI, containers),
``add`` says so and points at the environment and ``.env``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..functions.environment import is_secret_name
from ..functions.errors import NoKeychainError
from ..functions.secret import Secret

__all__ = ["KNOWN_NAMES", "CredentialStore", "Credentials", "Lookup", "NoKeychainError", "is_secret_name"]

#: ``CredentialStore.lookup``: a name → (value, where it was found).
Lookup = Callable[[str], tuple[str | None, str | None]]

SERVICE = "sinch_nb"
_INDEX = "__names__"

#: What a Function's ``.env`` lists (values filled at deploy from the keychain, never exported).
FUNCTION_ENV_NAMES = (
    "PROJECT_ID",
    "PROJECT_ID_API_KEY",
    "PROJECT_ID_API_SECRET",
    "VOICE_APPLICATION_KEY",
    "VOICE_APPLICATION_SECRET",
    "CONVERSATION_APP_ID",
    "SMS_SERVICE_PLAN_ID",
)
#: The names sinch_nb reads, as the Functions runtime and the ``sinch`` CLI spell them.
KNOWN_NAMES = (
    *FUNCTION_ENV_NAMES,
    "CONVERSATION_REGION",
    "CONVERSATION_WEBHOOK_SECRET",
    "SMS_REGION",
    "VOICE_REGION",
    "VOICE_SERVICE_ID",
    "VOICE_SERVICE_SECRET",
    "NGROK_AUTHTOKEN",
)


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise ValueError(
            f"secret names are upper case letters, digits and underscores, like VOICE_APPLICATION_SECRET; got {name!r}"
        )
    return name


@dataclass(frozen=True)
class Credentials:
    """What the runtime and the clients need, resolved once; secrets stay wrapped."""

    project_id: str | None = None
    key_id: str | None = None
    key_secret: Secret | None = None
    application_key: str | None = None
    application_secret: Secret | None = None
    conversation_app_id: str | None = None
    conversation_region: str = "us"
    conversation_webhook_secret: Secret | None = None
    sms_service_plan_id: str | None = None
    voice_region: str | None = None
    #: Voice API v2: the service linking points at the tunnel and calls are placed with; its webhook secret.
    voice_service_id: str | None = None
    voice_service_secret: Secret | None = None


class CredentialStore:
    """Reads credentials for a notebook folder; writes secrets to the keychain."""

    def __init__(self, base_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.base_dir = base_dir or Path.cwd()
        self.environ = os.environ if environ is None else environ

    # Backend --------------------------------------------------------------

    @staticmethod
    def keychain() -> tuple[bool, str]:
        """Whether a usable keychain backend exists, and its name or why not."""
        try:
            import keyring
            from keyring.backends import fail
        except ImportError:  # pragma: no cover - keyring is a dependency
            return False, "keyring is not installed"
        backend = keyring.get_keyring()
        try:
            priority = float(getattr(backend, "priority", 0))
        except Exception:  # a backend that cannot tell is not one to trust with secrets
            priority = 0
        if isinstance(backend, fail.Keyring) or priority <= 0:
            return False, "no keychain backend on this machine (usual on Binder, CI and containers)"
        return True, type(backend).__name__

    def _require_keychain(self) -> None:
        available, why = self.keychain()
        if not available:
            raise NoKeychainError(
                f"{why}: put the value in an environment variable or in {self.base_dir / '.env'} instead"
            )

    # Reading --------------------------------------------------------------

    def _dotenv(self) -> dict[str, str]:
        path = self.base_dir / ".env"
        if not path.is_file():
            return {}
        from dotenv import dotenv_values

        return {k: v for k, v in dotenv_values(path).items() if v}

    def lookup(self, name: str) -> tuple[str | None, str | None]:
        """The value of ``name`` and where it came from (``environment``, ``.env``, ``keychain``)."""
        if self.environ.get(name):
            return self.environ[name], "environment"
        dotenv = self._dotenv()
        if name in dotenv:
            return dotenv[name], ".env"
        if self.keychain()[0]:
            import keyring

            value = keyring.get_password(SERVICE, name)
            if value:
                return value, "keychain"
        return None, None

    def get(self, name: str) -> str | None:
        """The plain value of a non-secret name."""
        return self.lookup(name)[0]

    def secret(self, name: str) -> Secret | None:
        """A secret value, wrapped."""
        value = self.lookup(name)[0]
        return Secret(value) if value else None

    def credentials(self) -> Credentials:
        """Everything sinch_nb knows, resolved now."""
        return Credentials(
            project_id=self.get("PROJECT_ID"),
            key_id=self.get("PROJECT_ID_API_KEY"),
            key_secret=self.secret("PROJECT_ID_API_SECRET"),
            application_key=self.get("VOICE_APPLICATION_KEY"),
            application_secret=self.secret("VOICE_APPLICATION_SECRET"),
            conversation_app_id=self.get("CONVERSATION_APP_ID"),
            conversation_region=self.get("CONVERSATION_REGION") or "us",
            conversation_webhook_secret=self.secret("CONVERSATION_WEBHOOK_SECRET"),
            sms_service_plan_id=self.get("SMS_SERVICE_PLAN_ID"),
            voice_region=self.get("VOICE_REGION"),
            voice_service_id=self.get("VOICE_SERVICE_ID"),
            voice_service_secret=self.secret("VOICE_SERVICE_SECRET"),
        )

    def sources(self) -> dict[str, str]:
        """Name → where it is set, for every known or stored name that is set (never the values)."""
        names = dict.fromkeys([*KNOWN_NAMES, *self.stored()])
        found = {name: self.lookup(name)[1] for name in names}
        return {name: source for name, source in found.items() if source}

    # The keychain ---------------------------------------------------------

    def stored(self) -> list[str]:
        """Names sinch_nb put in the keychain (keyring cannot list, so an index is kept)."""
        if not self.keychain()[0]:
            return []
        import keyring

        return list(json.loads(keyring.get_password(SERVICE, _INDEX) or "[]"))

    def add(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` in the keychain."""
        _check_name(name)
        if not value:
            raise ValueError(f"no value given for {name}; nothing stored")
        self._require_keychain()
        import keyring

        keyring.set_password(SERVICE, name, value)
        names = sorted({*self.stored(), name})
        keyring.set_password(SERVICE, _INDEX, json.dumps(names))

    def delete(self, name: str) -> bool:
        """Remove ``name`` from the keychain; True if it was there."""
        _check_name(name)
        self._require_keychain()
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(SERVICE, name)
            existed = True
        except PasswordDeleteError:
            existed = False
        keyring.set_password(SERVICE, _INDEX, json.dumps(sorted(set(self.stored()) - {name})))
        return existed
