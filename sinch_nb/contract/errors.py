"""The error every contract check raises: it names the field at fault."""

from __future__ import annotations

from pydantic import ValidationError

from ..functions.errors import ContractError

__all__ = ["ContractError", "from_validation_error"]


def from_validation_error(what: str, error: ValidationError) -> ContractError:
    """One readable ``ContractError`` from pydantic's report (first problem first)."""
    problems = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"] if not str(part).startswith("function-"))
        problems.append((path, item["msg"]))
    path, message = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ContractError(f"{what}: field {path or '(root)'}: {message}{more}", path)
