"""Voice API v2 deployed (issue 18, item 8): v2 handlers export as ``voiceWebhook`` in the ``onCall`` shape,
the Function answers v2 events as the notebook did (under Node with Pyodide), failures and 204s alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import MemoryHost
from test_v2_runtime import cloud_headers, fixture

from sinch_nb import get_session
from sinch_nb.deployment.export import ExportError
from sinch_nb.functions.bridge import Bridge
from sinch_nb.functions.call_answers import FALLBACK_V2
from sinch_nb.functions.cells import cell_parameters, compile_cell

INCOMING = """count = context.cache.get("calls", 0) + 1
context.cache.set("calls", count)
context.log.info("call %s from %s", call.call_id, call.from_.number)
return (builder.answer()
        .say(f"{GREETING}, caller {count}", voice="Emma")
        .menu("main", lambda m: m.prompt("Press 1 for sales, 2 for support")
                                 .option("1", lambda b: b.webhook("menu-selection"))
                                 .option("2", lambda b: b.say("Bye").hangup())))"""
WEBHOOK = """choice = call.menu.input if call.menu is not None else "nothing"
return builder.say(f"You chose {choice} on {request.path}").hangup()"""
COMPLETED = 'context.log.info("call %s ended: %s", call.call_id, call.call_reason)'
MANAGE = 'return {"commands": [{"command": "hangup"}]}'
ANSWERED = "return builder.say(str(1 / 0))"  # fails: a live event, so the v2 fallback


def other_events(context: Any, call: Any, builder: Any) -> None:
    """A plain function (three parameters) in the fallback slot: nothing to say, so 204."""
    context.log.info("other event %s", call.event)


def cell(kind: str, body: str, number: int, key: str | None = None) -> None:
    registry = get_session().registry
    function = compile_cell(body, cell_parameters(kind), f"<sinch {key or kind} cell [{number}]>", registry.namespace)
    registry.register(kind, function, f"cell [{number}]", key=key, source=body)


def v2_notebook(sn: Any) -> None:
    get_session().registry.run_module("cell [1]", 'GREETING = "Welcome"', "<sinch module cell [1]>")
    cell("incoming", INCOMING, 2)
    cell("webhook", WEBHOOK, 3, key="webhook menu-selection")
    cell("completed", COMPLETED, 4)
    cell("manage", MANAGE, 5)
    cell("answered", ANSWERED, 6)
    sn.on_call(fallback=other_events)


#: Real v2 traffic: each fixture body to the route it arrives on; together they reach every slot.
TRAFFIC = [
    ("v2-call.incoming.oas", "/"),
    ("v2-call.incoming.node-sdk", "/webhook/voice"),
    ("v2-call.webhook.menu-selection.oas", "/"),  # webhooks["menu-selection"]
    ("v2-call.webhook.menu-selection.node-sdk", "/webhook/voice"),
    ("v2-call.webhook.on-answer.java-sdk", "/"),  # no handler of that name: manage
    ("v2-call.menu.java-sdk", "/"),  # manage
    ("v2-call.answered.oas", "/"),  # answered fails: the fallback
    ("v2-call.busy.oas", "/"),  # fallback slot, nothing: 204
    ("v2-call.hangup.oas", "/"),  # completed: 204
    ("v2-call.failed.oas", "/webhook/voice"),  # completed: 204
]


def post_traffic(url: str) -> list[httpx.Response]:
    """The fixtures posted to the notebook runtime as Sinch posts them: CloudEvent headers, binary mode."""
    responses = []
    for name, path in TRAFFIC:
        body = fixture(name)["body"]
        responses.append(httpx.post(url + path, content=json.dumps(body), headers=cloud_headers(body)))
    return responses


def journal_rows() -> list[dict[str, Any]]:
    journal = get_session().journal
    return [dict(row) for row in journal.rows("WHERE session = ?", (journal.session,))]


@pytest.fixture
def node_modules(pyodide: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SINCH_NB_NODE_MODULES", str(pyodide))
    return pyodide


def test_v2_handlers_export_as_voice_webhook_in_the_oncall_shape(sn: Any, tmp_path: Path) -> None:
    v2_notebook(sn)
    cell("ice", "return svaml.ice().hangup()", 9)  # v1 beside v2: both exported
    project = sn.export(tmp_path / "build" / "ivr-v2", "ivr-v2")
    entry = (project.path / "function.js").read_text()
    assert (
        'export const voiceWebhook = onCall({ incoming: callSlot("incoming"), answered: callSlot("answered"), '
        'manage: callSlot("manage"), completed: callSlot("completed"), fallback: callSlot("fallback"), '
        'webhooks: { "menu-selection": callSlot("webhook menu-selection") } });'
    ) in entry
    assert "export default { ice, voiceWebhook };" in entry
    imports = [line for line in entry.splitlines() if line.startswith("import ")]
    assert imports and all(' from "node:' in line for line in imports), imports  # nothing from the Functions runtime
    assert project.exports["voiceWebhook"] == [
        "incoming",
        "answered",
        "manage",
        "completed",
        "webhook menu-selection",
        "fallback",
    ]
    env = (project.path / ".env").read_text().splitlines()
    assert "VOICE_SERVICE_ID=" in env and "VOICE_SERVICE_SECRET=" in env  # the v2 marker, to fill before deploying
    readme = (project.path / "README.md").read_text()
    assert "| `webhook menu-selection` | `voiceWebhook` | cell [3] |" in readme
    shipped = project.path / "assets" / "sinch_nb" / "functions"
    assert (shipped / "call_answers.py").is_file() and (shipped / "commands.py").is_file()


def test_a_v1_only_export_declares_no_voice_service(sn: Any, tmp_path: Path) -> None:
    cell("ice", "return svaml.ice().hangup()", 1)
    project = sn.export(tmp_path / "v1", "v1")
    assert "VOICE_SERVICE_ID" not in (project.path / ".env").read_text()
    assert "export const voiceWebhook" not in (project.path / "function.js").read_text()
    assert "voiceWebhook" not in project.exports


def test_a_custom_endpoint_named_like_the_v2_export_is_refused(sn: Any, tmp_path: Path) -> None:
    v2_notebook(sn)
    cell("http", "return {'ok': True}", 7, key="GET /api/voiceWebhook")
    with pytest.raises(ExportError, match=r"GET /api/voiceWebhook ends in /voiceWebhook"):
        sn.export(tmp_path / "x", "x")


def test_the_bridge_gives_the_notebooks_answer_bytes_for_each_v2_event(sn: Any, tmp_path: Path) -> None:
    """In CPython, the exported bridge on each journaled v2 request: the same status and the same bytes."""
    v2_notebook(sn)
    responses = post_traffic(sn.start().url)
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 204, 204, 204]
    project = sn.export(tmp_path / "build", "bytes").path
    bridge = Bridge.from_json((project / "assets" / "handlers.json").read_text(), MemoryHost())
    rows = journal_rows()
    assert [row["kind"] for row in rows] == [json.loads(r.request.content)["event"] for r in responses]
    for row, response in zip(rows, responses, strict=True):
        request = {
            "kind": "call",
            "method": row["method"],
            "path": row["path"],
            "headers": json.loads(row["request_headers"]),
            "body": row["request_body"],
        }
        out = json.loads(str(bridge.handle(json.dumps(request))))  # the host keeps the cache between calls
        assert out["status"] == response.status_code, row["kind"]
        assert out["body"].encode() == response.content, row["kind"]  # byte for byte
    fallback = rows[[name for name, _ in TRAFFIC].index("v2-call.answered.oas")]
    assert json.loads(fallback["response_body"]) == FALLBACK_V2 and str(fallback["outcome"]) == "fallback"


def test_the_exported_function_answers_v2_events_as_the_notebook_did(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    v2_notebook(sn)
    url = sn.start().url
    post_traffic(url)
    project = sn.export(tmp_path / "build", "parity-v2").path

    parity = sn.parity(project)

    assert parity.same, repr(parity)
    assert [row["kind"] for row in parity.rows] == [fixture(name)["body"]["event"] for name, _ in TRAFFIC]
    counts = parity.by_kind()
    assert counts.index.tolist() == [  # the OAS's event order, then the named webhooks
        "call.incoming",
        "call.answered",
        "call.busy",
        "call.hangup",
        "call.failed",
        "call.menu",
        "call.webhook.menu-selection",
        "call.webhook.on-answer",
    ]
    assert counts["compared"].tolist() == [2, 1, 1, 1, 1, 1, 2, 1] and counts["same"].equals(counts["compared"])
    assert counts["differ"].sum() == 0 and "→" not in repr(parity)
    by_kind: dict[str, list[Any]] = {}
    for row in parity.rows:
        by_kind.setdefault(row["kind"], []).append(row["function"])
    incoming = by_kind["call.incoming"]
    says = [answer["body"]["commands"][1]["messages"][0]["say"]["text"] for answer in incoming]
    assert says == ["Welcome, caller 1", "Welcome, caller 2"]  # the cache carried across calls in the Function
    menu = incoming[0]["body"]["commands"][2]
    webhook = menu["menus"]["main"]["matches"]["1"][0]
    assert webhook["command"] == "webhook" and webhook["url"] == f"{url}/webhook/voice"  # filled in, as in the notebook
    chose = by_kind["call.webhook.menu-selection"][0]["body"]["commands"][0]["messages"][0]["say"]["text"]
    assert chose.startswith("You chose ") and chose.endswith(" on /")  # the cell's request is the request
    assert by_kind["call.answered"] == [{"status": 200, "body": FALLBACK_V2}]  # the failing handler: the fallback
    assert by_kind["call.hangup"] == by_kind["call.failed"] == [{"status": 204, "body": None}]  # completed: 204
    assert by_kind["call.busy"] == [{"status": 204, "body": None}]  # the plain-function fallback slot
    logs = [log for row in parity.rows for log in row["logs"]]
    assert any(level == "info" and "ended:" in message for level, message in logs)
    assert any("ZeroDivisionError" in message for _, message in logs)  # the failure is logged in the Function


def test_parity_names_the_v2_events_a_changed_handler_answers_differently(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    v2_notebook(sn)
    url = sn.start().url
    post_traffic(url)
    cell("answered", "return builder.say('fixed now').hangup()", 8)  # the failing handler fixed after the calls
    cell("completed", "return builder.hangup()", 9)  # a completed handler that now answers (the notebook gave 204)
    parity = sn.parity(sn.export(tmp_path / "build", "edited-v2").path)
    different = [row for row in parity.rows if not row["same"]]
    assert sorted(row["kind"] for row in different) == ["call.answered", "call.failed", "call.hangup"]
    assert "3 DIFFERENT" in parity.summary()
    answered = next(row for row in different if row["kind"] == "call.answered")
    assert answered["notebook"] == {"status": 200, "body": FALLBACK_V2}
    assert answered["function"]["body"]["commands"][0]["messages"][0]["say"]["text"] == "fixed now"
    counts = parity.by_kind()[["compared", "same", "differ"]]
    assert counts.loc["call.answered"].tolist() == [1, 0, 1] and counts.loc["call.hangup"].tolist() == [1, 0, 1]
    assert counts.loc["call.incoming"].tolist() == [2, 2, 0]  # the unchanged handler still answers alike
    fixed = 'body.commands[0].messages[0].say.text: "Sorry, something went wrong. Goodbye." → "fixed now"'
    assert fixed in answered["diff"] and f"    {fixed}" in repr(parity).splitlines()
    hangup = next(row for row in different if row["kind"] == "call.hangup")
    assert hangup["diff"] == ["status: 204 → 200", 'body: null → {"commands": [{"command": "hangup"}]}']


def test_callname_outside_the_answer_to_incoming_gets_the_fallback_in_both(sn: Any, tmp_path: Path) -> None:
    """A rule the notebook's contract and the Function's bridge share (functions/call_answers.py)."""
    cell("webhook", "return builder.call_name('agent').say('Hi')", 1, key="webhook menu-selection")
    body = fixture("v2-call.webhook.menu-selection.oas")["body"]
    response = httpx.post(sn.start().url + "/", content=json.dumps(body), headers=cloud_headers(body))
    assert response.json() == FALLBACK_V2 and "only the answer to call.incoming" in sn.last_error().error
    bridge = Bridge.from_json(
        (sn.export(tmp_path / "fn", "fn").path / "assets" / "handlers.json").read_text(), MemoryHost()
    )
    (row,) = journal_rows()
    request = {"kind": "call", "key": "webhook menu-selection", "headers": json.loads(row["request_headers"])}
    out = json.loads(str(bridge.handle(json.dumps({**request, "body": row["request_body"]}))))
    assert (out["status"], out["body"].encode()) == (200, response.content)
    assert "only the answer to call.incoming" in out["error"]


def test_the_bridge_refuses_what_is_not_a_v2_event_and_defaults_without_a_handler() -> None:
    bridge = Bridge({}, None, MemoryHost())
    refusals = {
        "": "body is not JSON",  # the notebook's own words for what is not JSON
        "not json": "body is not JSON",
        "[]": "not a Voice API v2 call event: the body is a list",
        '{"event": "call.incoming"}': "not a Voice API v2 call event: 'call' is missing",
    }
    for body, says in refusals.items():
        out = json.loads(str(bridge.handle(json.dumps({"kind": "call", "body": body}))))
        assert out["status"] == 400 and says in json.loads(out["body"])["error"], (body, out)
    incoming = json.loads(
        str(bridge.handle(json.dumps({"kind": "call", "body": json.dumps(fixture("v2-call.incoming.oas")["body"])})))
    )
    assert (incoming["status"], json.loads(incoming["body"])) == (200, FALLBACK_V2)  # as the notebook: no incoming
    hangup = json.loads(
        str(bridge.handle(json.dumps({"kind": "call", "body": json.dumps(fixture("v2-call.hangup.oas")["body"])})))
    )
    assert (hangup["status"], hangup["body"]) == (204, "")


def test_the_function_checks_v2_signatures_and_answers_a_repeated_ce_id_once(
    sn: Any, tmp_path: Path, node_modules: Path
) -> None:
    """With VOICE_SERVICE_SECRET in its env the Function refuses unsigned, forged and stale events (401), as the
    notebook does, and a second delivery of one ce-id gets the first answer without the handler running again."""
    from sinch_nb.deployment.parity import run_locally
    from sinch_nb.functions.signing import sign_voice_v2_callback, voice_v2_signing_headers

    get_session().registry.run_module("cell [1]", "RUNS = []", "<sinch module cell [1]>")
    cell("incoming", 'RUNS.append(1)\nreturn builder.answer().say(f"run {len(RUNS)}").hangup()', 2)
    project = sn.export(tmp_path / "build", "signed").path
    service, secret = "svc-function-test", "c2lnbmVkLWluLXRoZS1mdW5jdGlvbg=="  # a test-only key (base64)
    body = json.dumps(fixture("v2-call.incoming.oas")["body"])

    def event(ce_id: str, *, signed: bool = True, payload: str = body, stamp: str | None = None) -> dict[str, Any]:
        headers = cloud_headers({}, ce_id)
        if stamp is not None:  # signed, correctly, at that time
            headers.update({"content-type": "application/json; charset=utf-8", "x-timestamp": stamp})
            headers["authorization"] = sign_voice_v2_callback("POST", "/", headers, body, service, secret)
        elif signed:
            headers.update(voice_v2_signing_headers("/", body, service, secret))
        request = {"method": "POST", "path": "/", "query": {}, "headers": headers, "body": payload}
        return {"export": "voiceWebhook", "request": request}

    calls = [
        event("ce-1"),
        event("ce-1"),  # the platform delivers it again
        event("ce-2"),
        event("ce-3", signed=False),
        event("ce-4", payload=body.replace("call.incoming", "call.answered")),  # changed after signing
        event("ce-5", stamp="2020-01-01T00:00:00.0000000Z"),  # signed long ago: a replay
    ]
    env = {"VOICE_SERVICE_ID": service, "VOICE_SERVICE_SECRET": secret}

    answers = [answer["result"] for answer in run_locally(project, calls, node_modules, env)]

    said = [json.dumps(a["body"]) if a["statusCode"] == 200 else a["statusCode"] for a in answers]
    assert ["run 1" in said[0], "run 1" in said[1], "run 2" in said[2]] == [True, True, True], said
    assert said[0] == said[1]  # the repeat got the first answer; the handler ran once for it (run 2 came next)
    assert said[3:] == [401, 401, 401]
    assert "unsigned callback refused" in answers[3]["body"]["error"]
    assert "invalid signature refused" in answers[4]["body"]["error"]
    assert "stale signed callback refused" in answers[5]["body"]["error"]
    unchecked = run_locally(project, calls[3:4], node_modules, {})  # without the secret: unchecked, as the notebook
    assert unchecked[0]["result"]["statusCode"] == 200
