"""sinch_nb: build and debug Sinch voice and messaging apps in a notebook.

    %load_ext sinch_nb
    import sinch_nb as sn
    from sinch_nb import svaml

``import sinch_nb`` loads only the standard-library parts; the runtime, pandas and
friends load on first use.
"""

from __future__ import annotations

from typing import Any

from .api import (
    ace,
    callback,
    callbacks,
    calls,
    clients,
    configure,
    conversation,
    dial,
    dice,
    doctor,
    handlers,
    http,
    ice,
    last_error,
    notify,
    pie,
    start,
    status,
    stop,
    text,
)
from .debug_api import (
    dialpad,
    diff,
    explore,
    export_callbacks,
    load_callbacks,
    monitor,
    replay,
    to_pytest,
)
from .deploy_api import deploy, export, logs, parity
from .functions import svaml
from .functions.svaml import SvamlError, SvamlWarning
from .runtime.errors import PortInUseError, ServerError
from .simulate import HANGUP

__version__ = "0.1.0"

__all__ = [
    "HANGUP",
    "PortInUseError",
    "ServerError",
    "SvamlError",
    "SvamlWarning",
    "__version__",
    "ace",
    "callback",
    "callbacks",
    "calls",
    "clients",
    "configure",
    "conversation",
    "deploy",
    "dial",
    "dialpad",
    "dice",
    "diff",
    "doctor",
    "explore",
    "export",
    "export_callbacks",
    "handlers",
    "http",
    "ice",
    "last_error",
    "load_callbacks",
    "load_ipython_extension",
    "logs",
    "monitor",
    "notify",
    "parity",
    "pie",
    "replay",
    "start",
    "status",
    "stop",
    "svaml",
    "text",
    "to_pytest",
]


def __getattr__(name: str) -> Any:
    """``sn.voice``, ``sn.sms``, ``sn.numbers``: the clients handlers get, or None.

    (``sn.conversation`` is the decorator; its client is ``sn.clients().conversation``.)
    """
    if name in ("voice", "sms", "numbers"):
        return getattr(clients(), name)
    raise AttributeError(f"module 'sinch_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext sinch_nb``: the ``%sinch`` / ``%%sinch`` magics."""
    from .notebook.magics import load

    load(ipython)
