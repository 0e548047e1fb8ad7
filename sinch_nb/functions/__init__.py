"""What a handler touches: SVAML builders, event views, the context protocol, routing.

Standard library only: this package ships inside the deployed Function unchanged.
"""

from . import svaml
from .context import FunctionConfig, FunctionContext
from .events import (
    AceEvent,
    ConversationEvent,
    DiceEvent,
    EventError,
    IceEvent,
    NotifyEvent,
    PieEvent,
    VoiceEvent,
    parse_event,
)
from .http import HttpRequest, HttpResponse
from .svaml import SvamlError, SvamlWarning

__all__ = [
    "AceEvent",
    "ConversationEvent",
    "DiceEvent",
    "EventError",
    "FunctionConfig",
    "FunctionContext",
    "HttpRequest",
    "HttpResponse",
    "IceEvent",
    "NotifyEvent",
    "PieEvent",
    "SvamlError",
    "SvamlWarning",
    "VoiceEvent",
    "parse_event",
    "svaml",
]
