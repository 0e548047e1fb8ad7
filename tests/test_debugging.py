"""Replay, diff, the explorer, files and to_pytest, through the public face."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from conftest import payload

from sinch_nb import svaml


def ivr(sn: Any) -> None:
    """A 3-level IVR: keys 1-3 at each level (27 leaves), 0 loops back to the main menu."""

    def menu(prefix: str) -> Any:
        level = svaml.menu("main").prompt(f"Menu {prefix or 'main'}").repeat_prompt("Try again").repeats(1)
        for key in "123":
            level.option(key, f"return({prefix}{key})")
        return level.option("0", "return(back)") if prefix else level

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Welcome").run_menu(menu(""))

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        result = event.menu_result
        if result.type in ("timeout", "invalidinput"):
            return svaml.pie().say(f"{result.type}").hangup()
        if result.value == "back":
            return svaml.pie().run_menu(menu(""))
        if len(result.value) == 3:
            return svaml.pie().say(f"You chose {result.value}").hangup()
        return svaml.pie().run_menu(menu(result.value))


def test_replay_goes_through_the_runtime_and_is_marked(sn: Any) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say(f"Hi {event.cli}").hangup()

    server = sn.start()
    httpx.post(f"{server.url}/ice", json=payload("voice-ice"))
    again = sn.replay(1)
    assert again.status == 200 and again.answer["instructions"][0]["text"] == "Hi cli number"
    edited = sn.replay(1, body={**payload("voice-ice"), "cli": "+46700000000"})
    assert edited.answer["instructions"][0]["text"] == "Hi +46700000000"
    frame = sn.callbacks()
    assert frame.loc[again.record_id, "replay_of"] == 1 and frame.loc[edited.record_id, "cli"] == "+46700000000"
    broken = sn.replay(1, body="{not json")
    assert broken.status == 400


def test_replay_re_signs_when_checks_are_on(sn: Any) -> None:
    sn.configure(application_key="key", application_secret="BeIukql3pTKJ8RGL5zo0DA==")

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().hangup()

    sn.dial("+1555", "+1666")
    assert sn.replay(1).status == 200
    assert sn.callbacks()["signature"].astype(str).tolist() == ["valid", "valid", "valid"]


def test_diff_shows_what_an_edited_handler_changed(sn: Any) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Hello").hangup()

    sn.dial("+1555", "+1666")
    same = sn.diff(1)
    assert not same.changed and "the same answer" in repr(same)

    @sn.ice  # the same function name: the handler is replaced, its version bumped
    def on_ice(context: Any, event: Any) -> Any:  # noqa: F811
        return svaml.ice().say("Welcome back").hangup()

    changed = sn.diff(1)
    assert changed.changed
    assert '-      "text": "Hello"' in repr(changed) and '+      "text": "Welcome back"' in repr(changed)
    assert "<pre" in changed._repr_html_()


def test_the_explorer_finds_every_path_timeouts_invalid_input_and_loops(sn: Any) -> None:
    ivr(sn)
    exploration = sn.explore(max_depth=5)
    paths = exploration.paths()
    finals = dict(zip(paths["path"], paths["final"], strict=True))
    heard = dict(zip(paths["path"], paths["heard"], strict=True))
    chosen = [p for p, h in heard.items() if h.startswith("You chose")]
    assert len(chosen) == 27 and all(finals[p] == "hangup" for p in chosen)
    assert heard["1 → 2 → 3"] == "You chose 123" and heard["3 → 3 → 3"] == "You chose 333"
    assert heard["(timeout)"] == "Try again | timeout" and heard["2 → (timeout)"] == "Try again | timeout"  # R9
    assert heard["(invalid)"] == "Try again | invalidinput" and heard["1 → 2 → (invalid)"] == "Try again | invalidinput"
    assert finals["1 → 0"] == "loop back to the first menu"
    assert finals["1 → 2 → 0"] == "loop back to the first menu"
    assert set(paths["depth"]) == {1, 2, 3}
    assert "Menu 12" in repr(exploration) and "<ul" in exploration.html()
    bundle = exploration._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"].startswith("flowchart TD") and "text/html" not in bundle


def test_the_explorer_explores_in_a_sandbox_and_reports_every_kind_of_leaf(sn: Any) -> None:
    from sinch_nb import get_session

    main = (
        svaml.menu("main")
        .prompt("1 conference, 2 sales, 3 quiet line, 4 text me, 5 PIN")
        .option("1", "return(room)")
        .option("2", "return(sales)")
        .option("3", "return(quiet)")
        .option("4", "return(sms)")
        .option("5", "menu(pin)")
        .option("0", "menu(main)")
    )
    pin = svaml.menu("pin").prompt("Your PIN").max_digits(4)

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        context.cache.set("calls", context.cache.get("calls", 0) + 1)  # stateful: counts callers
        context.storage.write("last-caller.txt", event.cli)
        return svaml.ice().run_menu([main, pin])

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        result = event.menu_result
        if result.type == "sequence":
            return svaml.pie().say(f"PIN {result.value or 'empty'}").hangup()
        if result.value == "room":
            return svaml.pie().connect_conf("room-b")
        if result.value == "sales":
            return svaml.pie().connect_pstn("+15550001111")
        if result.value == "quiet":
            return {"action": {"name": "connectPstn", "number": "+15550002222", "suppressCallbacks": True}}
        if result.value == "sms":
            context.sms.batches.send(to=[event.raw.get("cli", "+1555")], body="Your link")
            return svaml.pie().say("Sent").hangup()
        return svaml.pie().say(result.type).hangup()

    get_session().app.cache.set("calls", 41)
    exploration = sn.explore()
    paths = exploration.paths()
    finals = dict(zip(paths["path"], paths["final"], strict=True))
    sent = dict(zip(paths["path"], paths["would_send"], strict=True))
    assert finals["1"] == "connectConf room-b"  # no ACE: a conference has no callee (R4)
    assert finals["2"] == "connectPstn +15550001111 → ACE continue"
    assert finals["3"] == "connectPstn +15550002222"  # suppressCallbacks: no ACE, no DiCE (R7)
    assert sent["4"].startswith("context.sms.batches.send(to=[") and not sent["1"]
    assert finals["(invalid)"] == "hangup" and finals["0"] == "loop back to the first menu"
    assert {p for p in finals if p.startswith("5 → ")} == {"5 → 1#", "5 → 1234", "5 → *#", "5 → (timeout)"}
    assert get_session().app.cache.get("calls") == 41  # the live cache is untouched ...
    assert not (get_session().settings.base_dir / "storage" / "last-caller.txt").exists()  # ... and so is storage
    assert not get_session().app.sandboxes  # every path's sandbox is gone
    busy = sn.explore(callee="busy").paths()
    assert dict(zip(busy["path"], busy["final"], strict=True))["2"] == "connectPstn +15550001111 → BUSY"


def test_export_and_load_callbacks(sn: Any, tmp_path: Path) -> None:
    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        return svaml.ice().say("Hello").hangup()

    sn.dial("+1555", "+1666")
    for name in ("calls.jsonl", "calls.parquet"):
        written = sn.export_callbacks(tmp_path / name)
        assert written.stat().st_size > 0
    lines = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["ice", "dice"]
    loaded = sn.load_callbacks(tmp_path / "calls.parquet")
    assert loaded["kind"].astype(str).tolist() == ["ice", "dice"]
    assert set(loaded["source"].astype(str)) == {"imported:calls.parquet"}
    assert sn.replay(int(loaded.index[0])).answer["instructions"][0]["text"] == "Hello"


def test_to_pytest_writes_a_test_that_passes_now_and_fails_after_a_change(sn: Any, tmp_path: Path) -> None:
    from sinch_nb import get_session

    get_session().registry.run_module("cell [1]", 'GREETING = "Hello"', "<m>")
    from sinch_nb.functions.cells import compile_cell

    body = "return svaml.ice().say(GREETING).run_menu(svaml.menu('main').prompt('Press 1').option('1', 'return(one)'))"
    get_session().registry.register(
        "ice",
        compile_cell(body, ("context", "event"), "<c>", get_session().registry.namespace),
        "cell [2]",
        source=body,
    )

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        return svaml.pie().say(f"You pressed {event.menu_result.value}").hangup()

    transcript = sn.dial("+1555", "+1666", press=["1"])
    call_id = transcript.attrs["call_id"]
    test_file = sn.to_pytest(call_id, tmp_path / "test_replay_call.py")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    changed = test_file.read_text().replace("You pressed {", "You chose {")  # edit the handler, not the capture
    test_file.write_text(changed)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1 and "1 failed, 2 passed" in run.stdout


def test_a_path_that_does_not_repeat_is_reported_as_diverged(sn: Any) -> None:
    import itertools

    turns = itertools.count()  # state outside the context: the sandbox cannot copy it

    @sn.ice
    def on_ice(context: Any, event: Any) -> Any:
        menu = svaml.menu("main").prompt(f"Turn {next(turns)}").option("1", "return(one)").option("2", "return(two)")
        return svaml.ice().run_menu(menu)

    @sn.pie
    def on_pie(context: Any, event: Any) -> Any:
        return svaml.pie().say(event.menu_result.value).hangup()

    paths = sn.explore().paths()
    assert paths["final"].str.contains("the call was not in the same menu again").all()
    assert paths["final"].tolist()[0] == "diverged: before 1 the call was not in the same menu again"
