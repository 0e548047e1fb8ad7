"""What stands in ``context.voice`` (and the other clients) when their credentials are not set.

Not ``None``: a ``None`` client fails with ``'NoneType' object has no attribute 'callouts'``,
which names neither the cause nor the fix. A ``MissingClient`` is falsy (``if
context.voice:`` still reads as "configured?") and any use raises ``CredentialsError``
naming the variables to set and how. Standard library only: the deployed Function uses it too
(``sinch_api.build_function_clients``), with ``UnavailableClient`` for a client it does not have.
"""

from __future__ import annotations

from typing import Any, NoReturn

from .errors import CredentialsError, PlatformError

__all__ = ["NEEDS", "NEEDS_FOR", "MissingClient", "UnavailableClient"]

#: Client → the variables it needs, as the Functions runtime and the ``sinch`` CLI name them.
NEEDS = {
    "voice": ("VOICE_APPLICATION_KEY", "VOICE_APPLICATION_SECRET"),
    "conversation": ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET", "CONVERSATION_APP_ID"),
    "sms": ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET", "SMS_SERVICE_PLAN_ID"),
    "numbers": ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET", "ENABLE_NUMBERS_API=true"),
}

#: ``client.method`` → what it is and the variables it needs, where they differ from the client's own
#: (``context.voice.call`` places Voice API v2 calls with the project's OAuth credentials).
NEEDS_FOR = {
    "voice.call": ("Voice API v2 calls", ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET")),
}


class MissingClient:
    """``context.<name>`` without credentials: falsy; using it raises ``CredentialsError`` with the fix."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        needs = ", ".join(NEEDS.get(self._name, ()))
        more = "".join(
            f"; {what} need {', '.join(names)}"
            for key, (what, names) in NEEDS_FOR.items()
            if key.split(".")[0] == self._name
        )
        return f"<context.{self._name}: not configured; needs {needs}{more}>"

    def __getattr__(self, attribute: str) -> NoReturn:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise self.error(attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise self.error("__call__")

    def error(self, attribute: str) -> CredentialsError:
        """The error a use of this client raises: which variables, and the two ways to set them."""
        own = f"context.{self._name}"
        what, needs = NEEDS_FOR.get(f"{self._name}.{attribute}", (own, NEEDS.get(self._name, ())))
        first = next((name for name in needs if "=" not in name), "NAME")
        has = f"{what} has no credentials; it needs" if what == own else f"{what} have no credentials; they need"
        return CredentialsError(
            f"{own}.{attribute}: {has} {', '.join(needs)}. Set them in the environment or the notebook "
            f"folder's .env, or store one with `%sinch secrets add {first}`, then run %sinch start again; "
            "sn.clients() shows what is set"
        )


class UnavailableClient:
    """``context.<name>`` where sinch_nb has no client for it (Numbers in the Function): falsy; a use says why."""

    __slots__ = ("_name", "_why")

    def __init__(self, name: str, why: str) -> None:
        self._name, self._why = name, why

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<context.{self._name}: unavailable; {self._why}>"

    def __getattr__(self, attribute: str) -> NoReturn:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise PlatformError(f"context.{self._name}.{attribute}: {self._why}")

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PlatformError(f"context.{self._name}: {self._why}")
