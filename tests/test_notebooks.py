"""Every notebook in notebooks/ runs top to bottom in a real kernel, offline, in a fresh folder."""

from __future__ import annotations

import html
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").rglob("*.ipynb"))
#: Notebooks with a step that needs Sinch's cloud: offline, each says so and skips.
CLOUD_STEPS = {"04-going-live": 1, "05-deploy": 2}


def run(path: Path, folder: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(folder)}}
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources=resources).execute()
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pyodide: Path) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if "fakes" not in p))
    for name in ("PROJECT_ID", "PROJECT_ID_API_KEY", "PROJECT_ID_API_SECRET", "CONVERSATION_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # nothing lands in the real ~/.cache
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(pyodide))  # 05-deploy's parity check: no npm install
    notebook = run(path, tmp_path)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    text = printed(notebook)
    assert "Traceback" not in text
    warned = [o["text"] for c in notebook.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not [w for w in warned if "Warning" in w], "a tutorial raises no warning a newcomer must explain away"
    assert text.count("Skipped:") == CLOUD_STEPS.get(path.stem, 0), "a cloud step must say it skipped"
    if path.stem == "05-deploy":
        shown = "".join(
            str(o.get("data", {}).get("text/plain", "")) for c in notebook.cells for o in c.get("outputs", [])
        )
        assert "caller-counter: 2 of 2 callbacks answered alike, the same answers" in shown


def notebook_path(stem: str) -> Path:
    return next(p for p in NOTEBOOKS if p.stem == stem)


def test_the_debugging_notebook_shows_the_edit_and_writes_a_test(tmp_path: Path) -> None:
    notebook = run(notebook_path("03-debugging"), tmp_path)
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for c in notebook.cells for o in c.get("outputs", []))
    assert '+      "text": "Thanks for calling Acme, goodbye"' in shown
    generated = (tmp_path / "build" / "tests_generated" / "test_support_call.py").read_text()
    assert '\\"value\\": \\"support\\"' in generated or '"value": "support"' in generated  # the support call
    assert "+15551234567" in generated and "+15550000001" not in generated  # not the explorer's last call
    assert (tmp_path / "build" / "captured" / "calls.jsonl").read_text().count("\n") >= 4


def test_the_sms_notebook_shows_the_whole_loop(tmp_path: Path) -> None:
    notebook = run(notebook_path("02-sms-responder"), tmp_path)
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for c in notebook.cells for o in c.get("outputs", []))
    shown = html.unescape(shown)
    assert "Thanks for your message: 'Are you open on Saturday?'" in shown  # the reply, sent through the SDK
    assert "DELIVERED" in shown and "READ" in shown and "1 SMS part, GSM-7" in shown
    assert "is None" not in "".join(c.source for c in notebook.cells)


def test_06_the_voice_v2_notebook_explores_every_path_and_journals_the_events(tmp_path: Path) -> None:
    notebook = run(notebook_path("06-voice-v2"), tmp_path)
    plain = "".join(str(o.get("data", {}).get("text/plain", "")) for c in notebook.cells for o in c.get("outputs", []))
    shown = html.unescape(
        "".join(str(o.get("data", {}).get("text/html", "")) for c in notebook.cells for o in c.get("outputs", []))
    )
    assert "+15550001111: busy" in plain  # callee="busy"
    assert "1 — Connecting you to sales ⇒ dial +15550001111 → answered" in plain  # the explorer's tree
    assert "2 — Goodbye ⇒ hangup" in plain
    assert "1234 — Thank you, checking your PIN | Your balance is 42 dollars ⇒ hangup" in plain  # regex, webhook
    assert "(timeout) — " in plain and "Sorry, I did not get that. Goodbye ⇒ hangup" in plain  # on_fail
    assert "loop back" not in plain  # one key in a menu that collects four is taken at the input timeout
    for kind in ("call.incoming", "call.webhook.pin", "call.hangup"):
        assert f">{kind}<" in shown  # sn.callbacks(): kind is the event's name
    assert "CALLER_HANGUP" in shown and "MANAGER_HANGUP" in shown  # sn.calls() folds the v2 ends
    assert "ended: MANAGER_HANGUP (COMPLETED)" in plain  # what the completed cell logged
    assert "build/ivr-v2" in plain or "ivr-v2" in plain  # %sinch export wrote the Function
    assert "ivr-v2: " in plain and "the same answers" in plain, plain[-2000:]  # parity under Node + Pyodide
