"""uvicorn in a daemon thread with its own asyncio loop, never on the kernel's.

A cell that sleeps or computes cannot delay a callback. Signals stay with the
kernel, uvicorn's logging stays out of the cell, the port is bound before the
thread starts (so "in use" is reported at once) and released on stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from collections import deque
from collections.abc import Generator
from typing import Any

import uvicorn

from .errors import PortInUseError, ServerError

__all__ = ["PortInUseError", "Server", "ServerError"]


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handling: Ctrl-C and kernel interrupts belong to the kernel."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Recent(logging.Handler):
    """Keeps uvicorn's last log lines for ``%sinch status`` instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=50)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")

    def loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The server loop's exception handler: asyncio's errors (accept failures…) kept here, never printed."""
        error = context.get("exception")
        self.lines.append(f"ERROR: {context.get('message')}{f': {error!r}' if error else ''}")


def _http_implementation() -> Any:
    """httptools with the runtime's limits (``protocol.py``); h11 where httptools is missing."""
    try:
        from .protocol import GuardedHttpToolsProtocol
    except ImportError:
        return "h11"
    return GuardedHttpToolsProtocol


def _ws_implementation() -> Any:
    """uvicorn's sans-I/O WebSocket protocol, reading on while frames wait (``ws_protocol.py``); else uvicorn's pick."""
    try:
        from .ws_protocol import StreamWebSocketProtocol
    except ImportError:
        return "auto"
    return StreamWebSocketProtocol


def _raise_open_file_limit() -> None:
    """As many open connections as the system allows this process (the soft limit is often 1,024)."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else 65536
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0 picks a free port); names the port when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} is in use by another program or runtime: "
                f"pick another with %sinch start --port N, or omit --port to take a free one"
            ) from None
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Server:
    """One ASGI app served on ``host:port`` from a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port = port
        #: The URL Sinch reaches this server at (a tunnel or --url), when there is one.
        self.public_url: str | None = None
        self.log = _Recent()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        """Whether the server thread is up and serving."""
        return bool(self._thread and self._thread.is_alive() and self._server and self._server.started)

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Bind, start the thread, and return once the server accepts connections."""
        if self.running:
            return
        _raise_open_file_limit()
        sock = bind(self.host, self.requested_port)
        self.port = sock.getsockname()[1]
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers = [self.log]
            logger.propagate = False
        config = uvicorn.Config(
            self.app,
            loop="asyncio",
            http=_http_implementation(),
            ws=_ws_implementation(),
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._failure = None
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="sinch_nb-runtime", daemon=True)
        self._thread.start()
        ready = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            ready.wait(0.01)
        if not self._server.started:
            self.stop()
            raise ServerError(f"the runtime did not start on {self.url}: {self._failure or 'timed out'}")

    def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._serve_on_loop(sock))
        except BaseException as error:  # reported by start(); never printed from this thread
            self._failure = error
        finally:
            sock.close()

    def __repr__(self) -> str:
        public = f", public {self.public_url}" if self.public_url else ""
        return f"<sinch_nb runtime {self.url}{public} ({'running' if self.running else 'stopped'})>"

    async def _serve_on_loop(self, sock: socket.socket) -> None:
        assert self._server is not None
        self.loop = asyncio.get_running_loop()
        self.loop.set_exception_handler(self.log.loop_error)
        await self._server.serve(sockets=[sock])

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Run ``coroutine`` on the server's loop from another thread and wait for its result."""
        if not self.running or self.loop is None:
            coroutine.close()
            raise ServerError("the runtime is not running: %sinch start")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        self._thread = None
