"""sinch_nb: build and debug Sinch voice and messaging apps in a notebook.

    %load_ext sinch_nb
    import sinch_nb as sn
    from sinch_nb import svaml

``import sinch_nb`` loads only the standard-library parts; the runtime, pandas and
friends load on first use.
"""

from __future__ import annotations

from typing import Any

from ._debugging import diff, monitor, replay, to_pytest
from ._deploy import deploy, export, logs, parity
from ._handlers import ace, conversation, dice, handlers, http, ice, notify, on_call, pie, stream
from ._journal import callback, callbacks, calls, export_callbacks, load_callbacks
from ._runtime import clients, configure, doctor, last_error, start, status, stop, ws_url
from ._simulation import (
    callout,
    callouts,
    chatpad,
    conversations,
    dial,
    dialpad,
    explore,
    simulation,
    stream_call,
    text,
)
from ._templates import new, templates
from .functions import svaml
from .functions.errors import (
    AnswerError,
    CallbackNotFoundError,
    CommandError,
    ContractError,
    CredentialsError,
    DeployError,
    DeploymentError,
    EventError,
    ExportError,
    MethodNotAllowedError,
    MissingVariableError,
    NoKeychainError,
    NotebookExistsError,
    ParityUnavailableError,
    PlatformError,
    PortInUseError,
    RouteError,
    RouteNotFoundError,
    ServerError,
    SinchNbError,
    StreamClosedError,
    StreamError,
    SvamlError,
    TemplateNotFoundError,
    TunnelError,
)
from .functions.svaml import SvamlWarning
from .session import get_session, reset_session
from .simulate import HANGUP

__version__ = "0.1.0"

__all__ = [
    "HANGUP",
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
    "SvamlWarning",
    "TemplateNotFoundError",
    "TunnelError",
    "__version__",
    "ace",
    "callback",
    "callbacks",
    "callout",
    "callouts",
    "calls",
    "chatpad",
    "clients",
    "configure",
    "conversation",
    "conversations",
    "deploy",
    "dial",
    "dialpad",
    "dice",
    "diff",
    "doctor",
    "explore",
    "export",
    "export_callbacks",
    "get_session",
    "handlers",
    "http",
    "ice",
    "last_error",
    "load_callbacks",
    "load_ipython_extension",
    "logs",
    "monitor",
    "new",
    "notify",
    "on_call",
    "parity",
    "pie",
    "replay",
    "reset_session",
    "simulation",
    "start",
    "status",
    "stop",
    "stream",
    "stream_call",
    "svaml",
    "templates",
    "text",
    "to_pytest",
    "ws_url",
]


def __getattr__(name: str) -> Any:
    """``sn.voice``, ``sn.sms``, ``sn.numbers``: the clients handlers get.

    Not configured, a falsy stand-in whose use raises ``CredentialsError`` naming the variables,
    as ``context.<name>`` does. (``sn.conversation`` is the decorator; its client is
    ``sn.clients().conversation``.)
    """
    if name in ("voice", "sms", "numbers"):
        from .functions.clients import MissingClient

        return getattr(clients(), name) or MissingClient(name)
    raise AttributeError(f"module 'sinch_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext sinch_nb``: the ``%sinch`` / ``%%sinch`` magics."""
    from .notebook.magics import load

    load(ipython)
