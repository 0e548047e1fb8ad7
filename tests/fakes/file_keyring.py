"""A keyring backend in a JSON file: an OS keychain for tests, across processes.

Select it the way keyring selects any backend: ``PYTHON_KEYRING_BACKEND=fakes.file_keyring.FileKeyring``
with ``SINCH_NB_TEST_KEYRING=/path/to/file.json`` (and ``tests/`` on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        # Viable only where a test asked for it: keyring must never pick it up on its own.
        if "SINCH_NB_TEST_KEYRING" not in os.environ:
            raise RuntimeError("SINCH_NB_TEST_KEYRING is not set")
        return 1

    @property
    def path(self) -> Path:
        return Path(os.environ["SINCH_NB_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.is_file() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self.path.write_text(json.dumps(data))
