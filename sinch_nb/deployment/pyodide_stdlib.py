"""The standard library the deployed Function cannot use: its Python is Pyodide 0.27 (WebAssembly inside Node).

Sources: Pyodide's "Python compatibility" page,
https://pyodide.org/en/stable/usage/wasm-constraints.html (modules removed from its standard
library; ssl, lzma, sqlite3 and test unvendored, loaded only on request; multiprocessing,
threading and sockets importable but not working), checked against Pyodide ``PYODIDE_VERSION``
from npm under Node: its ``pyodide-lock.json`` and ``python_stdlib.zip``, and each module here
imported and used there the way the exported ``function.js`` loads Pyodide (``loadPyodide()``, no
packages loaded). Python 3.12 runs there, so the modules 3.12 removed are gone too.
"""

from __future__ import annotations

import ast

__all__ = ["SINCH_CLIENTS", "UNAVAILABLE", "imported_names", "unavailable_uses"]

_NO_SOCKETS = "the Function runs Python in Pyodide (WebAssembly inside Node), which has no sockets"
_CLIENTS = "reach Sinch APIs through context.voice / context.conversation / context.sms"
#: What to use instead of an HTTP client package in a handler: the context's clients.
SINCH_CLIENTS = f"the Function has no sockets: {_CLIENTS}"
_LISTEN = "the Function cannot listen: serve HTTP with a %%sinch http METHOD /path cell (it becomes the endpoint)"
_NO_THREADS = "Pyodide cannot start threads (threading imports, but Thread.start() raises RuntimeError)"
_ONE_AT_A_TIME = "handlers run one request at a time; use async def handlers with asyncio for concurrency"
_NO_PROCESSES = "Pyodide cannot start processes (subprocess and os.fork raise OSError there)"
_IN_PYTHON = "do the work in Python in the handler: there is no program to run beside it"
_STORAGE = "keep data in context.storage (files) or context.cache (keys and values)"
_NOT_LOADED = "Pyodide ships {} as a separate package, which the Function does not load"
_REMOVED = "Pyodide removed it from its standard library"
_GONE_IN_312 = "Python 3.12, which the Function runs (Pyodide 0.27), removed it"
_NO_TERMINAL = "the Function has no terminal, and Pyodide has no such module"
_LOG = "write to the log with context.log.info (sn.logs() reads it)"
_NO_POSIX = "Pyodide has no such module: WebAssembly has none of its system calls"
_LEAVE_OUT = "leave it out of handler code"
_WINDOWS = "it exists on Windows only; the Function runs Pyodide (WebAssembly inside Node)"

#: Module (or ``module.attribute``) -> (why it cannot work in the Function, what to use instead).
#: An entry covers its submodules (``multiprocessing`` covers ``multiprocessing.pool``).
UNAVAILABLE: dict[str, tuple[str, str]] = {
    # network: no sockets in WebAssembly (connect() fails with BlockingIOError)
    "socket": (_NO_SOCKETS, _CLIENTS),
    "_socket": (_NO_SOCKETS, _CLIENTS),
    "ssl": (f"{_NO_SOCKETS}, and {_NOT_LOADED.format('ssl')}", _CLIENTS),
    "urllib.request": (_NO_SOCKETS, _CLIENTS),
    "http.client": (_NO_SOCKETS, _CLIENTS),
    "xmlrpc.client": (_NO_SOCKETS, _CLIENTS),
    "ftplib": (_NO_SOCKETS, _CLIENTS),
    "poplib": (_NO_SOCKETS, _CLIENTS),
    "imaplib": (_NO_SOCKETS, _CLIENTS),
    "nntplib": (_NO_SOCKETS, _CLIENTS),
    "telnetlib": (_NO_SOCKETS, _CLIENTS),
    "smtplib": (_NO_SOCKETS, "send messages with context.sms or context.conversation"),
    "asyncio.open_connection": (_NO_SOCKETS, _CLIENTS),
    "asyncio.open_unix_connection": (_NO_SOCKETS, _CLIENTS),
    "http.server": (_NO_SOCKETS, _LISTEN),
    "socketserver": (_NO_SOCKETS, _LISTEN),
    "wsgiref.simple_server": (_NO_SOCKETS, _LISTEN),
    "xmlrpc.server": (_NO_SOCKETS, _LISTEN),
    "asyncio.start_server": (_NO_SOCKETS, _LISTEN),
    "asyncio.start_unix_server": (_NO_SOCKETS, _LISTEN),
    "select": ("there are no sockets or pipes to wait on in Pyodide", "await in an async def handler (asyncio)"),
    "selectors": ("there are no sockets or pipes to wait on in Pyodide", "await in an async def handler (asyncio)"),
    "webbrowser": ("there is no browser to open in the Function", "put the URL in the answer, or log it"),
    # threads and processes
    "threading": (_NO_THREADS, f"{_ONE_AT_A_TIME} (no lock is needed either)"),
    "_thread": (_NO_THREADS, _ONE_AT_A_TIME),
    "concurrent.futures": (_NO_THREADS, f"{_ONE_AT_A_TIME} (asyncio.gather instead of an executor)"),
    "multiprocessing": (_NO_PROCESSES, _ONE_AT_A_TIME),
    "_multiprocessing": (_NO_PROCESSES, _ONE_AT_A_TIME),
    "subprocess": (_NO_PROCESSES, _IN_PYTHON),
    "_posixsubprocess": (_NO_PROCESSES, _IN_PYTHON),
    "asyncio.subprocess": (_NO_PROCESSES, _IN_PYTHON),
    "asyncio.create_subprocess_exec": (_NO_PROCESSES, _IN_PYTHON),
    "asyncio.create_subprocess_shell": (_NO_PROCESSES, _IN_PYTHON),
    "os.popen": (_NO_PROCESSES, _IN_PYTHON),
    "os.fork": (_NO_PROCESSES, _IN_PYTHON),
    "pty": (f"{_NO_PROCESSES}, and it has no terminal", _IN_PYTHON),
    "signal": (
        "no signals reach the Function, and Pyodide's signal has no alarm()",
        "bound a wait with asyncio.wait_for(..., timeout) in an async def handler",
    ),
    # storage, compression, time zones: separate Pyodide packages, or removed
    "sqlite3": (_NOT_LOADED.format("sqlite3"), _STORAGE),
    "dbm": (_REMOVED, _STORAGE),
    "shelve": ("it needs dbm, which Pyodide removed from its standard library", _STORAGE),
    "lzma": (_NOT_LOADED.format("lzma"), "compress with zlib, gzip or bz2"),
    "_pydecimal": (_NOT_LOADED.format("_pydecimal"), "use decimal (its C implementation is there)"),
    "zoneinfo": (
        f"the Function has no time-zone database ({_NOT_LOADED.format('tzdata')}), so ZoneInfo(...) fails",
        "use a fixed offset: datetime.timezone(datetime.timedelta(hours=1))",
    ),
    # terminals, displays, the system
    "curses": (_NO_TERMINAL, _LOG),
    "readline": (_NO_TERMINAL, _LOG),
    "termios": (_NO_TERMINAL, _LOG),
    "tty": (_NO_TERMINAL, _LOG),
    "syslog": (_NO_POSIX, _LOG),
    "fcntl": (_NO_POSIX, _LEAVE_OUT),
    "resource": (_NO_POSIX, _LEAVE_OUT),
    "grp": (_NO_POSIX, _LEAVE_OUT),
    "pwd": (_NO_POSIX, _LEAVE_OUT),
    "spwd": (_NO_POSIX, _LEAVE_OUT),
    "nis": (_NO_POSIX, _LEAVE_OUT),
    "ossaudiodev": (_NO_POSIX, _LEAVE_OUT),
    "tkinter": (f"{_REMOVED}: there is no display", "show things in the notebook, not in a handler"),
    "turtle": (f"{_REMOVED}: there is no display", "show things in the notebook, not in a handler"),
    "turtledemo": (f"{_REMOVED}: there is no display", "show things in the notebook, not in a handler"),
    "idlelib": (f"{_REMOVED}: there is no display", "show things in the notebook, not in a handler"),
    "venv": (_REMOVED, _LEAVE_OUT),
    "ensurepip": (_REMOVED, _LEAVE_OUT),
    "lib2to3": (_REMOVED, _LEAVE_OUT),
    "test": ("Pyodide does not load CPython's test package", "test in the notebook (sn.dial, sn.to_pytest)"),
    "distutils": (_GONE_IN_312, _LEAVE_OUT),
    "imp": (_GONE_IN_312, "use importlib"),
    "asynchat": (f"{_GONE_IN_312}; and the Function has no sockets", _CLIENTS),
    "asyncore": (f"{_GONE_IN_312}; and the Function has no sockets", _CLIENTS),
    "smtpd": (f"{_GONE_IN_312}; and the Function has no sockets", _LISTEN),
    "msvcrt": (_WINDOWS, _LEAVE_OUT),
    "winreg": (_WINDOWS, _LEAVE_OUT),
    "winsound": (_WINDOWS, _LEAVE_OUT),
    "_winapi": (_WINDOWS, _LEAVE_OUT),
}


def _entry(dotted: str, *, least: int = 1) -> str | None:
    """The table's entry for ``dotted`` or the nearest module above it that has at least ``least`` parts."""
    parts = dotted.split(".")
    for end in range(len(parts), least - 1, -1):
        if ".".join(parts[:end]) in UNAVAILABLE:
            return ".".join(parts[:end])
    return None


def imported_names(source: str) -> dict[str, str]:
    """Each name ``source`` binds by importing, and the module (or ``module.name``) it stands for."""
    bound: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            bound.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names if a.name != "*"})
    return bound


def _chain(node: ast.Attribute) -> list[str]:
    """``a.b.c`` as ``["a", "b", "c"]`` when the chain starts at a plain name, else ``[]``."""
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.insert(0, current.attr)
        current = current.value
    return [current.id, *parts] if isinstance(current, ast.Name) else []


def _hits(node: ast.AST, bound: dict[str, str]) -> list[tuple[str, str, str]]:
    """(verb, name as written, table entry) for each use of the table in one import or attribute."""
    if isinstance(node, ast.Import):
        return [("imports", a.name, entry) for a in node.names if (entry := _entry(a.name))]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        found = []
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            if entry := _entry(full):  # from urllib import request, from asyncio import open_connection
                found.append(("imports", full if entry == full else node.module, entry))
        return found
    if isinstance(node, ast.Attribute) and (chain := _chain(node)) and chain[0] in bound:
        module = bound[chain[0]]  # the module itself is checked where it is imported; here what lies below it
        if entry := _entry(".".join([module, *chain[1:]]), least=module.count(".") + 2):
            return [("uses", entry, entry)]
    return []


def unavailable_uses(source: str, names: dict[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """What ``source`` imports or uses from ``UNAVAILABLE``: (verb, name, why, alternative), in source order.

    ``names`` maps names bound elsewhere (the notebook's module cells) to modules, so a handler's
    ``aio.open_connection`` is found after a module cell ran ``import asyncio as aio``.
    """
    tree = ast.parse(source)
    bound = {key.split(".")[0]: key.split(".")[0] for key in UNAVAILABLE if "." in key}
    bound.update({**(names or {}), **imported_names(source)})
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom | ast.Attribute)]
    found: dict[str, tuple[str, str]] = {}
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):
        for verb, name, entry in _hits(node, bound):
            found.setdefault(name, (verb, entry))
    return [(verb, name, *UNAVAILABLE[entry]) for name, (verb, entry) in found.items()]
