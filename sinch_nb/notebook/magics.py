"""``%sinch`` and ``%%sinch``: handlers from cells, and the runtime's controls.

%%sinch ice                      the cell body is the ICE handler (event, context, svaml in scope)
%%sinch http GET /status         a custom endpoint (request, context)
%%sinch stream /echo             a media stream (stream, context; the body is async)
%%sinch module                   imports and helpers the handlers share
%sinch new TEMPLATE [PATH]       a ready-to-run notebook from a template (sn.templates() lists them)
%sinch start [--port N] [--host H] | stop | status | handlers | help [SUBCOMMAND]
%config SinchMagics.handler_timeout = 2     the same as sn.configure(handler_timeout=2)

The line grammar is written once, as the argparse parser ``_line_parser()`` with a help on
every subcommand and argument; ``LINE_USAGE``, ``HELP`` (``%sinch help``, ``%sinch?``) and each
subcommand's own help (``%sinch deploy --help``) are generated from it and from ``CELL_KINDS``.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Bunch, Float, Int, TraitError, Unicode, observe
from traitlets.config import Config

from .. import _deploy, _handlers, _runtime, _templates
from ..functions import routing
from ..functions.cells import cell_parameters, compile_cell
from ..functions.errors import SinchNbError
from ..runtime.settings import Settings
from ..session import get_session
from . import templates

__all__ = ["CELL_KINDS", "CELL_USAGE", "HELP", "LINE_USAGE", "SinchMagics", "load"]

_PROG = "%sinch"

#: ``%%sinch KIND``: every cell kind with its one-line help, in the order the help lists them.
CELL_KINDS: dict[str, str] = {
    "ice": "an incoming call (ICE): answer SVAML (svaml.ice())",
    "ace": "an outbound call was answered (ACE): answer SVAML (svaml.ace())",
    "pie": "a menu's result (PIE, event.menu_result): answer SVAML (svaml.pie())",
    "dice": "the call ended (DiCE, event.reason): nothing to answer",
    "notify": "a notification event: nothing to answer",
    "incoming": "Voice API v2 call.incoming: `call`, `builder` (return it, a {'commands': [...]} dict, or nothing)",
    "answered": "v2 call.answered: an outbound leg was answered (`call`, `builder`)",
    "manage": "v2 call.menu, and call.webhook.* no webhook cell claims (`call.menu.input`)",
    "completed": "v2 call.hangup / call.failed (`call.call_reason`): nothing to answer",
    "webhook": "v2 call.webhook.NAME, from a builder.webhook(NAME) command (`call`, `builder`)",
    "fallback": "v2 events no other slot takes (busy, timeout, amd, recordings…)",
    "conversation": "a Conversation API webhook (event.text, .identity, .channel)",
    "http": "a custom endpoint: `request` (method, path, query, headers, body); "
    'return a dict (JSON), a str, or {"statusCode": ..., "body": ...}',
    "stream": "a media stream WebSocket at /path (sn.ws_url('/path')), notebook only; the body is async: "
    "`stream` (await stream.answer(), async for frame in stream.audio(), await stream.send(pcm), clear(), "
    "heartbeat(), hangup(); busy() / reject() refuse) and `context`",
    "module": "imports and helpers the handlers share",
}
#: The cell kinds that take arguments, and which; the others take none.
CELL_ARGUMENTS: dict[str, str] = {"http": "METHOD /path", "webhook": "NAME", "stream": "/path"}

_CELL_INTRO = """\
The cell body is the handler's body: `event` (or `request` for http; `call`,
`builder` and `request` for the Voice API v2 slots), `context` and `svaml` are in
scope and `return` gives the answer (a final bare expression is returned too).
Re-running a cell swaps its handler and bumps the version. Handlers see what
module cells define, not the notebook's other variables (that is what ships with
the Function)."""

_LINE_NOTES = """\
N defaults to sn.configure(function_name=...) (or %config SinchMagics.function_name),
"notebook" unless set. A `# comment` after a line magic is ignored. %config SinchMagics
lists the settings %config can change, each the same as sn.configure(name=value)."""

_PYTHON_NOTES = """\
In Python: sn.start(), sn.stop(), sn.dial(cli, to, press=[...]), sn.callbacks(), sn.calls(),
sn.last_error(), sn.configure(handler_timeout=..., fallback=..., variables=...),
sn.templates(), sn.new(template, path)."""

_COLUMN = 39  # where a row's help starts
_CELL_COLUMN = 31  # the same for the cell kinds, whose names are shorter
_WIDTH = 108  # where it wraps


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are IPython UsageErrors naming the usage (shown without a traceback)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nusage: {LINE_USAGE}")


class _HelpRequested(Exception):  # noqa: N818 (a signal to the magic, not an error)
    """``--help`` was given: show ``parser``'s own help and run nothing."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


class _ShowHelp(argparse.Action):
    """``-h``/``--help``: stops parsing (even before a missing PATH) so the magic can print the help."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> NoReturn:
        raise _HelpRequested(parser)


Subcommands = argparse._SubParsersAction  # the type add_subparsers returns


def _subcommands(parser: _Parser, dest: str, help: str) -> Subcommands[_Parser]:
    """The slot for ``parser``'s subcommands (required: a group such as ``secrets`` does nothing alone)."""
    return parser.add_subparsers(dest=dest, help=help, parser_class=_Parser, required=True)


def _command(commands: Subcommands[_Parser], path: str, help: str) -> _Parser:
    """The subcommand ``path`` (``"secrets add"``) with its help, a ``--help``, and its dispatch key."""
    parser = commands.add_parser(
        path.rsplit(" ", 1)[-1], prog=f"{_PROG} {path}", help=help, description=help, add_help=False
    )
    parser.add_argument("-h", "--help", action=_ShowHelp, help="show this help and run nothing")
    parser.set_defaults(command=path)
    return parser


def _line_parser() -> _Parser:
    """The ``%sinch`` grammar, written once: usage, help, ``--help`` and dispatch all come from it."""
    parser = _Parser(prog=_PROG, add_help=False)
    parser.add_argument("-h", "--help", action=_ShowHelp, help="show the help of every subcommand")
    commands = _subcommands(parser, "command", "what to do")
    _start_arguments(
        _command(
            commands,
            "start",
            "serve the handlers; with a public URL (--tunnel or --url) and credentials set, point the Voice App"
            " and a Conversation webhook at it until %sinch stop; with VOICE_APPLICATION_SECRET known,"
            " callbacks must be signed",
        )
    )
    _new_arguments(
        _command(
            commands,
            "new",
            "write a ready-to-run notebook from a template, as sinch functions init does for a project",
        )
    )
    _command(commands, "doctor", "what a public URL needs here, each failure with its fix")
    _deployment_commands(commands)
    _command(
        commands, "stop", "restore the Voice App, delete the webhook, close the tunnel, stop serving and free the port"
    )
    _command(commands, "status", "running or not, URL, handlers, callbacks, last error")
    _command(commands, "handlers", "the registered handlers and their routes")
    _secrets_commands(commands)
    _command(
        commands,
        "help",
        "this text (also %sinch? and %%sinch?); with a SUBCOMMAND, its own help (also %sinch SUBCOMMAND --help)",
    ).add_argument(
        "subcommand", nargs="*", metavar="[SUBCOMMAND]", help="the subcommand to explain, e.g. deploy or secrets add"
    )
    return parser


def _new_arguments(new: _Parser) -> None:
    """``%sinch new``'s arguments: which template, where to, and whether to overwrite."""
    new.add_argument(
        "template",
        metavar="TEMPLATE",
        help=f"the starting point: {', '.join(templates.names())} (sn.templates() says what each does)",
    )
    new.add_argument(
        "path",
        nargs="?",
        default=None,
        metavar="[PATH]",
        help="where to write it: ./TEMPLATE.ipynb unless given; a folder gets TEMPLATE.ipynb inside, and .ipynb"
        " is added when missing",
    )
    new.add_argument("--force", action="store_true", help="overwrite PATH if it exists")


def _start_arguments(start: _Parser) -> None:
    """``%sinch start``'s options: where to serve, the public URL, linking and signatures."""
    start.add_argument("--port", type=int, default=None, metavar="N", help="the port; a free one unless given")
    start.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H",
        help="the address to serve on: 127.0.0.1 unless given, e.g. 0.0.0.0 in a container",
    )
    start.add_argument(
        "--tunnel",
        choices=["ngrok", "cloudflared", "none"],
        default=None,
        help="give the handlers a public URL through this tunnel",
    )
    start.add_argument("--url", default=None, metavar="URL", help="a public URL you have, instead of a tunnel")
    start.add_argument(
        "--no-link",
        dest="link",
        action="store_false",
        help="do not point the Voice App and the webhook at the public URL",
    )
    start.add_argument(
        "--insecure", action="store_true", help="accept unsigned callbacks (forged signatures are still refused)"
    )
    start.add_argument("--force", action="store_true", help="take over a Voice App another notebook's runtime holds")


def _deployment_commands(commands: Subcommands[_Parser]) -> None:
    """``export``, ``parity``, ``deploy`` and ``logs``: the notebook as a Sinch Function."""
    name = "the function's name (N); the function_name setting unless given"
    export = _command(commands, "export", "write the handlers as a Sinch Function project (Node + Pyodide)")
    export.add_argument("path", metavar="PATH", help="the project's folder")
    export.add_argument("--name", default=None, metavar="N", help=name)
    parity = _command(
        commands,
        "parity",
        "run that project under Node on this session's callbacks and compare its answers with the notebook's"
        " (needs Node.js)",
    )
    parity.add_argument("path", metavar="PATH", help="the folder %sinch export wrote")
    parity.add_argument("--install", action="store_true", help="fetch Pyodide from npm (once)")
    deploy = _command(
        commands, "deploy", "export to ./build/N and deploy with the sinch CLI, then follow it to Running"
    )
    deploy.add_argument("--name", default=None, metavar="N", help=name)
    deploy.add_argument("--dry-run", action="store_true", help="list what would ship, and stop there")
    deploy.add_argument("--private", action="store_true", help="deploy it private (the CLI's --private)")
    deploy.add_argument(
        "--no-wait", dest="wait", action="store_false", help="return after the CLI, without following it to Running"
    )
    logs = _command(commands, "logs", "the deployed function's requests, into sn.callbacks()")
    logs.add_argument("--name", default=None, metavar="N", help=name)
    logs.add_argument("--follow", action="store_true", help="keep reading them in the background")


def _secrets_commands(commands: Subcommands[_Parser]) -> None:
    """``secrets add|list|delete``: credentials in the keychain, never echoed."""
    group = _command(
        commands, "secrets", "the credentials sinch_nb reads: the environment, .env or the OS keychain; never a value"
    )
    actions = _subcommands(group, "action", "what to do with a secret")
    add = _command(actions, "secrets add", "store a secret in the OS keychain (prompts, never echoes)")
    add.add_argument("name", nargs="?", metavar="NAME", help="the secret's name, e.g. VOICE_APPLICATION_SECRET")
    _command(actions, "secrets list", "names set, and where (environment, .env, keychain); no values")
    delete = _command(actions, "secrets delete", "remove a secret from the keychain")
    delete.add_argument("name", nargs="?", metavar="NAME", help="the secret's name")


# The help, generated from the parser and the cell kinds.


def _children(parser: argparse.ArgumentParser) -> dict[str, _Parser]:
    """``parser``'s subcommands by name, in the order they were added."""
    slots = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return {name: child for slot in slots for name, child in slot.choices.items()}


def _walk(parser: argparse.ArgumentParser) -> Iterator[_Parser]:
    """Every subcommand below ``parser``, each group before its own subcommands."""
    for child in _children(parser).values():
        yield child
        yield from _walk(child)


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """What a user types after the subcommand (not ``--help``, not a group's subcommands)."""
    return [action for action in parser._actions if not isinstance(action, (_ShowHelp, argparse._SubParsersAction))]


def _value(action: argparse.Action) -> str:
    """What follows an option (``N``, ``ngrok|cloudflared|none``), or a positional's name."""
    if action.choices:
        return "|".join(str(choice) for choice in action.choices)
    return str(action.metavar or action.dest.upper())


def _label(action: argparse.Action) -> str:
    """An argument as its help row names it: ``--port N``, ``-h, --help``, ``PATH``."""
    if not action.option_strings:
        return _value(action)
    flags = ", ".join(action.option_strings)
    return flags if action.nargs == 0 else f"{flags} {_value(action)}"


def _usage_word(action: argparse.Action) -> str:
    """An argument as the synopsis shows it: ``[--port N]``, ``PATH``, ``add|list|delete``."""
    if not action.option_strings:
        return _value(action)  # positionals are shown as their metavar says ("[SUBCOMMAND]" when optional)
    return f"[{_label(action)}]"


def _synopsis(parser: argparse.ArgumentParser) -> str:
    """``%sinch deploy [--name N] [--dry-run] ...``: a subcommand and what it takes."""
    words = [_usage_word(action) for action in parser._actions if not isinstance(action, _ShowHelp)]
    return " ".join([parser.prog, *words])


def _rows(rows: Iterable[tuple[str, str]], indent: int, column: int = _COLUMN) -> list[str]:
    """Two columns: the help wrapped from ``column``, under its name when the name is too long."""
    lines = []
    for name, text in rows:
        head = " " * indent + name
        wrapped = textwrap.wrap(text, _WIDTH - column, break_on_hyphens=False, break_long_words=False) or [""]
        if len(head) < column:
            lines.append(head.ljust(column) + wrapped.pop(0))
        else:
            lines.append(head)
        lines += [" " * column + line for line in wrapped]
    return lines


def _entry(parser: argparse.ArgumentParser) -> list[str]:
    """A subcommand in the help: its synopsis and help, then a row per argument."""
    rows = [(_label(action), action.help or "") for action in _arguments(parser)]
    return _rows([(_synopsis(parser), parser.description or "")], 2) + _rows(rows, 6)


def _command_help(parser: argparse.ArgumentParser) -> str:
    """One subcommand's own help (``%sinch deploy --help``): usage, what it does, every argument, its subcommands."""
    actions = sorted(parser._actions, key=lambda action: isinstance(action, _ShowHelp))  # --help last
    rows = [(_label(action), action.help or "") for action in actions]
    lines = [f"usage: {_synopsis(parser)}", "", *textwrap.wrap(parser.description or "", _WIDTH), "", *_rows(rows, 2)]
    for child in _walk(parser):
        lines += _entry(child)
    return "\n".join(lines)


def _cell_usage() -> str:
    """``%%sinch ice|ace|...|module  or  %%sinch http METHOD /path``."""
    plain = "|".join(kind for kind in CELL_KINDS if kind not in CELL_ARGUMENTS)
    taking = "".join(f"  or  %%sinch {kind} {arguments}" for kind, arguments in CELL_ARGUMENTS.items())
    return f"%{_PROG} {plain}{taking}"


def _line_usage(parser: argparse.ArgumentParser) -> str:
    """``%sinch start [--port N] ... | stop | ... | help [SUBCOMMAND]``: every runnable subcommand."""
    leaves = [_synopsis(child).removeprefix(f"{_PROG} ") for child in _walk(parser) if not _children(child)]
    return f"{_PROG} {' | '.join(leaves)}"


def _help(parser: argparse.ArgumentParser) -> str:
    """The whole help: the cell kinds, every subcommand with its arguments, and the notes around them."""
    cells = [(f"%{_PROG} {kind} {CELL_ARGUMENTS.get(kind, '')}".rstrip(), text) for kind, text in CELL_KINDS.items()]
    lines = ["sinch_nb magics", "", "Cells:", f"  {CELL_USAGE}", *_rows(cells, 4, _CELL_COLUMN)]
    lines += [textwrap.indent(_CELL_INTRO, "    "), "", "Lines:"]
    for child in _walk(parser):
        lines += _entry(child)
    lines += [textwrap.indent(_LINE_NOTES, "  "), "", _PYTHON_NOTES, ""]
    return "\n".join(lines)


_GRAMMAR = _line_parser()  # parsing leaves a parser as it was, so the magic reuses this one
CELL_USAGE = _cell_usage()
LINE_USAGE = _line_usage(_GRAMMAR)
HELP = _help(_GRAMMAR)


def _find(words: list[str]) -> argparse.ArgumentParser:
    """The subcommand ``words`` name (``["secrets", "add"]``); a UsageError for one that does not exist."""
    parser: argparse.ArgumentParser = _GRAMMAR
    for word in words:
        children = _children(parser)
        if word not in children:
            raise UsageError(f"no subcommand {' '.join(words)!r}\nusage: {LINE_USAGE}")
        parser = children[word]
    return parser


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


#: The settings ``%config SinchMagics.<name> = value`` changes, each as ``sn.configure(<name>=value)`` would.
_SETTINGS = ("handler_timeout", "max_body", "function_name", "insecure")


@magics_class
class SinchMagics(Magics):
    """The ``%sinch`` line magic and ``%%sinch`` cell magic; its traits are settings (``%config SinchMagics``)."""

    handler_timeout = Float(
        Settings.handler_timeout,
        help="Seconds a handler may take; after that the caller gets the fallback answer.",
    ).tag(config=True)
    max_body = Int(Settings.max_body, help="The largest callback body accepted, in bytes (a larger one gets 413).").tag(
        config=True
    )
    function_name = Unicode(
        Settings.function_name, help="The Function's name: what %sinch export, deploy and logs use without --name."
    ).tag(config=True)
    insecure = Bool(
        Settings.insecure,
        help="Accept unsigned callbacks even with a secret known (forged signatures are still refused).",
    ).tag(config=True)

    _reading = False  # True while the traits take the session's values: that configures nothing

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.cell_id: str | None = None
        shell.events.register("pre_run_cell", self._pre_run_cell)

    def _pre_run_cell(self, info: Any) -> None:
        self.cell_id = getattr(info, "cell_id", None)
        self._read_settings()

    # %config SinchMagics ...

    @observe(*_SETTINGS)
    def _configure(self, change: Bunch) -> None:
        """``%config SinchMagics.handler_timeout = 2`` is ``sn.configure(handler_timeout=2)``."""
        if not self._reading:
            get_session().configure(**{change["name"]: change["new"]})

    def _read_settings(self) -> None:
        """Show the session's settings (``sn.configure`` or a new session may have changed them); sets nothing."""
        settings = get_session().settings
        self._reading = True
        try:
            for name in _SETTINGS:
                with contextlib.suppress(TraitError):  # sn.configure(handler_timeout="3"): keep the last good value
                    setattr(self, name, getattr(settings, name))
        finally:
            self._reading = False

    def update_config(self, config: Config) -> None:
        """``%config``: compare the new values with the session's, so each change reaches it."""
        self._read_settings()
        super().update_config(config)

    @line_cell_magic
    def sinch(self, line: str, cell: str | None = None) -> Any:
        """Define a handler from a cell, or control the runtime; ``%sinch help`` lists everything."""
        if cell is None:
            return self._line(line)
        return self._cell(line, cell)

    sinch.__doc__ = HELP  # what %sinch? and %%sinch? show: every subcommand and option

    # %sinch ...: one small method per subcommand (its help is in the parser), found in _COMMANDS

    def _line(self, line: str) -> Any:
        try:
            words = shlex.split(_without_comment(line))
        except ValueError as error:
            raise UsageError(f"{error}\nusage: {LINE_USAGE}") from None
        if not words:
            raise UsageError(f"say what to do\nusage: {LINE_USAGE}")
        if words[0] in CELL_KINDS:
            raise UsageError(f"%sinch {words[0]} is a cell magic: start the cell with %%sinch {words[0]}")
        try:
            args = _GRAMMAR.parse_args(words)
        except _HelpRequested as request:
            print(HELP if request.parser is _GRAMMAR else _command_help(request.parser))
            return None
        try:
            return self._COMMANDS[args.command](self, args)
        except SinchNbError as error:
            raise UsageError(str(error)) from None

    def _run_new(self, args: argparse.Namespace) -> None:
        path = _templates.new(args.template, args.path, force=args.force)
        shown = _shown(path)
        print(f"wrote {shown} from the {args.template} template")
        command = f"python -m sinch_nb demo {shlex.quote(shown)}"
        print(f"next: open {shown} in Jupyter and run all cells, or in a terminal: {command}")

    def _run_start(self, args: argparse.Namespace) -> None:
        server = _runtime.start(
            port=args.port,
            host=args.host,
            tunnel=args.tunnel,
            url=args.url,
            link=args.link,
            insecure=args.insecure,
            force=args.force,
        )
        print(f"sinch_nb runtime at {server.url}")
        print(_routes_text(server.url))
        print(_signature_text())

    def _run_doctor(self, args: argparse.Namespace) -> Any:
        return _runtime.doctor()

    def _run_export(self, args: argparse.Namespace) -> None:
        project = _deploy.export(args.path, args.name or get_session().settings.function_name)
        print(repr(project))

    def _run_parity(self, args: argparse.Namespace) -> None:
        from IPython.display import display  # shown even when it is not the cell's last line

        display(_deploy.parity(args.path, install=args.install))  # type: ignore[no-untyped-call]

    def _run_deploy(self, args: argparse.Namespace) -> None:
        _deploy.deploy(args.name, dry_run=args.dry_run, private=args.private, wait=args.wait)

    def _run_logs(self, args: argparse.Namespace) -> Any:
        if not args.follow:
            return _deploy.logs(args.name)
        follower = _deploy.logs(args.name, follow=True)
        print("following the deployed function's logs into sn.callbacks(); .stop() on this handle ends it")
        return follower

    def _run_stop(self, args: argparse.Namespace) -> None:
        print("runtime stopped; port freed" if _runtime.stop() else "the runtime was not running")

    def _run_status(self, args: argparse.Namespace) -> None:
        for key, value in _runtime.status().items():
            print(f"{key:>10}: {value}")

    def _run_handlers(self, args: argparse.Namespace) -> None:
        print(_handlers_text() or "no handlers yet: define one with %%sinch ice")

    def _run_secrets_add(self, args: argparse.Namespace) -> None:
        import getpass

        name = _secret_name("add", args.name)
        try:
            value = getpass.getpass(f"{name}: ")
        except StdinNotImplementedError:
            raise UsageError(
                f"this frontend cannot prompt for {name}: set it in the environment or in .env instead"
            ) from None
        try:
            get_session().credential_store().add(name, value)
        except ValueError as error:  # a name or value the keychain does not take
            raise UsageError(str(error)) from None
        print(f"{name} stored in the keychain")

    def _run_secrets_list(self, args: argparse.Namespace) -> None:
        store = get_session().credential_store()
        sources = store.sources()
        available, backend = store.keychain()
        for key, source in sources.items():
            print(f"  {key:<32} {source}")
        if not sources:
            print("  no credentials set")
        print(f"keychain: {backend}" if available else f"keychain: none ({backend}); use env or .env")

    def _run_secrets_delete(self, args: argparse.Namespace) -> None:
        name = _secret_name("delete", args.name)
        try:
            deleted = get_session().credential_store().delete(name)
        except ValueError as error:
            raise UsageError(str(error)) from None
        print(f"{name} deleted from the keychain" if deleted else f"{name} was not in the keychain")

    def _run_help(self, args: argparse.Namespace) -> None:
        print(_command_help(_find(args.subcommand)) if args.subcommand else HELP)

    #: Each subcommand (its parser's ``command`` default) and the method that runs it.
    _COMMANDS: ClassVar[dict[str, Callable[[SinchMagics, argparse.Namespace], Any]]] = {
        "start": _run_start,
        "new": _run_new,
        "doctor": _run_doctor,
        "export": _run_export,
        "parity": _run_parity,
        "deploy": _run_deploy,
        "logs": _run_logs,
        "stop": _run_stop,
        "status": _run_status,
        "handlers": _run_handlers,
        "secrets add": _run_secrets_add,
        "secrets list": _run_secrets_list,
        "secrets delete": _run_secrets_delete,
        "help": _run_help,
    }

    # %%sinch ...

    def _cell(self, line: str, cell: str) -> None:
        words = line.split()
        if not words or words[0] not in CELL_KINDS:
            raise UsageError(f"unknown handler kind {' '.join(words) or '(none)'!r}\nusage: {CELL_USAGE}")
        kind = words[0]
        if kind == "http" and len(words) != 3:
            raise UsageError(
                f"%%sinch http needs a method and a path, e.g. %%sinch http GET /status\nusage: {CELL_USAGE}"
            )
        if kind == "webhook" and len(words) != 2:
            raise UsageError(
                f"%%sinch webhook needs the webhook's name, e.g. %%sinch webhook order\nusage: {CELL_USAGE}"
            )
        if kind == "stream" and len(words) != 2:
            raise UsageError(
                f"%%sinch stream needs the WebSocket's path, e.g. %%sinch stream /echo\nusage: {CELL_USAGE}"
            )
        if kind not in CELL_ARGUMENTS and len(words) != 1:
            raise UsageError(f"%%sinch {kind} takes no arguments\nusage: {CELL_USAGE}")
        count = _cell_number(self.shell)
        origin = f"cell [{count}]"
        defined_in = f"cell {self.cell_id}" if self.cell_id else None
        if kind == "module":
            module = get_session().registry.run_module(defined_in or origin, cell, f"<sinch module {origin}>")
            names = ", ".join(module.names) or "nothing new"
            print(f"module {origin}: defines {names} for the %%sinch cells")
            return
        try:
            key = routing.handler_key(kind, *words[1:3])
        except SinchNbError as error:
            raise UsageError(str(error)) from None
        params = cell_parameters(kind)
        try:
            namespace = get_session().registry.namespace
            asynchronous = kind == routing.STREAM_KIND  # its body awaits the stream, whatever it looks like
            function = compile_cell(cell, params, f"<sinch {key} {origin}>", namespace, asynchronous=asynchronous)
        except SyntaxError as error:
            raise UsageError(_not_compiled(key, origin, error)) from None
        handler = get_session().registry.register(
            kind, function, origin, key=key, source=cell, defined_in=defined_in or f"cell {key}"
        )
        server = get_session().server
        where = f", serving at {server.url}" if server and server.running else "; %sinch start to serve it"
        print(f"{handler.label}{where}")


def _not_compiled(key: str, origin: str, error: SyntaxError) -> str:
    """A handler cell that does not compile: what still answers, and the error at its line, no internal frames."""
    current = get_session().registry.get(key)
    kept = f"{current.label} still answers" if current else f"no {key} handler is defined yet"
    lines = [f"not changed: {kept}. {type(error).__name__} in {origin}, line {error.lineno}: {error.msg}"]
    if error.text:
        lines.append(f"    {error.text.rstrip()}")
        if error.offset:
            lines.append(" " * (3 + error.offset) + "^")
    return "\n".join(lines)


def _cell_number(shell: InteractiveShell | None) -> int:
    """The number the notebook shows on the running cell, ``[N]``: its place in the input history.

    Not ``execution_count``: IPython 9 raises that before the cell runs, so it is one too many.
    """
    if shell is None:
        return 0
    history = getattr(shell.history_manager, "input_hist_raw", None)
    return len(history) - 1 if history else int(shell.execution_count)


def _shown(path: Path) -> str:
    """``path`` as a user would type it here: relative to the working folder when inside it."""
    absolute = path.absolute()
    return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(absolute)


def _routes_text(url: str) -> str:
    rows = []
    ws = url.replace("http", "ws", 1)
    for handler in _handlers.handlers():
        if handler.kind == routing.STREAM_KIND:
            path = handler.key.split(" ", 1)[1]
            rows.append(f"  WS     {ws}{path:<22} {handler.label} (media stream)")
            continue
        if handler.kind in routing.CALL_KINDS:  # v2: every event arrives on the one webhook URL
            event = handler.key.replace("webhook ", "call.webhook.") if handler.kind == "webhook" else handler.kind
            rows.append(f"  POST   {url}/{'':<21} {handler.label} (v2 {event})")
            continue
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


def _secret_name(action: str, name: str | None) -> str:
    """The NAME ``%sinch secrets add|delete`` needs, or a UsageError saying so."""
    if not name:
        raise UsageError(f"%sinch secrets {action} needs a NAME, e.g. VOICE_APPLICATION_SECRET\nusage: {LINE_USAGE}")
    return name


def _handlers_text() -> str:
    return "\n".join(f"  {h.key:<24} v{h.version:<3} {h.origin}" for h in _handlers.handlers())


def load(shell: InteractiveShell) -> None:
    """Register the magics with ``shell`` (what ``%load_ext sinch_nb`` calls), and as a configurable for ``%config``."""
    magics = SinchMagics(shell)
    shell.register_magics(magics)
    configurables: list[Any] = shell.configurables  # IPython types it as a list of shells
    if magics not in configurables:  # IPython's Magics adds itself; %config SinchMagics needs it there
        configurables.append(magics)


def _signature_text() -> str:
    settings = get_session().settings
    if settings.insecure:
        return "Warning: --insecure: unsigned callbacks are accepted; forged signatures are still refused"
    lines = [
        "Signature checks: off (no VOICE_APPLICATION_SECRET): %sinch secrets add VOICE_APPLICATION_SECRET"
        if settings.application_secret is None
        else f"Signature checks: on for Voice App {settings.application_key}"
    ]
    if any(h.kind in routing.CALL_KINDS for h in _handlers.handlers()):
        lines.append(
            "Voice API v2 webhooks: unchecked (no VOICE_SERVICE_SECRET; Sinch issues service secrets to few "
            "accounts yet, as the Functions runtime notes)"
            if settings.voice_service_secret is None
            else f"Voice API v2 webhooks: signatures checked for service {settings.voice_service_id}"
        )
    return "\n".join(lines)
