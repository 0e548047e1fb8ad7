"""Calling a user's handler on a pool of threads (async ones on a loop of that thread's), under the timeout.

Whatever the handler does (raise, hang, answer late) comes back as a value or a
``HandlerError`` whose message names the fix and whose ``trace`` starts at the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

from ..functions.errors import SinchNbError
from .registry import Handler

__all__ = ["HandlerError", "HandlerPool", "Invoker"]


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


class _Job:
    """One handler call on a pool thread; it settles its future on the server's loop."""

    __slots__ = ("abandoned", "args", "cancel", "function", "is_async", "settle")

    def __init__(
        self, function: Callable[..., Any], args: tuple[Any, ...], is_async: bool, settle: Callable[..., None]
    ) -> None:
        self.function, self.args, self.is_async, self.settle = function, args, is_async, settle
        #: Set when the call outlived its timeout: its thread no longer counts as one of the pool's.
        self.abandoned = False
        self.cancel: Callable[[], None] | None = None

    def run(self) -> None:
        try:
            if self.is_async:
                loop = _thread_loop()
                task = loop.create_task(self.function(*self.args))

                def cancel() -> None:
                    loop.call_soon_threadsafe(task.cancel)

                self.cancel = cancel
                result, failed = loop.run_until_complete(task), False
            else:
                result, failed = self.function(*self.args), False
        except BaseException as error:
            result, failed = error, True
        self.settle(result, failed)


_LOCAL = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This pool thread's own event loop: an async handler that blocks holds up no other callback."""
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is None:
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


class HandlerPool:
    """Daemon threads that run handlers, ``size`` of them free to work whatever is stuck.

    A call that outlives its timeout keeps its thread (Python cannot stop it), so the pool adds a
    thread in its place, up to ``max_stuck`` of them; a stuck thread that finally returns leaves.
    Daemon threads: the interpreter's exit never waits for a stuck handler.
    """

    def __init__(self, size: int = 16, max_stuck: int = 64) -> None:
        self.size, self.max_stuck = size, max_stuck
        #: How many handler calls are still running past their timeout.
        self.stuck = 0
        self._threads = 0
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def submit(self, job: _Job) -> None:
        """Queue ``job``; threads start on first use."""
        with self._lock:
            while self._threads < self.size + min(self.stuck, self.max_stuck):
                self._start()
        self._jobs.put(job)

    def abandon(self, job: _Job) -> None:
        """``job`` outlived its timeout: let another thread take its place."""
        job.abandoned = True
        if job.cancel is not None:  # an async handler that awaits can still be cancelled
            job.cancel()
        with self._lock:
            self.stuck += 1

    def _start(self) -> None:
        self._threads += 1
        threading.Thread(target=self._work, name="sinch_nb-handler", daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            job.run()
            if job.abandoned:
                with self._lock:
                    self.stuck -= 1
                    if self._threads > self.size + min(self.stuck, self.max_stuck):
                        self._threads -= 1
                        return


class Invoker:
    """Runs handlers for one runtime on its pool: never on the server's loop, always under the timeout."""

    def __init__(self, workers: int = 16) -> None:
        self.pool = HandlerPool(workers)

    async def invoke(self, handler: Handler, timeout: float, *args: Any) -> Any:
        """The handler's result, or ``HandlerError`` when it raises or outlasts ``timeout`` seconds."""
        try:
            return await self._on_pool(handler, args, timeout)
        except TimeoutError:
            stuck = self.pool.stuck
            more = f" ({stuck} handler calls are still running past their timeout)" if stuck > 1 else ""
            raise HandlerError(
                f"{handler.label} took longer than {timeout:g} s; Sinch would have dropped the call{more}. "
                "Answer faster, or raise the limit with sn.configure(handler_timeout=...)"
            ) from None
        except Exception as error:
            raise HandlerError(_hint(error, handler), handler_traceback(error, handler)) from error

    async def _on_pool(self, handler: Handler, args: tuple[Any, ...], timeout: float) -> Any:
        """Run the handler on a pool thread (async ones on that thread's own loop); the server's loop stays free.

        One future and one timer per call, no task.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(outcome: Any, failed: bool) -> None:
            if not done.done():
                done.set_exception(outcome) if failed else done.set_result(outcome)

        def settle_threadsafe(outcome: Any, failed: bool) -> None:
            with contextlib.suppress(RuntimeError):  # the runtime stopped meanwhile: nobody waits for it
                loop.call_soon_threadsafe(settle, outcome, failed)

        job = _Job(handler.function, args, handler.is_async, settle_threadsafe)
        self.pool.submit(job)
        timer = loop.call_later(timeout, settle, TimeoutError(), True)
        try:
            return await done
        except TimeoutError:
            self.pool.abandon(job)
            raise
        finally:
            timer.cancel()
