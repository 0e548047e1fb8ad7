"""In a real browser: JupyterLab, Debian's headless Chromium driven by Playwright: dial pad, monitor, chat pad.

Needs /usr/bin/chromium (Debian's ``chromium`` package; Playwright's own browser download does
not work on locked-down machines). `.ci/run` installs it and sets SINCH_NB_REQUIRE_BROWSER=1, so
CI fails rather than skips when it is missing. The screenshots land in ``artifacts/``; with
SINCH_NB_UPDATE_SCREENSHOT=1 the JupyterLab one also replaces the README's ``docs/jupyterlab.png``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import nbformat
import pytest
from conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[1]
#: The README's picture: SINCH_NB_UPDATE_SCREENSHOT=1 makes the JupyterLab run write it.
README_SCREENSHOT = ROOT / "docs" / "jupyterlab.png"
README_DIAGRAMS = ROOT / "docs" / "diagrams.png"
#: Every cell rendered (no windowing, so the diagrams below the fold exist), and no "Select Kernel" dialog: when
#: JupyterLab has not yet listed the running session or the kernel specs (under load), it starts the default
#: kernel, and the server hands it the notebook's running session (see ``lab``) rather than asking mid Run All.
TRACKER_SETTINGS = '{"windowingMode": "none", "autoStartDefaultKernel": true}'
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("SINCH_NB_REQUIRE_BROWSER"):
        raise RuntimeError("chromium is required here: apt-get install chromium")
    pytest.skip("no chromium: apt-get install chromium to run the browser tests", allow_module_level=True)

CELLS = [
    "%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml",
    """%%sinch ice
return (svaml.ice().say("Welcome to Sinch Pizza")
        .run_menu(svaml.menu("main").prompt("Press 1 for sales, 2 for support")
                  .option("1", "return(sales)").option("2", "return(support)")))""",
    """%%sinch pie
if event.menu_result.value == "sales":
    return svaml.pie().say("Connecting you to sales").connect_pstn("+15550001111")
return svaml.pie().say("Goodbye").hangup()""",
    "%sinch start",
    "sn.dialpad(timeout=60)",
    "sn.monitor()",
    'sn.dial("+15557654321", "+15559876543", press=["2"]).timeline()',  # a call drawn as a sequence diagram
    "sn.explore()",  # the explorer's tree drawn as a flowchart (its traffic stays out of the monitor)
    """%%sinch conversation
if event.trigger == "MESSAGE_INBOUND":
    context.conversation.messages.send_text_message(
        app_id=event.app_id, text=f"Thanks! You wrote: {event.text}",
        recipient_identities=[{"channel": event.channel, "identity": event.identity}])""",
    "sn.chatpad()",  # used after the monitor's checks: its messages are callbacks too
]
#: The cells whose outputs are diagrams.
TIMELINE = next(i for i, cell in enumerate(CELLS) if cell.endswith(".timeline()"))
EXPLORER = CELLS.index("sn.explore()")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    work, jupyter = tmp_path / "work", tmp_path / "jupyter"  # the file browser shows only the notebook
    work.mkdir()
    nbformat.write(notebook, work / "quickstart.ipynb")
    settings = jupyter / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no news toast
    tracker = jupyter / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(TRACKER_SETTINGS)
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "settings"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/status?token={token}", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    # The notebook's kernel runs before the page opens, as when a user reopens a notebook: JupyterLab then connects
    # once. Left to start a new kernel itself, under load it could open a second connection to the kernel before
    # dropping the first, and a second connection does not handle comms (@jupyterlab/services'
    # KernelManager.connectTo), so every widget showed "model not found".
    notebook = "quickstart.ipynb"
    session = {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}}
    httpx.post(f"{url}/api/sessions?token={token}", json=session, timeout=60).raise_for_status()
    yield url, token
    server.terminate()
    server.wait(20)


@pytest.mark.parametrize("frontend", ["lab/tree", "notebooks"], ids=["jupyterlab-4", "notebook-7"])
def test_dialpad_and_monitor_in_the_browser(lab: tuple[str, str], frontend: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1450})
        try:
            page.goto(f"{url}/{frontend}/quickstart.ipynb?token={token}")
            page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(
                timeout=60_000
            )
            first_prompt = page.locator(".jp-InputArea-prompt").first
            for _ in range(6):  # "Run All" is a no-op until the kernel session is connected: retry
                select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
                try:
                    if select.count() and select.is_visible():  # JupyterLab sometimes asks which kernel to start
                        select.click(timeout=5_000)
                    page.get_by_role("menuitem", name="Run", exact=True).click(timeout=5_000)
                    page.get_by_text("Run All Cells", exact=True).click(timeout=5_000)
                    expect(first_prompt).to_contain_text("[1]", timeout=15_000)
                    break
                except (AssertionError, PlaywrightTimeout):
                    page.keyboard.press("Escape")  # close a half-open menu before the next try
            run_the_rest(page)
            dialpad = page.locator(".sinch-nb-dialpad")
            dialpad.wait_for(timeout=90_000)
            dialpad.get_by_role("button", name="Call").click()
            expect(dialpad).to_contain_text("Welcome to Sinch Pizza", timeout=30_000)
            expect(dialpad).to_contain_text("Press 1 for sales, 2 for support")
            dialpad.get_by_role("button", name="1", exact=True).click()
            expect(dialpad).to_contain_text("Connecting you to sales", timeout=30_000)
            dialpad.get_by_role("button", name="Hang up").click()
            expect(dialpad).to_contain_text("CALLERHANGUP", timeout=30_000)
            monitor = page.locator(".sinch-nb-monitor")
            rows = monitor.locator(".sinch-nb-table tbody tr")
            expect(rows.first).to_contain_text("dice", timeout=30_000)  # newest first
            expect(rows).to_have_count(7)  # the timeline cell's call (3) and the dial pad's (4); not the explorer's
            expect(monitor).to_contain_text("7 callbacks")
            check_monitor_table(monitor)
            check_diagrams(page, drawn=frontend == "lab/tree")
            drawn = artifacts / f"diagrams-{frontend.split('/')[0]}.png"
            page.screenshot(path=str(drawn))
            if frontend == "lab/tree" and os.environ.get("SINCH_NB_UPDATE_SCREENSHOT"):
                shutil.copy(drawn, README_DIAGRAMS)
            monitor.screenshot(path=str(artifacts / f"monitor-table-{frontend.split('/')[0]}.png"))
            page.locator(".jp-Cell").first.scroll_into_view_if_needed()  # the picture: cells, dial pad, monitor
            shot = artifacts / f"browser-{frontend.split('/')[0]}.png"
            page.screenshot(path=str(shot), full_page=True)
            if frontend == "lab/tree" and os.environ.get("SINCH_NB_UPDATE_SCREENSHOT"):
                shutil.copy(shot, README_SCREENSHOT)
            check_chatpad(page, artifacts / f"chatpad-{frontend.split('/')[0]}.png")
        except Exception:
            page.screenshot(path=str(artifacts / "browser-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def run_the_rest(page: Page) -> None:
    """Run any cell Run All left behind (under load JupyterLab can run cell 1 and drop the queue when the
    kernel session settles), from the first unrun one down, never a cell twice."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    prompts = page.locator(".jp-Cell.jp-CodeCell .jp-InputArea-prompt")
    last = prompts.nth(len(CELLS) - 1)
    for _ in range(4):
        try:
            expect(last).to_contain_text(re.compile(r"\[[\d*]+\]"), timeout=30_000)  # running or run
            return
        except AssertionError:
            pass
        texts = prompts.all_inner_texts()
        unrun = next((i for i, text in enumerate(texts) if not re.search(r"\[[\d*]+\]", text)), None)
        if unrun is None:
            return
        prompts.nth(unrun).click()
        try:
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=5_000)
            page.get_by_text("Run Selected Cell and All Below", exact=True).click(timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")


def check_diagrams(page: Page, *, drawn: bool) -> None:
    """The timeline and the explorer's tree: drawn from ``text/vnd.mermaid`` by JupyterLab, as text elsewhere."""
    from playwright.sync_api import expect

    cells = page.locator(".jp-Cell")
    cells.nth(EXPLORER).scroll_into_view_if_needed()
    diagrams = page.locator(".jp-RenderedMermaid:not(.jp-mod-warning) img")  # drawn, not a parse error
    if not drawn:  # Notebook 7 has no Mermaid renderer: the same outputs as text
        expect(cells.nth(TIMELINE)).to_contain_text("disconnect", timeout=30_000)
        expect(cells.nth(EXPLORER)).to_contain_text("⇒ menu main")
        expect(diagrams).to_have_count(0)
        return
    expect(diagrams).to_have_count(2, timeout=30_000)
    sources = [image.get_attribute("src") or "" for image in diagrams.all()]
    assert all(src.startswith("data:image/svg+xml") for src in sources), [src[:40] for src in sources]
    diagrams.last.scroll_into_view_if_needed()


def check_monitor_table(monitor: Locator) -> None:
    """A header click sorts (twice: the other way), a row click selects the row and shows its detail."""
    from playwright.sync_api import expect

    rows = monitor.locator(".sinch-nb-table tbody tr")
    kind = monitor.locator(".sinch-nb-table tbody td:nth-child(3)")
    kinds = kind.all_inner_texts()
    header = monitor.locator(".sinch-nb-table th", has_text="kind")
    header.get_by_role("button").click()
    expect(kind).to_have_text(sorted(kinds))  # sorted by the runtime, over the journal
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("button").click()
    expect(kind).to_have_text(sorted(kinds, reverse=True))
    expect(header).to_have_attribute("aria-sort", "descending")
    number = monitor.locator(".sinch-nb-table th").first.get_by_role("button")
    number.click()  # "#": oldest first; again: newest first, as it opened
    expect(rows.first.locator("td").first).to_have_text("1")
    number.click()
    expect(rows.first).to_contain_text("dice")
    ice = rows.filter(has=monitor.page.locator("td:nth-child(3)", has_text=re.compile(r"^ice$"))).first
    ice.click()
    expect(ice).to_have_attribute("aria-selected", "true")
    expect(monitor.locator(".sinch-nb-table tbody tr[aria-selected='true']")).to_have_count(1)  # and only it
    expect(monitor).to_contain_text("Request body")
    expect(monitor).to_contain_text("POST / → 200")  # one callback URL, as a Voice App has
    call = ice.locator("td:nth-child(4)")
    full_id = call.get_attribute("title") or ""
    assert len(full_id) > len(call.inner_text().rstrip("…"))  # the short id, the full one on hover
    expect(monitor.locator(".widget-html", has_text="Request body")).to_contain_text(f"call {full_id}")


def check_chatpad(page: Page, shot: Path) -> None:
    """Type, Send: the contact's bubble, the app's reply, its delivered ticks (SMS: ✓✓, never read), the thread."""
    from playwright.sync_api import expect

    chatpad = page.locator(".sinch-nb-chatpad")
    chatpad.scroll_into_view_if_needed()
    chatpad.get_by_placeholder("Message").fill("Are you open on Saturday?")
    chatpad.get_by_role("button", name="Send").click()
    reply = chatpad.locator(".sinch-nb-bubble.sinch-nb-app")
    expect(reply).to_contain_text("Thanks! You wrote: Are you open on Saturday?", timeout=30_000)
    expect(chatpad.locator(".sinch-nb-bubble.sinch-nb-contact")).to_have_count(1)
    expect(chatpad.locator(".sinch-nb-bubble.sinch-nb-contact")).to_contain_text("Are you open on Saturday?")
    ticks = reply.locator(".sinch-nb-ticks")
    expect(ticks).to_have_attribute("data-status", "DELIVERED", timeout=30_000)
    expect(ticks).to_have_text("✓✓")
    expect(chatpad.get_by_role("option", name=re.compile(r"^\+15551234567 · SMS"))).to_have_count(1)  # the thread
    expect(chatpad).to_contain_text("answered with 1 message")
    expect(chatpad.get_by_placeholder("Message")).to_have_value("")
    chatpad.screenshot(path=str(shot))
