"""Runs last: no secret value the suite used appears in any output, journal row or file it produced."""

from __future__ import annotations

import pytest
from conftest import CAPTURED, USED_SECRETS
from fakes.sinch_api import GENERATED_SECRETS

#: Inputs a user writes themselves, not outputs of sinch_nb: the (fake) keychain and .env files.
INPUTS = {"keychain.json", ".env"}


def test_no_secret_value_in_any_file_or_output(tmp_path_factory: pytest.TempPathFactory) -> None:
    secrets = {s for s in USED_SECRETS | GENERATED_SECRETS if s and s != "None"}
    root = tmp_path_factory.getbasetemp()
    files = [p for p in root.rglob("*") if p.is_file() and p.name not in INPUTS]
    assert any(p.name == "journal.db" for p in files)  # the scan did reach the journals
    leaks = []
    for path in files:
        data = path.read_bytes()
        leaks += [f"{path.relative_to(root)}: {secret[:4]}…" for secret in secrets if secret.encode() in data]
    for number, text in enumerate(CAPTURED):
        leaks += [f"captured output #{number}: {secret[:4]}…" for secret in secrets if secret in text]
    assert leaks == []
