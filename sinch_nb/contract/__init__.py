"""The wire, strictly: pydantic models of callbacks and SVAML answers."""

from .callbacks import validate_callback
from .errors import ContractError
from .svaml import validate_answer

__all__ = ["ContractError", "validate_answer", "validate_callback"]
