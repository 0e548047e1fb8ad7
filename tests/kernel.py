"""A real IPython kernel for tests: run code as a cell (optionally with a cell id), read its output."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager


@dataclass
class CellResult:
    """What one execution printed and returned, and when its reply came."""

    stdout: str = ""
    stderr: str = ""
    results: list[str] = field(default_factory=list)
    error: str | None = None
    finished_at: float = 0.0

    @property
    def text(self) -> str:
        return self.stdout + "".join(self.results)


#: The first cell of every kernel test: the magics, the face, the builders.
SETUP = "%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml"


def started_kernel(cwd: Path) -> Iterator[Kernel]:
    """A kernel in ``cwd`` with ``SETUP`` run, shut down after (the body of the ``kernel`` fixtures)."""
    kernel = Kernel(cwd)
    assert kernel.run(SETUP).error is None
    yield kernel
    kernel.shutdown()


class Kernel:
    """A kernel started in ``cwd``; ``run`` waits for a cell, ``submit``/``wait`` do not block."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env={**os.environ, **(env or {})})
        self.client: BlockingKernelClient = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.pending: dict[str, CellResult] = {}
        self.answers: list[str] = []
        self.prompts: list[str] = []

    def submit(self, code: str, cell_id: str | None = None, answers: list[str] | None = None) -> str:
        """Send ``code`` as a cell; ``answers`` reply, in order, to what the cell asks on stdin."""
        self.answers = list(answers or [])
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": bool(answers),
        }
        message = self.client.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
        self.client.shell_channel.send(message)
        msg_id: str = message["header"]["msg_id"]
        self.pending[msg_id] = CellResult()
        return msg_id

    def wait(self, msg_id: str, timeout: float = 60) -> CellResult:
        deadline = time.monotonic() + timeout
        result = self.pending[msg_id]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell {msg_id} did not finish in {timeout} s")
            self._answer_prompts()
            try:
                message: dict[str, Any] = self.client.get_iopub_msg(timeout=min(remaining, 0.05))
            except queue.Empty:
                continue
            parent = message["parent_header"].get("msg_id")
            if parent not in self.pending:
                continue
            target = self.pending[parent]
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    target.stdout += content["text"]
                else:
                    target.stderr += content["text"]
            elif kind in ("execute_result", "display_data"):
                target.results.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                target.error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                target.finished_at = time.monotonic()
                if parent == msg_id:
                    return result

    def _answer_prompts(self) -> None:
        try:
            request: dict[str, Any] = self.client.get_stdin_msg(timeout=0)
        except queue.Empty:
            return
        self.prompts.append(request["content"]["prompt"])
        self.client.input(self.answers.pop(0) if self.answers else "")

    def run(
        self, code: str, cell_id: str | None = None, timeout: float = 60, answers: list[str] | None = None
    ) -> CellResult:
        return self.wait(self.submit(code, cell_id, answers), timeout)

    def restart(self) -> None:
        self.manager.restart_kernel(now=False)
        self.client.wait_for_ready(timeout=60)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
