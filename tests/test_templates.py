"""Templates: ``sn.templates()`` lists them, ``%sinch new`` writes one, and what it writes runs clean offline."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest
from kernel import Kernel
from nbclient import NotebookClient

import sinch_nb
from sinch_nb.notebook import templates as room
from sinch_nb.platform.credentials import KNOWN_NAMES

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "sinch_nb" / "notebook" / "template_notebooks"
NAMES = ["call-forwarding", "simple-voice-ivr", "sms-responder"]

#: Appended to each written notebook: what a run of it must have done (the last cell prints "checks passed").
CHECKS = {
    "simple-voice-ivr": """
frame = sn.callbacks()
assert frame["kind"].astype(str).tolist() == ["ice", "pie", "dice"] * 2, frame
assert frame["menu_result_value"].dropna().tolist() == ["hours", "5550123"], frame
assert (frame["status"] == 200).all() and (frame["outcome"] == "ok").all(), frame
assert sn.calls()["result"].astype(str).tolist() == ["ANSWERED", "ANSWERED"]
""",
    "sms-responder": """
frame = sn.callbacks(kind="conversation")
assert frame["trigger"].astype(str).tolist() == ["MESSAGE_INBOUND", "MESSAGE_DELIVERY", "MESSAGE_DELIVERY"] * 2, frame
assert (frame["status"] == 200).all() and (frame["outcome"] == "ok").all(), frame
assert sn.callbacks(kind="outbound")["outcome"].astype(str).tolist() == ["accepted"] * 2
""",
    "call-forwarding": """
frame = sn.callbacks()
assert frame["kind"].astype(str).tolist() == ["ice", "ace", "dice"], frame
assert frame["svaml_action"].astype(str).tolist()[:2] == ["connectPstn", "continue"], frame
assert (frame["status"] == 200).all() and (frame["outcome"] == "ok").all(), frame
""",
}
#: What each run must show: the call answered the way the template says, or the reply chosen.
SHOWN = {
    "simple-voice-ivr": [
        "Welcome to Acme.",
        "We are open from 9 to 5",
        "Type your phone number, then the hash key.",
        "MANAGERHANGUP, ANSWERED",
    ],
    "sms-responder": [
        "contact: What are your opening hours?\napp: We are open from 9 to 5, Monday to Friday.\n"
        "sinch: QUEUED_ON_CHANNEL\nsinch: DELIVERED",
        "contact: hello\napp: Thanks for your message!",
    ],
    "call-forwarding": [
        "calls are forwarded to +15557654321",  # FORWARD_NUMBER from the environment, not the default
        "connects the caller to +15557654321",
        "ice: forwarding +15551234567 to +15557654321",
        "ace: call ",
        "the forwarded phone answered",
        "ended: CALLERHANGUP, ANSWERED",
    ],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A real kernel ran ``%sinch new NAME`` for every template in an empty folder: the folder, what each printed."""
    folder = tmp_path_factory.mktemp("new")
    kernel = Kernel(folder)
    try:
        assert kernel.run("%load_ext sinch_nb").error is None
        printed = {}
        for name in NAMES:
            cell = kernel.run(f"%sinch new {name}")
            assert cell.error is None and not cell.stderr, cell.stderr
            printed[name] = cell.stdout
        yield folder, printed
    finally:
        kernel.shutdown()


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [output for cell in notebook.cells for output in cell.get("outputs", [])]


def shown(notebook: nbformat.NotebookNode) -> str:
    """Everything the run printed or displayed as text."""
    parts = []
    for output in outputs(notebook):
        text = output.get("text", "")
        data = output.get("data", {})
        parts.append(str(text) + str(data.get("text/plain", "") if isinstance(data, dict) else ""))
    return "".join(parts)


def test_templates_lists_each_starting_point_with_what_it_does_and_its_handlers() -> None:
    listed = sinch_nb.templates()
    assert [t.name for t in listed] == NAMES
    handlers = {t.name: t.handlers for t in listed}
    assert handlers == {
        "call-forwarding": ("ice", "ace", "dice"),
        "simple-voice-ivr": ("ice", "pie", "dice"),
        "sms-responder": ("conversation",),
    }
    assert listed["simple-voice-ivr"].summary.startswith("Voice menu (IVR): ")
    text = repr(listed)
    assert text.splitlines()[0].split() == ["template", "what", "it", "does", "handlers"]
    assert "sms-responder     SMS responder: " in text
    assert "  ice, pie, dice" in text
    assert "%sinch new TEMPLATE [PATH]" in text
    assert max(len(line) for line in text.splitlines()) <= 120  # a terminal's width
    page = listed._repr_html_()
    assert page.count("<tr>") == 1 + len(NAMES)
    assert "<td style='text-align:left'>call-forwarding</td>" in page


@pytest.mark.parametrize("name", NAMES)
def test_a_notebook_written_by_percent_sinch_new_runs_clean_under_nbclient(
    name: str, written: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, printed = written
    path = folder / f"{name}.ipynb"
    assert printed[name].splitlines() == [
        f"wrote {name}.ipynb from the {name} template",
        f"next: open {name}.ipynb in Jupyter and run all cells, or in a terminal: python -m sinch_nb demo {name}.ipynb",
    ]
    assert path.read_bytes() == (FOLDER / f"{name}.ipynb").read_bytes()
    # Offline, with no Sinch credentials anywhere: not in the environment, no keychain, no .env.
    for variable in (*KNOWN_NAMES, "FORWARD_NUMBER"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    if name == "call-forwarding":
        monkeypatch.setenv("FORWARD_NUMBER", "+15557654321")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell(CHECKS[name] + 'assert not sn.last_error()\nprint("checks passed")')
    )
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources).execute()
    assert [o for o in outputs(notebook) if o.get("output_type") == "error"] == []
    assert [o.get("text") for o in outputs(notebook) if o.get("name") == "stderr"] == []  # no warnings either
    text = shown(notebook)
    assert "Traceback" not in text
    for expected in SHOWN[name]:
        assert expected in text, expected
    assert "checks passed" in text


def test_percent_sinch_new_refuses_to_overwrite_and_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "mine.ipynb").write_text("my own work")
    kernel = Kernel(tmp_path)
    try:
        assert kernel.run("%load_ext sinch_nb").error is None
        refused = kernel.run("%sinch new sms-responder mine.ipynb")
        assert "UsageError: mine.ipynb exists already" in refused.stderr
        assert "another PATH" in refused.stderr and "--force" in refused.stderr
        assert (tmp_path / "mine.ipynb").read_text() == "my own work"
        forced = kernel.run("%sinch new sms-responder mine --force")  # .ipynb added
        assert forced.stdout.startswith("wrote mine.ipynb from the sms-responder template")
        assert (tmp_path / "mine.ipynb").read_bytes() == (FOLDER / "sms-responder.ipynb").read_bytes()
        unknown = kernel.run("%sinch new voice-ivr")
        assert "UsageError: no template 'voice-ivr'; the templates are " + ", ".join(NAMES) in unknown.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.ipynb"]  # nothing else written
    finally:
        kernel.shutdown()


def test_sn_new_raises_the_errors_of_the_tree_and_picks_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sinch_nb.new("simple-voice-ivr") == Path("simple-voice-ivr.ipynb")
    with pytest.raises(sinch_nb.NotebookExistsError, match="--force") as refused:
        sinch_nb.new("call-forwarding", "simple-voice-ivr.ipynb")
    assert isinstance(refused.value, FileExistsError)
    assert (
        sinch_nb.new("call-forwarding", "simple-voice-ivr.ipynb", force=True).read_bytes()
        == (FOLDER / "call-forwarding.ipynb").read_bytes()
    )
    (tmp_path / "apps").mkdir()
    assert sinch_nb.new("sms-responder", "apps") == Path("apps/sms-responder.ipynb")
    assert sinch_nb.new("sms-responder", "new/folder/") == Path("new/folder/sms-responder.ipynb")
    assert sinch_nb.new("sms-responder", tmp_path / "deep" / "reply") == tmp_path / "deep" / "reply.ipynb"
    assert (tmp_path / "new" / "folder" / "sms-responder.ipynb").is_file()
    with pytest.raises(sinch_nb.TemplateNotFoundError) as unknown:
        sinch_nb.new("ivr")
    assert unknown.value.known == NAMES and isinstance(unknown.value, LookupError)
    with pytest.raises(sinch_nb.TemplateNotFoundError):
        sinch_nb.templates()["ivr"]


def test_every_template_is_a_ready_to_run_notebook_saved_without_outputs() -> None:
    """Each has an intro saying what it does and what to change, handlers, %sinch start, traffic, sn.callbacks()."""
    assert sorted(p.stem for p in FOLDER.glob("*.ipynb")) == NAMES == room.names()
    for path in FOLDER.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        cells = notebook.cells
        assert all(not c.get("outputs") and not c.get("execution_count") for c in cells), f"{path.name} has outputs"
        intro = cells[0]
        assert intro.cell_type == "markdown" and intro.source.startswith("# ")
        assert f"%sinch new {path.stem}" in intro.source and "**Make it yours**" in intro.source
        code = [c.source for c in cells if c.cell_type == "code"]
        assert code[0].startswith("%load_ext sinch_nb\n")
        assert any(s.startswith("%%sinch ") for s in code)
        assert "%sinch start" in code
        assert any("sn.dial(" in s or "sn.text(" in s for s in code)
        assert any(s.startswith("sn.callbacks(") for s in code)


def test_the_package_data_ships_every_template() -> None:
    """A wheel holds what pyproject's package-data names: every template file must match it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["sinch_nb.notebook"]
    for path in FOLDER.glob("*.ipynb"):
        relative = path.relative_to(ROOT / "sinch_nb" / "notebook").as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative
