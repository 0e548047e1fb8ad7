"""The exported Function's costs. Targets (issues 5 and 11): cold start (Pyodide load and handler import)
<= 2 s; per-callback <= 0.3 ms p50 above a native JS handler doing the same work, with an empty store and with
10,000 cache keys and 1,000 stored objects; export of a 20-handler notebook <= 1 s. Baselines, same run: a plain
Node module doing the same work through the same local runtime (sinch_nb.deployment.parity.run_locally); the
export of a 1-handler notebook.
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
#: The first call fills the store (10,000 cache keys, 1,000 stored objects); every call checks it is there.
LOADED = (
    """if not context.cache.has("key:9999"):
    for n in range(1000):
        context.storage.write(f"items/{n:04}", str(n))
    for n in range(10000):
        context.cache.set(f"key:{n}", n)
"""
    + ICE
)
#: The project's own example on the loaded store: one cache read and write, one stored object, per call.
STATEFUL = LOADED.replace(
    "return",
    'count = context.cache.get("count", 0) + 1\ncontext.cache.set("count", count)\n'
    'context.storage.write(f"calls/{count}.txt", event.cli)\nreturn',
)
NATIVE = {
    ICE: "",
    LOADED: """if (!(await context.cache.has("key:9999"))) {
    for (let n = 0; n < 1000; n++) {
      await context.storage.write(`items/${String(n).padStart(4, "0")}`, Buffer.from(String(n)));
    }
    for (let n = 0; n < 10000; n++) await context.cache.set(`key:${n}`, n);
  }""",
}
NATIVE[STATEFUL] = (
    NATIVE[LOADED]
    + """
  const count = ((await context.cache.get("count")) ?? 0) + 1;
  await context.cache.set("count", count);
  await context.storage.write(`calls/${count}.txt`, Buffer.from(data.cli));"""
)
N = 500


def register(count: int, ice: str = ICE) -> None:
    get_session().registry.clear()
    get_session().registry.register(
        "ice",
        compile_cell(ice, ("context", "event"), "<ice>", get_session().registry.namespace),
        "cell [1]",
        source=ice,
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
    sn.export(Path("build/one"), "one")
    one_s = time.perf_counter() - started
    register(20)
    started = time.perf_counter()
    sn.export(Path("build/twenty"), "twenty")
    twenty_s = time.perf_counter() - started
    report("export of a 20-handler notebook", twenty_s, "s", "<= 1", twenty_s <= 1, f"1 handler: {one_s:.3f} s")

    cold = None
    for name, ice in (
        ("empty store", ICE),
        ("10,000 keys, 1,000 objects", LOADED),
        ("same + 1 read, 2 writes", STATEFUL),
    ):
        register(1, ice)
        project = sn.export(Path(f"build/{len(name)}"), "bench")
        answers = run_locally(project.path, [{"export": "ice", "data": data}] * N, modules)
        cold = cold if cold is not None else answers[0]["cold_ms"] / 1000
        ours = statistics.median(a["ms"] for a in answers[1:])
        native = Path(f"build/native-{len(name)}")
        native.mkdir(parents=True)
        (native / "sinch.json").write_text(json.dumps({"name": "native", "runtime": "node", "variables": {}}))
        (native / "function.js").write_text(
            f"export default {{ async ice(context, data) {{ {NATIVE[ice]}\n  return {{ instructions: [{{ "
            "name: 'say', text: `Welcome, caller ${data.cli}` }], action: { name: 'hangup' } }; } };\n"
        )
        baseline = run_locally(native, [{"export": "ice", "data": data}] * N, modules)
        bare = statistics.median(a["ms"] for a in baseline[1:])
        assert answers[-1]["result"] == baseline[-1]["result"], (answers[-1], baseline[-1])
        above = ours - bare
        report(
            f"per callback above native JS, p50 ({name})", above, "ms", "<= 0.3", above <= 0.3, f"native {bare:.3f} ms"
        )
    assert cold is not None
    report("cold start (Pyodide + handlers)", cold, "s", "<= 2", cold <= 2)


if __name__ == "__main__":
    main()
