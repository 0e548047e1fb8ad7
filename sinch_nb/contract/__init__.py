"""The wire, strictly: pydantic models of callbacks and SVAML answers, signatures, secrets.

The pydantic models load on first use (``validate_callback``, ``validate_answer``), so that
``import sinch_nb`` stays fast; ``signing`` and ``secret`` are standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .callbacks import validate_callback
    from .errors import ContractError
    from .svaml import validate_answer

__all__ = ["ContractError", "validate_answer", "validate_callback"]

_LAZY = {"validate_callback": ".callbacks", "ContractError": ".errors", "validate_answer": ".svaml"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
