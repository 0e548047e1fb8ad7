"""What a handler touches: SVAML builders (v1), the v2 command builder, event and call views, context, routing.

Standard library only: this package ships inside the deployed Function unchanged.
"""

from . import calls, commands, svaml
from .calls import Call, parse_call
from .commands import CommandBuilder, CommandError
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
    "Call",
    "CommandBuilder",
    "CommandError",
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
    "calls",
    "commands",
    "parse_call",
    "parse_event",
    "svaml",
]
