"""Time each step of a coroutine (the run between two of its awaits) to name a handler that holds the loop.

Standard library only: it ships with the Function. Stream handlers share one loop with every other
handler, in the notebook (the runtime's server loop, ``runtime/streams.py``) as in the deployed
Function (Pyodide's, ``stream_session.py``, whose one worker also answers every HTTP callback): a
handler that blocks between two awaits (``time.sleep``, a synchronous HTTP call, a long computation)
holds up every stream and callback meanwhile. ``Timed`` drives the handler's coroutine step by step
and reports each step longer than the limit; ``held_warning`` says which handler, how long, and the
fix, in the same words in both places. Overhead: one ``perf_counter`` pair a step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import Any

__all__ = ["STEP_LIMIT", "Timed", "held_warning"]

#: Seconds a stream handler may run between two awaits before it is said to have held up the loop
#: (ten 20 ms frames: every stream there has missed ten frames' time by then).
STEP_LIMIT = 0.2


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


def held_warning(label: str, held: Sequence[float], *, deployed: bool = False, limit: float = STEP_LIMIT) -> str:
    """What to tell the user when ``label``'s steps in ``held`` (seconds each, not empty) ran past ``limit``.

    In the notebook the fix is a thread or an await; in the deployed Function only an await: Pyodide has
    no threads (``asyncio.to_thread`` raises "can't start new thread" there).
    """
    times = f"{len(held)} times, the longest {max(held):.2f} s" if len(held) > 1 else f"once, for {held[0]:.2f} s"
    if deployed:
        return (
            f"{label} ran without awaiting for more than {limit:g} s ({times}): every stream and callback of the "
            "Function waited meanwhile (its Python worker runs them all on one loop). Await instead of blocking: "
            "await asyncio.sleep() instead of time.sleep(), and await asyncio.sleep(0) between pieces of a long "
            "computation (Pyodide has no threads for asyncio.to_thread)"
        )
    return (
        f"{label} ran without awaiting for more than {limit:g} s ({times}): every stream and "
        "callback of the runtime waited meanwhile, as they would in the deployed Function. Await instead of "
        "blocking: await asyncio.sleep() instead of time.sleep(), and await asyncio.sleep(0) between pieces of a "
        "long computation (await asyncio.to_thread(work, ...) works here but not in the deployed Function: "
        "Pyodide has no threads)"
    )
