"""Time each step of a coroutine (the run between two of its awaits) to name a handler that holds the loop.

Stream handlers run on the runtime's server loop (``streams.py``), as every handler of a
deployed Function shares one loop: a handler that blocks between two awaits (``time.sleep``,
a synchronous HTTP call, a long computation) holds up every stream and callback meanwhile.
``timed`` drives the handler's coroutine step by step and reports each step longer than the
limit, so that the row can say which handler it was and how long it held the loop. Overhead:
one ``perf_counter`` pair a step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

__all__ = ["Timed"]


class Timed:
    """Awaited, runs ``coroutine`` and calls ``report(seconds)`` for each of its steps longer than ``limit``."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], limit: float, report: Callable[[float], None]) -> None:
        self.coroutine, self.limit, self.report = coroutine, limit, report

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, limit = self.coroutine, self.limit
        value: Any = None
        error: BaseException | None = None
        while True:
            started = time.perf_counter()
            try:
                step = coroutine.send(value) if error is None else coroutine.throw(error)
            except StopIteration as stop:
                self._check(time.perf_counter() - started, limit)
                return stop.value
            except BaseException:
                self._check(time.perf_counter() - started, limit)
                raise
            self._check(time.perf_counter() - started, limit)
            try:
                value, error = (yield step), None
            except BaseException as thrown:  # a cancellation (or any error) goes into the handler, as asyncio does
                value, error = None, thrown

    def _check(self, seconds: float, limit: float) -> None:
        if seconds > limit:
            self.report(seconds)
