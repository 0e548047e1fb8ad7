"""Every error sinch_nb raises to a user, in one tree; each message names the fix.

Standard library only: this module ships inside the deployed Function, so a handler
there raises the same classes as in the notebook. Each class also subclasses the
built-in error it always was (``ValueError``, ``LookupError``, ``RuntimeError``), so
older ``except`` clauses keep working.

    SinchNbError
    ├── SvamlError ·················· an answer Sinch would refuse (ValueError)
    │   └── CommandError ············ a Voice API v2 command off its limits: command, field, limit
    ├── ContractError ··············· a payload or answer off Sinch's wire contract (ValueError)
    ├── EventError ·················· a payload that is not a Sinch callback (ValueError)
    ├── AnswerError ················· a handler's return value that cannot be sent (ValueError)
    ├── MissingVariableError ········ a variable the handler requires is not set (KeyError)
    ├── RouteError ·················· a request the Functions routing cannot place (LookupError)
    │   ├── RouteNotFoundError
    │   └── MethodNotAllowedError
    ├── ServerError ················· the runtime could not start or stop (RuntimeError)
    │   └── PortInUseError
    ├── TunnelError ················· a tunnel that could not open (RuntimeError)
    ├── CredentialsError ············ credentials missing or not storable (LookupError)
    │   └── NoKeychainError
    ├── PlatformError ··············· a Sinch API call that failed (RuntimeError)
    ├── CallbackNotFoundError ······· no such callback or call in the journal (KeyError)
    ├── TemplateNotFoundError ······· no template by that name; ``known`` lists them (LookupError)
    ├── NotebookExistsError ········· ``%sinch new`` would overwrite a file (FileExistsError)
    ├── StreamError ················· a media stream used off its protocol (RuntimeError)
    │   └── StreamClosedError ······· the stream has ended: the caller hung up, or busy/reject/hangup
    └── DeploymentError ············· the notebook could not become a running Function
        ├── ExportError ············· (ValueError)
        ├── DeployError ············· (RuntimeError)
        └── ParityUnavailableError ·· (RuntimeError)

Magics catch ``SinchNbError`` and show its message without a traceback.
"""

from __future__ import annotations

__all__ = [
    "AnswerError",
    "CallbackNotFoundError",
    "CommandError",
    "ContractError",
    "CredentialsError",
    "DeployError",
    "DeploymentError",
    "EventError",
    "ExportError",
    "MethodNotAllowedError",
    "MissingVariableError",
    "NoKeychainError",
    "NotebookExistsError",
    "ParityUnavailableError",
    "PlatformError",
    "PortInUseError",
    "RouteError",
    "RouteNotFoundError",
    "ServerError",
    "SinchNbError",
    "StreamClosedError",
    "StreamError",
    "SvamlError",
    "TemplateNotFoundError",
    "TunnelError",
]


class SinchNbError(Exception):
    """The base of every error sinch_nb raises to a user; its message names the fix."""

    def __str__(self) -> str:
        # KeyError's own __str__ quotes the message; the message is for a person, so never quote it.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class SvamlError(SinchNbError, ValueError):
    """An answer Sinch would refuse; the message names the item and the fix."""


class CommandError(SvamlError):
    """A Voice API v2 command Sinch would refuse: ``command``, ``field`` and ``limit`` say which and why.

    ``where`` is the command's place in the answer (``commands[1].menus.main.matches['1'][0]``).
    """

    def __init__(self, message: str, *, command: str = "", field: str = "", limit: str = "", where: str = "") -> None:
        super().__init__(message)
        self.command, self.field, self.limit, self.where = command, field, limit, where


class ContractError(SinchNbError, ValueError):
    """A payload or answer that breaks Sinch's wire contract; ``field`` is its dotted path."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class EventError(SinchNbError, ValueError):
    """A payload that is not a Sinch callback."""


class AnswerError(SinchNbError, ValueError):
    """A handler returned something that cannot be sent; the message says what to return."""


class MissingVariableError(SinchNbError, KeyError):
    """A variable the handler requires is not set."""


class RouteError(SinchNbError, LookupError):
    """A request the Sinch Functions routing has no place for."""


class RouteNotFoundError(RouteError):
    """No route for this path; ``known`` lists the routes there are."""

    def __init__(self, path: str, known: list[str]) -> None:
        super().__init__(f"no route for {path}; known routes: {', '.join(known)}")
        self.path, self.known = path, known


class MethodNotAllowedError(RouteError):
    """The path exists, the method does not; ``allowed`` lists the methods it takes."""

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(f"{method} is not allowed on {path}; use {', '.join(allowed)}")
        self.allowed = allowed


class ServerError(SinchNbError, RuntimeError):
    """The runtime could not start or stop; the message says what to do."""


class PortInUseError(ServerError):
    """Another process (or an earlier runtime in this kernel) holds the port."""


class TunnelError(SinchNbError, RuntimeError):
    """A tunnel that could not open; the message names the cause and the fix."""


class CredentialsError(SinchNbError, LookupError):
    """Credentials a step needs are not set; the message names the variables to set."""


class NoKeychainError(CredentialsError, RuntimeError):
    """No OS keychain backend: secrets go in the environment or ``.env`` instead."""


class PlatformError(SinchNbError, RuntimeError):
    """A Sinch API call that failed; the message names the call, the status and the fix."""

    #: The HTTP status Sinch answered, when it answered (a retry can tell 503 from 401 by it).
    status: int | None = None


class CallbackNotFoundError(SinchNbError, KeyError):
    """No callback (or call) with that id in the journal; ``sn.callbacks()`` lists them."""


class TemplateNotFoundError(SinchNbError, LookupError):
    """No template by that name; ``known`` lists the names there are."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no template {name!r}; the templates are {', '.join(known)} (sn.templates() describes them)")
        self.name, self.known = name, known


class NotebookExistsError(SinchNbError, FileExistsError):
    """A notebook ``%sinch new`` would overwrite; the message names another path or ``--force``."""


class StreamError(SinchNbError, RuntimeError):
    """A media stream used off its protocol (audio before ``answer()``, two answers); the message names the fix."""


class StreamClosedError(StreamError, ConnectionError):
    """The stream has ended (the caller hung up, or busy/reject/hangup): nothing more can be sent."""


class DeploymentError(SinchNbError):
    """The notebook's handlers could not become a running Function."""


class ExportError(DeploymentError, ValueError):
    """The notebook cannot become a Function as it is; the message names the handler and the fix."""


class DeployError(DeploymentError, RuntimeError):
    """A deploy that could not run or failed; the message names the fix."""


class ParityUnavailableError(DeploymentError, RuntimeError):
    """What the parity check needs and is missing here (Node.js, Pyodide from npm)."""
