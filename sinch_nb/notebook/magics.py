"""``%sinch`` and ``%%sinch``: handlers from cells, and the runtime's controls.

%%sinch ice                      the cell body is the ICE handler (event, context, svaml in scope)
%%sinch http GET /status         a custom endpoint (request, context)
%%sinch module                   imports and helpers the handlers share
%sinch start [--port N] [--host H] | stop | status | handlers | help
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any, NoReturn

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class

from .. import _deploy, _handlers, _runtime
from ..functions import routing
from ..functions.cells import compile_cell
from ..functions.errors import SinchNbError
from ..session import get_session

__all__ = ["SinchMagics", "load"]

CELL_USAGE = "%%sinch ice|ace|pie|dice|notify|conversation|module  or  %%sinch http METHOD /path"
LINE_USAGE = (
    "%sinch start [--port N] [--host H] [--tunnel ngrok|cloudflared|none] [--url URL] [--no-link] [--insecure]"
    " | stop | status | handlers | doctor | export PATH [--name N] | parity PATH [--install]"
    " | deploy [--name N] [--dry-run] [--private]"
    " [--no-wait] | logs [--name N] [--follow]"
    " | secrets add NAME | secrets list | secrets delete NAME | help"
)
HELP = f"""sinch_nb magics

Cells:
  {CELL_USAGE}
    %%sinch ice            an incoming call (ICE): answer SVAML (svaml.ice())
    %%sinch ace            an outbound call was answered (ACE): answer SVAML (svaml.ace())
    %%sinch pie            a menu's result (PIE, event.menu_result): answer SVAML (svaml.pie())
    %%sinch dice           the call ended (DiCE, event.reason): nothing to answer
    %%sinch notify         a notification event: nothing to answer
    %%sinch conversation   a Conversation API webhook (event.text, .identity, .channel)
    %%sinch http GET /path a custom endpoint: `request` (method, path, query, headers, body);
                           return a dict (JSON), a str, or {{"statusCode": ..., "body": ...}}
    %%sinch module         imports and helpers the handlers share
    The cell body is the handler's body: `event` (or `request` for http), `context`
    and `svaml` are in scope and `return` gives the answer (a final bare expression
    is returned too). Re-running a cell swaps its handler and bumps the version.
    Handlers see what module cells define, not the notebook's other variables (that
    is what ships with the Function).

Lines:
  %sinch start [--port N] [--host H] [--tunnel ngrok|cloudflared|none] [--url URL] [--no-link] [--insecure]
                                       serve the handlers (a free port unless --port; on
                                       127.0.0.1 unless --host, e.g. 0.0.0.0 in a container);
                                       --tunnel gives them a public URL (--url: one you have),
                                       and with credentials set points the Voice App and a
                                       Conversation webhook at it until %sinch stop (--no-link
                                       to skip); with VOICE_APPLICATION_SECRET known callbacks
                                       must be signed, --insecure accepts unsigned ones
  %sinch doctor                        what a public URL needs here, each failure with its fix
  %sinch export PATH [--name N]        write the handlers as a Sinch Function project (Node + Pyodide)
  %sinch parity PATH [--install]       run that project under Node on this session's callbacks and
                                       compare its answers with the notebook's (needs Node.js;
                                       --install fetches Pyodide from npm once)
  %sinch deploy [--name N] [--dry-run] [--private] [--no-wait]
                                       export to ./build/N and deploy with the sinch CLI, then
                                       follow it to Running (--no-wait: return after the CLI);
                                       --dry-run lists what would ship; --private deploys it
                                       private (the CLI's --private)
  %sinch logs [--name N] [--follow]    the deployed function's requests, into sn.callbacks()
                                       (--follow: keep reading them in the background)
  %sinch stop                          restore the Voice App, delete the webhook, close the
                                       tunnel, stop serving and free the port
  %sinch status                        running or not, URL, handlers, callbacks, last error
  %sinch handlers                      the registered handlers and their routes
  %sinch secrets add NAME              store a secret in the OS keychain (prompts, never echoes)
  %sinch secrets list                  names set, and where (environment, .env, keychain); no values
  %sinch secrets delete NAME           remove a secret from the keychain
  %sinch help                          this text (also %sinch? and %%sinch?)
  N defaults to sn.configure(function_name=...), "notebook" unless set. A `# comment`
  after a line magic is ignored.

In Python: sn.start(), sn.stop(), sn.dial(cli, to, press=[...]), sn.callbacks(), sn.calls(),
sn.last_error(), sn.configure(handler_timeout=..., fallback=..., variables=...).
"""


def _without_comment(line: str) -> str:
    """``start --port 8765  # a note`` → ``start --port 8765``; a ``#`` inside a word or quotes stays."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nusage: {LINE_USAGE}")


def _line_parser() -> _Parser:
    parser = _Parser(prog="%sinch", add_help=False)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    start = commands.add_parser("start", add_help=False)
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--insecure", action="store_true")
    start.add_argument("--tunnel", choices=["ngrok", "cloudflared", "none"], default=None)
    start.add_argument("--url", default=None)
    start.add_argument("--no-link", dest="link", action="store_false")
    for name in ("stop", "status", "handlers", "help", "doctor"):
        commands.add_parser(name, add_help=False)
    export = commands.add_parser("export", add_help=False)
    export.add_argument("path")
    export.add_argument("--name", default=None)
    parity = commands.add_parser("parity", add_help=False)
    parity.add_argument("path")
    parity.add_argument("--install", action="store_true")
    deploy = commands.add_parser("deploy", add_help=False)
    deploy.add_argument("--name", default=None)
    deploy.add_argument("--dry-run", action="store_true")
    deploy.add_argument("--private", action="store_true")
    deploy.add_argument("--no-wait", dest="wait", action="store_false")
    logs = commands.add_parser("logs", add_help=False)
    logs.add_argument("--name", default=None)
    logs.add_argument("--follow", action="store_true")
    secrets = commands.add_parser("secrets", add_help=False)
    secrets.add_argument("action", choices=["add", "list", "delete"])
    secrets.add_argument("name", nargs="?")
    return parser


@magics_class
class SinchMagics(Magics):
    """The ``%sinch`` line magic and ``%%sinch`` cell magic."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.cell_id: str | None = None
        shell.events.register("pre_run_cell", self._pre_run_cell)

    def _pre_run_cell(self, info: Any) -> None:
        self.cell_id = getattr(info, "cell_id", None)

    @line_cell_magic
    def sinch(self, line: str, cell: str | None = None) -> Any:
        """Define a handler from a cell, or control the runtime; ``%sinch help`` lists everything."""
        if cell is None:
            return self._line(line)
        return self._cell(line, cell)

    sinch.__doc__ = HELP  # what %sinch? and %%sinch? show: every subcommand and option

    # %sinch ...

    def _line(self, line: str) -> Any:
        try:
            words = shlex.split(_without_comment(line))
        except ValueError as error:
            raise UsageError(f"{error}\nusage: {LINE_USAGE}") from None
        if not words:
            raise UsageError(f"say what to do\nusage: {LINE_USAGE}")
        if words[0] in routing.HANDLER_KINDS or words[0] == "module":
            raise UsageError(f"%sinch {words[0]} is a cell magic: start the cell with %%sinch {words[0]}")
        args = _line_parser().parse_args(words)
        if args.command == "start":
            try:
                server = _runtime.start(
                    port=args.port,
                    host=args.host,
                    tunnel=args.tunnel,
                    url=args.url,
                    link=args.link,
                    insecure=args.insecure,
                )
            except SinchNbError as error:
                raise UsageError(str(error)) from None
            print(f"sinch_nb runtime at {server.url}")
            print(_routes_text(server.url))
            print(_signature_text())
            return None
        if args.command == "secrets":
            return _secrets(args.action, args.name)
        if args.command == "doctor":
            return _runtime.doctor()
        if args.command in ("export", "parity", "deploy", "logs"):
            return _deployment(args)
        if args.command == "stop":
            print("runtime stopped; port freed" if _runtime.stop() else "the runtime was not running")
            return None
        if args.command == "status":
            for key, value in _runtime.status().items():
                print(f"{key:>10}: {value}")
            return None
        if args.command == "handlers":
            print(_handlers_text() or "no handlers yet: define one with %%sinch ice")
            return None
        print(HELP)
        return None

    # %%sinch ...

    def _cell(self, line: str, cell: str) -> None:
        words = line.split()
        if not words or words[0] not in (*routing.HANDLER_KINDS, "module"):
            raise UsageError(f"unknown handler kind {' '.join(words) or '(none)'!r}\nusage: {CELL_USAGE}")
        kind = words[0]
        if kind == "http" and len(words) != 3:
            raise UsageError(
                f"%%sinch http needs a method and a path, e.g. %%sinch http GET /status\nusage: {CELL_USAGE}"
            )
        if kind != "http" and len(words) != 1:
            raise UsageError(f"%%sinch {kind} takes no arguments\nusage: {CELL_USAGE}")
        count = self.shell.execution_count if self.shell is not None else 0
        origin = f"cell [{count}]"
        owner = f"cell {self.cell_id}" if self.cell_id else None
        if kind == "module":
            module = get_session().registry.run_module(owner or origin, cell, f"<sinch module {origin}>")
            names = ", ".join(module.names) or "nothing new"
            print(f"module {origin}: defines {names} for the %%sinch cells")
            return
        key = routing.handler_key(kind, *words[1:3])
        params = ("context", "request") if kind == "http" else ("context", "event")
        function = compile_cell(cell, params, f"<sinch {key} {origin}>", get_session().registry.namespace)
        handler = get_session().registry.register(
            kind, function, origin, key=key, source=cell, owner=owner or f"cell {key}"
        )
        server = get_session().server
        where = f", serving at {server.url}" if server and server.running else "; %sinch start to serve it"
        print(f"{handler.label}{where}")


def _routes_text(url: str) -> str:
    rows = []
    for handler in _handlers.handlers():
        path = (
            handler.key.split(" ", 1)[1]
            if handler.kind == "http"
            else (routing.CONVERSATION_PATH if handler.kind == "conversation" else f"/{handler.kind}")
        )
        method = handler.key.split(" ", 1)[0] if handler.kind == "http" else "POST"
        rows.append(f"  {method:<6} {url}{path:<22} {handler.label}")
    rows.append(f"  POST   {url}/{'':<21} Voice callbacks by their 'event' (also /voice)")
    rows.append(f"  GET    {url}/health{'':<15} liveness")
    return "\n".join(rows)


def _deployment(args: argparse.Namespace) -> Any:
    try:
        if args.command == "export":
            project = _deploy.export(args.path, args.name or get_session().settings.function_name)
            print(repr(project))
            return None
        if args.command == "parity":  # shown even when it is not the cell's last line
            from IPython.display import display

            display(_deploy.parity(args.path, install=args.install))  # type: ignore[no-untyped-call]
            return None
        if args.command == "deploy":
            _deploy.deploy(args.name, dry_run=args.dry_run, private=args.private, wait=args.wait)
            return None
        if args.follow:
            _deploy.logs(args.name, follow=True)
            print("following the deployed function's logs into sn.callbacks(); %sinch stop does not end it")
            return None
        return _deploy.logs(args.name)
    except SinchNbError as error:
        raise UsageError(str(error)) from None


def _signature_text() -> str:
    settings = get_session().settings
    if settings.application_secret is None:
        return "Signature checks: off (no VOICE_APPLICATION_SECRET): %sinch secrets add VOICE_APPLICATION_SECRET"
    if settings.insecure:
        return "Warning: --insecure: unsigned callbacks are accepted; forged signatures are still refused"
    return f"Signature checks: on for Voice App {settings.application_key}"


def _secrets(action: str, name: str | None) -> None:
    import getpass

    from ..platform.credentials import CredentialStore, NoKeychainError

    store = CredentialStore(get_session().settings.base_dir)
    if action == "list":
        sources = store.sources()
        available, backend = store.keychain()
        for key, source in sources.items():
            print(f"  {key:<32} {source}")
        if not sources:
            print("  no credentials set")
        print(f"keychain: {backend}" if available else f"keychain: none ({backend}); use env or .env")
        return
    if not name:
        raise UsageError(f"%sinch secrets {action} needs a NAME, e.g. VOICE_APPLICATION_SECRET\nusage: {LINE_USAGE}")
    try:
        if action == "add":
            try:
                value = getpass.getpass(f"{name}: ")
            except StdinNotImplementedError:
                raise UsageError(
                    f"this frontend cannot prompt for {name}: set it in the environment or in .env instead"
                ) from None
            store.add(name, value)
            print(f"{name} stored in the keychain")
        elif store.delete(name):
            print(f"{name} deleted from the keychain")
        else:
            print(f"{name} was not in the keychain")
    except (NoKeychainError, ValueError) as error:
        raise UsageError(str(error)) from None


def _handlers_text() -> str:
    return "\n".join(f"  {h.key:<24} v{h.version:<3} {h.origin}" for h in _handlers.handlers())


def load(shell: InteractiveShell) -> None:
    """Register the magics with ``shell`` (what ``%load_ext sinch_nb`` calls)."""
    shell.register_magics(SinchMagics(shell))
