"""The deployed Function answers as the notebook did: async handlers, stored data, one run per request, start-up
failures, malformed bodies. Real Node, real Pyodide from npm, the project as ``sn.export`` writes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from sinch_nb import get_session
from sinch_nb.deployment.parity import run_locally
from sinch_nb.functions.answers import DEFAULT_FALLBACK
from sinch_nb.functions.cells import compile_cell


@pytest.fixture
def node_modules(pyodide: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sn.parity finds this machine's Pyodide where a user points SINCH_NB_NODE_MODULES."""
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(pyodide))
    return pyodide


def cell(kind: str, body: str, number: int) -> None:
    """As a %%sinch cell registers its handler."""
    registry = get_session().registry
    function = compile_cell(body, ("context", "event"), f"<sinch {kind} cell [{number}]>", registry.namespace)
    registry.register(kind, function, f"cell [{number}]", source=body)


def module(source: str, number: int) -> None:
    """As a %%sinch module cell runs."""
    get_session().registry.run_module(f"cell [{number}]", source, f"<sinch module cell [{number}]>")


def ice_texts(parity: Any) -> list[str]:
    return [row["function"]["instructions"][0]["text"] for row in parity.rows if row["kind"] == "ice"]


def test_an_async_handler_answers_in_the_function_as_in_the_notebook(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    module("import asyncio", 1)
    cell(
        "ice",
        """await asyncio.sleep(0.01)
count = context.cache.get("count", 0) + 1  # the live cache, after an await
context.cache.set("count", count)
return svaml.ice().say(f"Hello {event.cli}, call {count}").hangup()""",
        2,
    )
    assert get_session().registry.get("ice").is_async  # the cell awaits, so it is an async def
    sn.dial("+15551234567", "+15559876543")
    sn.dial("+15557654321", "+15559876543")

    parity = sn.parity(sn.export(tmp_path / "build", "async").path)

    assert parity.same, repr(parity)
    assert ice_texts(parity) == ["Hello +15551234567, call 1", "Hello +15557654321, call 2"]  # not the fallback


def test_each_handler_runs_once_per_request_and_reads_what_earlier_calls_stored(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    module("RUNS = []", 1)  # a side effect Node cannot undo: a re-run from the start would count twice
    cell(
        "ice",
        """RUNS.append(event.call_id)
context.log.info("run %d", len(RUNS))
before = context.storage.read("last-caller.txt").decode() if context.storage.exists("last-caller.txt") else "nobody"
context.storage.write("last-caller.txt", event.cli)
context.cache.set("count", context.cache.get("count", 0) + 1)
return svaml.ice().say(f"run {len(RUNS)}, count {context.cache.get('count')}, before you {before}").hangup()""",
        2,
    )
    for caller in ("+15550000001", "+15550000002", "+15550000003"):
        sn.dial(caller, "+15559876543")

    parity = sn.parity(sn.export(tmp_path / "build", "once").path)

    assert parity.same, repr(parity)
    assert ice_texts(parity) == [
        "run 1, count 1, before you nobody",
        "run 2, count 2, before you +15550000001",
        "run 3, count 3, before you +15550000002",
    ]
    runs = [log for row in parity.rows for log in row["logs"] if log[1].startswith("run ")]
    assert runs == [["info", "run 1"], ["info", "run 2"], ["info", "run 3"]]  # each handler's log, once


def test_answers_stay_the_same_with_10000_cache_keys_and_1000_stored_objects(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    cell(
        "ice",
        """if not context.storage.exists("items/0999"):
    for n in range(1000):
        context.storage.write(f"items/{n:04}", str(n))
    for n in range(10000):
        context.cache.set(f"key:{n}", n)
item = context.storage.read("items/0420").decode()
items, key = len(context.storage.list("items/")), context.cache.get("key:9999")
return svaml.ice().say(f"{items} items, item {item}, key {key}, {len(context.cache.keys('key:*'))} keys").hangup()""",
        1,
    )
    sn.dial("+15551234567", "+15559876543")
    sn.dial("+15551234567", "+15559876543")

    parity = sn.parity(sn.export(tmp_path / "build", "loaded").path)

    assert parity.same, repr(parity)
    assert ice_texts(parity) == ["1000 items, item 420, key 9999, 10000 keys"] * 2


def test_a_malformed_body_gets_the_notebooks_400_in_the_function(sn: Any, tmp_path: Path, pyodide: Path) -> None:
    cell("ice", "return svaml.ice().hangup()", 1)
    cell("conversation", "context.log.info(event.text)", 2)
    server = sn.start()
    notebook = {
        "ice": httpx.post(f"{server.url}/ice", json=[1, 2]),
        "conversation": httpx.post(f"{server.url}/webhook/conversation", json=["hello"]),
    }
    project = sn.export(tmp_path / "build", "malformed").path

    answers = run_locally(
        project,
        [{"export": "ice", "data": [1, 2]}, {"export": "conversationWebhook", "request": {"body": ["hello"]}}],
        pyodide,
    )

    for (kind, response), answer in zip(notebook.items(), answers, strict=True):
        assert response.status_code == 400, kind
        assert answer["result"] == {"statusCode": 400, "body": response.json()}, kind  # the same status and words


DRIVER = """
import { pathToFileURL } from "node:url";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
const project = process.argv[2];
const { default: voice } = await import(pathToFileURL(join(project, "function.js")).href);
const store = new Map();
let fetches = 0;
const logs = [];
const context = {
  cache: { get: async (k) => store.get(k) ?? null, set: async (k, v) => { store.set(k, v); } },
  log: { info: (m) => logs.push(["info", m]), error: (m) => logs.push(["error", m]) },
  // The first start-up's asset fetch fails (a cold instance, storage briefly unreachable); the next ones work.
  assets: async (name) => {
    if (name === "handlers.json" && fetches++ === 0) throw new Error("asset fetch failed: 503");
    return readFile(join(project, "assets", name), "utf8");
  },
};
const data = { event: "ice", callid: "c1", cli: "+15551234567", to: { type: "number", endpoint: "+15559876543" } };
const answers = [];
for (let n = 0; n < 3; n++) answers.push(await voice.ice(context, data));
console.log(JSON.stringify({ answers, logs, fetches }));
"""


def test_a_failed_start_is_reported_and_retried_on_the_next_request(sn: Any, tmp_path: Path, pyodide: Path) -> None:
    cell("ice", 'return svaml.ice().say("Welcome").hangup()', 1)
    project = sn.export(tmp_path / "build", "flaky").path
    (project / "node_modules").mkdir()
    (project / "node_modules" / "pyodide").symlink_to(pyodide / "pyodide", target_is_directory=True)
    driver = tmp_path / "driver.mjs"
    driver.write_text(DRIVER)

    run = subprocess.run(["node", str(driver), str(project)], capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    first, second, third = out["answers"]
    assert first == DEFAULT_FALLBACK  # what the notebook answers when a handler fails, not a crash
    assert second == third == {"instructions": [{"name": "say", "text": "Welcome"}], "action": {"name": "hangup"}}
    errors = [message for level, message in out["logs"] if level == "error"]
    assert len(errors) == 1 and "asset fetch failed: 503" in errors[0] and "the next request tries again" in errors[0]
    assert out["fetches"] == 2  # started again once, then kept


def test_a_handler_past_its_timeout_gets_the_fallback_and_the_next_call_answers(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    module("import time", 1)
    cell(
        "ice",
        """count = context.cache.get("count", 0) + 1
context.cache.set("count", count)
if count == 2:  # the second call overruns; the first (the Function's cold start) and the third answer at once
    end = time.monotonic() + 6
    while time.monotonic() < end:
        pass
return svaml.ice().say(f"On time {count}").hangup()""",
        2,
    )
    sn.configure(handler_timeout=0.5)
    for _ in range(3):
        sn.dial("+15551234567", "+15559876543")

    parity = sn.parity(sn.export(tmp_path / "build", "slow").path)

    assert parity.same, repr(parity)
    assert ice_texts(parity) == ["On time 1", DEFAULT_FALLBACK["instructions"][0]["text"], "On time 3"]
    _, overrun, after = [row for row in parity.rows if row["kind"] == "ice"]
    assert overrun["ms"] < 4000  # answered at the timeout, not after the handler's 6 s
    assert after["ms"] < 4000  # and Python was interrupted: the next call did not wait for the loop to end
    assert any("took longer than 0.5 s" in message for _, message in overrun["logs"])


def test_context_voice_in_the_function_calls_the_fake_sinch_api_as_the_notebook_did(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    cell(
        "ice",
        """call_id = context.voice.tts_callout("+15557654321", f"{event.cli} is calling", cli="+15550000000")
context.log.info("callout %s", call_id)
return svaml.ice().say("We told the team").hangup()""",
        1,
    )
    sn.dial("+15551234567", "+15559876543")
    platform = get_session().app.platform
    assert len(platform.callouts) == 1  # the notebook's handler placed one on the simulated platform

    parity = sn.parity(sn.export(tmp_path / "build", "clients").path)

    assert parity.same, repr(parity)
    assert len(platform.callouts) == 2  # the Function's, over its own fetch, with the Function's env
    notebook, function = platform.callouts
    assert (
        function.request
        == notebook.request
        == {
            "method": "ttsCallout",
            "ttsCallout": {
                "cli": "+15550000000",
                "destination": {"type": "number", "endpoint": "+15557654321"},
                "locale": "en-US",
                "text": "+15551234567 is calling",
            },
        }
    )
    (logs,) = [row["logs"] for row in parity.rows if row["kind"] == "ice"]
    assert logs == [["info", f"callout {function.call_id}"]]


def test_context_voice_without_credentials_in_the_function_names_the_variables(
    sn: Any, tmp_path: Path, pyodide: Path
) -> None:
    cell("ice", 'context.voice.tts_callout("+15557654321", "hi")\nreturn svaml.ice().hangup()', 1)
    project = sn.export(tmp_path / "build", "nocreds").path
    data = {"event": "ice", "callid": "c1", "cli": "+15551234567", "to": {"type": "number", "endpoint": "+1555"}}

    (answer,) = run_locally(project, [{"export": "ice", "data": data}], pyodide, env={})

    assert answer["result"] == DEFAULT_FALLBACK
    (error,) = [message for level, message in answer["logs"] if level == "error"]
    assert "CredentialsError: context.voice.tts_callout: context.voice has no credentials" in error
    assert "VOICE_APPLICATION_KEY" in error
