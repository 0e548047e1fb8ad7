"""The wire, strictly: pydantic models of callbacks and SVAML answers.

Voice API v1 callbacks and SVAML: ``validate_callback``, ``validate_answer``. Voice API v2
(CloudEvents): ``parse_v2_event``, ``validate_v2_answer`` (``voice_v2``), ``read_cloudevent``
(``cloudevents``). Signatures and ``Secret`` are in ``functions/signing.py`` and
``functions/secret.py``: standard library, shipped in the deployed Function, whose clients sign too.

The pydantic models load on first use, so that ``import sinch_nb`` stays fast; ``cloudevents``
is standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .callbacks import validate_callback
    from .cloudevents import read_cloudevent
    from .errors import ContractError
    from .svaml import validate_answer
    from .voice_v2 import parse_v2_event, validate_v2_answer

__all__ = [
    "ContractError",
    "parse_v2_event",
    "read_cloudevent",
    "validate_answer",
    "validate_callback",
    "validate_v2_answer",
]

_LAZY = {
    "validate_callback": ".callbacks",
    "ContractError": ".errors",
    "validate_answer": ".svaml",
    "parse_v2_event": ".voice_v2",
    "validate_v2_answer": ".voice_v2",
    "read_cloudevent": ".cloudevents",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
