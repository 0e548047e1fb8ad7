// Worker CPU a media stream frame costs to cross into and out of Pyodide, base64 text against a Uint8Array,
// as function.js's worker does it (each way, one frame at a time, no postMessage): what the one worker thread
// spends per frame beside every other stream and HTTP callback. Usage:
//   node benchmarks/bench_function_frame_crossing.mjs [node_modules]   (default tests/.cache/node/node_modules)
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

const modules = process.argv[2] ?? fileURLToPath(new URL("../tests/.cache/node/node_modules/", import.meta.url));
const { loadPyodide } = await import(pathToFileURL(join(modules, "pyodide", "pyodide.mjs")).href);
const py = await loadPyodide({ indexURL: join(modules, "pyodide") + "/" });
const [inB64, inBin, outB64, outBin] = py.runPython(`
import base64, json
def in_b64(text): return len(base64.b64decode(text))
def in_bin(data): return len(data.to_bytes())
def out_b64(post, pcm): post(json.dumps({"bytes": base64.b64encode(pcm).decode()}))
def out_bin(post, pcm): post(pcm)
(in_b64, in_bin, out_b64, out_bin)
`).toJs();
const bytes = py.runPython("lambda n: bytes(range(256)) * (n // 256) + bytes(n % 256)");

// Each case in a process of its own: V8 (Node 20) crashed with "unreachable code" when one timing loop ran all four.
let sink = null; // what the main thread would write to the socket (a callback returning it would go back to Python)
const CASES = {
  "in-base64": (frame) => () => inB64(Buffer.from(frame).toString("base64")),
  "in-binary": (frame) => () => inBin(new Uint8Array(frame)), // a plain Uint8Array: Pyodide cannot read a Buffer
  "out-base64": (frame, pcm) => () => outB64((out) => { sink = Buffer.from(JSON.parse(out).bytes, "base64"); }, pcm),
  "out-binary": (frame, pcm) => () => outBin((p) => { const data = p.toJs(); sink = Buffer.from(data.buffer, data.byteOffset, data.byteLength); }, pcm),
};
const SIZES = [320, 640, 1920];

if (process.argv[3]) {
  const results = [];
  for (const size of SIZES) {
    const run = CASES[process.argv[3]](Buffer.alloc(size, 7), bytes(size));
    for (let i = 0; i < 2000; i++) run(); // warm up
    const started = performance.now();
    for (let i = 0; i < 20000; i++) run();
    results.push(((performance.now() - started) * 1000) / 20000);
  }
  console.log(JSON.stringify(results));
} else {
  const { execFileSync } = await import("node:child_process");
  const columns = Object.keys(CASES).map((name) =>
    JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), modules, name], { encoding: "utf8" })),
  );
  console.log(`frame B ${Object.keys(CASES).map((name) => `${name} µs`.padStart(15)).join("")}`);
  SIZES.forEach((size, row) => console.log(`${String(size).padStart(7)} ${columns.map((c) => c[row].toFixed(2).padStart(15)).join("")}`));
}
