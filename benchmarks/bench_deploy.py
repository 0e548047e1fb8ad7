"""The exported Function's costs. Targets (issue 5): cold start (Pyodide load and handler import)
<= 3 s; per-callback <= 2 ms p50 above a native JS handler answering the same SVAML; export of a
20-handler notebook <= 1 s. Baselines, same run: a plain Node module answering the same SVAML
through the same local runtime (sinch_nb.deployment.parity.run_locally); the export of a 1-handler notebook.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import ICE_BODY, ROOT, report

os.chdir(tempfile.mkdtemp())

import sinch_nb as sn  # noqa: E402
from sinch_nb import get_session  # noqa: E402
from sinch_nb.deployment.parity import install_pyodide, run_locally  # noqa: E402
from sinch_nb.functions.cells import compile_cell  # noqa: E402

NODE_CACHE = ROOT / "tests" / ".cache" / "node"  # where the tests keep Pyodide from npm

ICE = 'return svaml.ice().say(f"Welcome, caller {event.cli}").hangup()'
N = 500


def register(count: int) -> None:
    get_session().registry.clear()
    get_session().registry.register(
        "ice",
        compile_cell(ICE, ("context", "event"), "<ice>", get_session().registry.namespace),
        "cell [1]",
        source=ICE,
    )
    for n in range(count - 1):
        body = f"return {{'n': {n}}}"
        function = compile_cell(body, ("context", "request"), f"<e{n}>", get_session().registry.namespace)
        get_session().registry.register("http", function, f"cell [{n + 2}]", key=f"GET /endpoint{n}", source=body)


def main() -> None:
    modules = install_pyodide(NODE_CACHE)
    data = json.loads(ICE_BODY)
    register(1)
    started = time.perf_counter()
    one = sn.export(Path("build/one"), "one")
    one_s = time.perf_counter() - started
    register(20)
    started = time.perf_counter()
    sn.export(Path("build/twenty"), "twenty")
    twenty_s = time.perf_counter() - started
    report("export of a 20-handler notebook", twenty_s, "s", "<= 1", twenty_s <= 1, f"1 handler: {one_s:.3f} s")

    answers = run_locally(one.path, [{"export": "ice", "data": data}] * N, modules)
    cold = answers[0]["cold_ms"] / 1000
    ours = statistics.median(a["ms"] for a in answers[1:])
    native = Path("build/native")
    native.mkdir(parents=True)
    (native / "sinch.json").write_text(json.dumps({"name": "native", "runtime": "node", "variables": {}}))
    (native / "function.js").write_text(
        "export default { async ice(context, data) { return { instructions: [{ name: 'say', "
        "text: `Welcome, caller ${data.cli}` }], action: { name: 'hangup' } }; } };\n"
    )
    baseline = run_locally(native, [{"export": "ice", "data": data}] * N, modules)
    bare = statistics.median(a["ms"] for a in baseline[1:])
    assert answers[-1]["result"] == baseline[-1]["result"], (answers[-1], baseline[-1])
    report("cold start (Pyodide + handlers)", cold, "s", "<= 3", cold <= 3)
    report("per callback above native JS, p50", ours - bare, "ms", "<= 2", ours - bare <= 2, f"native {bare:.3f} ms")


if __name__ == "__main__":
    main()
