"""The capture store: an SQLite journal and its DataFrame views."""

from .store import DEFAULT_PATH, Journal, mask_headers

__all__ = ["DEFAULT_PATH", "Journal", "mask_headers"]
