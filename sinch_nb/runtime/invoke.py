"""Calling a user's handler: sync ones on a thread pool, async ones on the loop, both under the timeout.

Whatever the handler does (raise, hang, answer late) comes back as a value or a
``HandlerError`` whose message names the fix and whose ``trace`` starts at the handler.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..functions.errors import SinchNbError
from .registry import Handler

__all__ = ["HandlerError", "Invoker"]


class HandlerError(SinchNbError):
    """The handler raised, timed out or answered something that is not valid."""

    def __init__(self, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.trace = trace


def handler_traceback(error: BaseException, handler: Handler) -> str:
    """The traceback from the handler's own frame down (the runtime's and asyncio's left out)."""
    code = getattr(handler.function, "__code__", None)
    tb = error.__traceback__
    while tb is not None and code is not None and tb.tb_frame.f_code.co_filename != code.co_filename:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb or error.__traceback__))


def _hint(error: BaseException, handler: Handler) -> str:
    if isinstance(error, NameError) and handler.origin.startswith("cell"):
        return (
            f"{error}. A %%sinch cell sees only what %%sinch module cells define (that is what ships "
            "with the Function); move the definition into a %%sinch module cell"
        )
    return f"{type(error).__name__}: {error}"


class Invoker:
    """Runs handlers for one runtime; sync ones on its own pool of threads."""

    def __init__(self, workers: int = 16) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sinch_nb-handler")

    async def invoke(self, handler: Handler, timeout: float, *args: Any) -> Any:
        """The handler's result, or ``HandlerError`` when it raises or outlasts ``timeout`` seconds."""
        try:
            if handler.is_async:
                async with asyncio.timeout(timeout):  # on this task: no task per call, as wait_for makes
                    return await handler.function(*args)
            return await self._in_thread(handler.function, args, timeout)
        except TimeoutError:
            raise HandlerError(
                f"{handler.label} took longer than {timeout:g} s; Sinch would have dropped the call. "
                "Answer faster, or raise the limit with sn.configure(handler_timeout=...)"
            ) from None
        except Exception as error:
            raise HandlerError(_hint(error, handler), handler_traceback(error, handler)) from error

    async def _in_thread(self, function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        """Run a sync handler on the pool; the loop stays free and the timeout holds.

        Lighter than ``wait_for(run_in_executor(...))``: one future, one timer, no task.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(outcome: Any, failed: bool) -> None:
            if not done.done():
                done.set_exception(outcome) if failed else done.set_result(outcome)

        def run() -> None:
            try:
                result, failed = function(*args), False
            except BaseException as error:
                result, failed = error, True
            loop.call_soon_threadsafe(settle, result, failed)

        self.executor.submit(run)
        timer = loop.call_later(timeout, settle, TimeoutError(), True)
        try:
            return await done
        finally:
            timer.cancel()
