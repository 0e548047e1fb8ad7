"""Every ```python block of the README runs, in order, as cells of one real kernel.

What the blocks reach is faked as everywhere in these tests: the ngrok agent and the `sinch`
CLI (tests/fakes on PATH), Sinch's APIs (FakeSinch on loopback), the keychain (a file), and
the two secrets the going-live block prompts for. ```bash blocks are the `./dev` commands
CI itself runs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.sinch_api import FakeSinch
from kernel import Kernel

from sinch_nb.runtime.server import Server

TESTS = Path(__file__).resolve().parent
README = TESTS.parent / "README.md"
KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="


def python_blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)]


@pytest.fixture
def sinch() -> Iterator[str]:
    fake = FakeSinch(KEY, SECRET, callbacks={"primary": "https://old.example/cb"})
    server = Server(fake.app())
    server.start()
    yield server.url
    server.stop()


def test_every_python_block_of_the_readme_runs(tmp_path: Path, sinch: str, pyodide: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 7 and blocks[0].startswith("%load_ext sinch_nb")
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{TESTS / 'fakes'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": f"{TESTS}{os.pathsep}{TESTS.parent}",  # this tree, even where another is installed
        "PYTHON_KEYRING_BACKEND": "fakes.file_keyring.FileKeyring",
        "SINCH_NB_TEST_KEYRING": str(tmp_path / "keychain.json"),
        "SINCH_NB_NODE_MODULES": str(pyodide),
        "VOICE_APPLICATION_KEY": KEY,
        "PROJECT_ID": "project-1",
        "PROJECT_ID_API_KEY": "key-id",
        "PROJECT_ID_API_SECRET": "key-secret",
        "FAKE_SINCH_LOGGED_IN": "1",
        **dict.fromkeys(("SINCH_VOICE_MANAGEMENT_URL", "SINCH_AUTH_URL", "SINCH_FUNCTIONS_URL"), sinch),
    }
    kernel = Kernel(tmp_path, env=env)
    shown = []
    try:
        for number, block in enumerate(blocks):
            answers = [SECRET, "test-token"] if "%sinch secrets add" in block else None
            result = kernel.run(block, cell_id=f"readme-{number}", timeout=180, answers=answers)
            failed = result.error or ("Error" in result.stderr and result.stderr)  # a UsageError only prints
            assert not failed, f"README block {number + 1}:\n{block}\n\n{failed}"
            shown.append(result.text)
        probe = kernel.run(
            "import json, pathlib\n"
            "print(sorted(set(sn.callbacks()['svaml_action'].dropna().astype(str))))\n"
            "print(json.loads(pathlib.Path('build/my-ivr/sinch.json').read_text()).get('functionId'))\n"
            "v2 = sn.callbacks()[sn.callbacks()['kind'].astype(str).str.startswith('call.')]\n"
            "print(json.dumps(list(zip(v2['kind'].astype(str), v2['menu_result_value'].fillna('')))))"
        )
    finally:
        kernel.shutdown()
    text = "\n".join(shown)
    assert "runtime at http://127.0.0.1:8765" in text  # the quickstart's start
    assert "Public URL http" in text and "callback now points here" in text  # going live
    assert "callback restored to https://old.example/cb" in text  # ... and back
    assert "my-ivr: " in text and "answered alike, the same answers" in text  # the parity check
    assert "Would deploy my-ivr" in text  # the dry run
    actions, function_id, v2 = probe.stdout.splitlines()
    assert {"runMenu", "connectPstn", "hangup"} <= set(json.loads(actions.replace("'", '"')))  # calls answered
    assert function_id not in ("", "None")  # the deploy kept the functionId the CLI wrote
    assert json.loads(v2) == [["call.incoming", ""], ["call.webhook.pin", "1234"], ["call.hangup", ""]]  # Voice API v2
