"""Run the installed ``sinch`` CLI on an exported project, line by line, and read what it says."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..functions.errors import DeployError

__all__ = ["DeployError", "DeployResult", "deploy_project"]


@dataclass(frozen=True)
class DeployResult:
    """What ``sinch functions deploy`` reported."""

    function_id: str | None
    url: str | None
    status: str | None
    output: list[str]


def _cli() -> str:
    binary = shutil.which("sinch")
    if binary is None:
        raise DeployError("the sinch CLI is not installed: npm install -g @sinch/cli (it needs Node.js 20+)")
    return binary


def deploy_project(
    project: Path,
    *,
    name: str | None = None,
    private: bool = False,
    wait: bool = True,
    on_line: Callable[[str], None] = print,
) -> DeployResult:
    """``sinch functions deploy --non-interactive`` in ``project``, its output passed to ``on_line``."""
    binary = _cli()
    status = subprocess.run([binary, "auth", "status"], capture_output=True, text=True, cwd=project, timeout=60)
    if status.returncode != 0:
        raise DeployError(
            "the sinch CLI is not logged in: run sinch auth login "
            "(or set SINCH_KEY_ID, SINCH_KEY_SECRET and SINCH_PROJECT_ID)"
        )
    command = [binary, "functions", "deploy", "--non-interactive", "--no-docs"]
    command += ["--name", name] if name else []
    command += ["--private"] if private else []
    command += [] if wait else ["--no-wait"]
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line.rstrip())
        on_line(line.rstrip())
    code = process.wait()
    if code == 78:
        raise DeployError("the project has no .env (MISSING_ENV_FILE): %sinch export writes one; fill in its values")
    if code != 0:
        failures = [line for line in output if "Failed to deploy" in line or line.startswith("Error")]
        failure = failures[0] if failures else (output[-1] if output else "")
        raise DeployError(f"sinch functions deploy failed (exit {code}): {failure}")
    text = "\n".join(output)
    url = re.search(r"URL:\s*(\S+)", text)
    state = re.search(r"Status:\s*(\S+)", text)
    match = re.search(r"https://fn-([a-z0-9]+)\.functions\.sinch\.com", text)
    function_id = match.group(1).upper() if match else None
    return DeployResult(function_id, url.group(1) if url else None, state.group(1) if state else None, output)
