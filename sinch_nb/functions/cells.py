"""Handlers from source: a ``%%sinch`` cell body becomes a function, a plain ``def`` is rebuilt.

Standard library only: the notebook runtime and the deployed Function compile the same
source the same way, so a cell behaves alike in both.
"""

from __future__ import annotations

import ast
import linecache
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["build_handlers", "cell_parameters", "compile_cell", "function_from_source"]


def _has_await(tree: ast.Module) -> bool:
    """Whether the cell awaits at its own level (not inside a nested function)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith):
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def cell_parameters(kind: str) -> tuple[str, ...]:
    """A cell's names in scope: ``(context, event)``, ``(context, request)``, ``(context, stream)``, v2's four."""
    from .routing import CALL_KINDS

    if kind == "http":
        return ("context", "request")
    if kind == "stream":
        return ("context", "stream")
    if kind in CALL_KINDS:
        return ("context", "call", "builder", "request")
    return ("context", "event")


def compile_cell(
    body: str, params: tuple[str, ...], filename: str, namespace: Mapping[str, Any], *, asynchronous: bool = False
) -> Callable[..., Any]:
    """Turn a cell body into ``def handler(*params)``; a final bare expression is returned.

    Uses ``async def`` when the body awaits (or ``asynchronous``: a stream cell always is).
    Line numbers match the cell, so a traceback points at the cell's own lines.
    """
    tree = ast.parse(body, filename=filename)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(ast.Return(value=last.value), last)
    if not tree.body:
        tree.body = [ast.Pass()]
    arguments = ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=name) for name in params], kwonlyargs=[], kw_defaults=[], defaults=[]
    )
    factory = ast.AsyncFunctionDef if asynchronous or _has_await(tree) else ast.FunctionDef
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    function = factory(name="handler", args=arguments, body=tree.body, decorator_list=[], returns=None, **extra)
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    linecache.cache[filename] = (len(body), None, body.splitlines(True), filename)
    scope: dict[str, Any] = {}
    exec(compile(module, filename, "exec"), namespace, scope)  # type: ignore[arg-type]
    handler: Callable[..., Any] = scope["handler"]
    return handler


def function_from_source(source: str, namespace: dict[str, Any]) -> Any:
    """The first function defined in ``source``, its decorators dropped (they registered it in the notebook)."""
    tree = ast.parse(textwrap.dedent(source))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    function.decorator_list = []
    scope: dict[str, Any] = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), f"<sinch {function.name}>", "exec"), namespace, scope)
    return scope[function.name]


def build_handlers(modules: list[str], handlers: list[dict[str, Any]], namespace: dict[str, Any]) -> dict[str, Any]:
    """Run the module cells into ``namespace`` and compile every handler; returns them by route key."""
    for number, source in enumerate(modules):
        filename = f"<sinch module {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    built = {}
    for item in handlers:
        if item["cell"]:
            params = cell_parameters(item["kind"])
            filename = f"<sinch {item['key']}>"
            asynchronous = item["kind"] == "stream"
            built[item["key"]] = compile_cell(item["source"], params, filename, namespace, asynchronous=asynchronous)
        else:
            built[item["key"]] = function_from_source(item["source"], namespace)
    return built
