"""CloudEvents binary mode: the ``ce-*`` headers of a Voice API v2 webhook, read into one record.

Voice API v2 posts every event as a CloudEvent 1.0 in *binary* mode: the body is the plain JSON
event, the metadata rides in headers (reference/sinch-voice-v2.md §1):

==================  =====================================================================
``ce-id``           a UUID; with ``ce-source``, the key to drop a duplicate delivery
``ce-source``       ``projects/{projectId}/services/{serviceId}``
``ce-type``         ``com.sinch.voice.call.control.v1`` (OAS); the tutorials print
                    ``com.sinch.voice.webhook.v2`` (§9.1), so neither is refused
``ce-time``         RFC 3339
``ce-specversion``  ``1.0``
==================  =====================================================================

The ``ce-*`` headers are not signed (§5): they tell the runtime what to journal and dedupe on,
never whether to trust a request. ``read_cloudevent`` never raises; it says what is missing and
what is off, and the caller decides.

Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["CE_HEADERS", "CloudEvent", "read_cloudevent"]

#: The headers Sinch sends with every v2 event, in the order ``missing`` lists them.
CE_HEADERS = ("ce-id", "ce-source", "ce-type", "ce-time", "ce-specversion")

_SOURCE = re.compile(r"^projects/[^/\s]+/services/[^/\s]+$")


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvent attributes of one request; ``None`` where the header is absent or empty."""

    id: str | None
    source: str | None
    type: str | None
    #: ``ce-time`` parsed; ``None`` when absent or not RFC 3339 (then ``problems`` says so).
    time: datetime | None
    specversion: str | None
    #: The ``ce-*`` headers absent or empty, e.g. ``("ce-id",)``.
    missing: tuple[str, ...] = ()
    #: Headers present but off: a ``ce-time`` that is not RFC 3339, a ``ce-specversion`` not
    #: ``1.0``, a ``ce-source`` not ``projects/{projectId}/services/{serviceId}``.
    problems: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every ``ce-*`` header Sinch sends is there."""
        return not self.missing

    @property
    def dedupe_key(self) -> str | None:
        """``"<ce-source> <ce-id>"``: equal for two deliveries of one event; ``None`` without ``ce-id``.

        CloudEvents makes ``id`` unique per ``source``, and the OAS asks handlers to be idempotent
        on the pair, so a missing source still gives a key (``"- <id>"``).
        """
        if self.id is None:
            return None
        return f"{self.source or '-'} {self.id}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            value = value.strip()
            return value or None
    return None


def read_cloudevent(headers: Mapping[str, str]) -> CloudEvent:
    """The ``ce-*`` headers of a request (names in any case) as a ``CloudEvent``."""
    values = {name: _header(headers, name) for name in CE_HEADERS}
    missing = tuple(name for name in CE_HEADERS if values[name] is None)
    problems: list[str] = []
    time = None
    raw_time = values["ce-time"]
    if raw_time is not None:
        try:
            time = datetime.fromisoformat(raw_time)
        except ValueError:
            problems.append(f"ce-time {raw_time[:40]!r} is not an RFC 3339 time such as 2026-04-01T12:00:00+00:00")
    version = values["ce-specversion"]
    if version is not None and version != "1.0":
        problems.append(f"ce-specversion is {version[:20]!r}; Sinch sends CloudEvents 1.0")
    source = values["ce-source"]
    if source is not None and not _SOURCE.match(source):
        problems.append(f"ce-source {source[:80]!r} is not projects/{{projectId}}/services/{{serviceId}}")
    return CloudEvent(
        id=values["ce-id"],
        source=source,
        type=values["ce-type"],
        time=time,
        specversion=version,
        missing=missing,
        problems=tuple(problems),
    )
