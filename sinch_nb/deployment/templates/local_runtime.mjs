// Runs an exported sinch_nb Function the way the Sinch Functions Node runtime calls it, for
// sn.parity(): default-export voice handlers (context, data), named exports for the
// Conversation webhook, Voice API v2's voiceWebhook and custom endpoints (context, request), and a context with an in-memory
// cache, storage under <project>/.local-storage, log, config, env, assets, requestId and
// timestamp (as the Functions runtime documents its context).
// Usage: node local_runtime.mjs <project>  — JSON lines in on stdin, JSON lines out.
// SINCH_NB_WS_PORT=0 node local_runtime.mjs <project>  — serves setup(runtime)'s onWebSocket paths as well, on
// the same Function instance (one cache), as sn.parity does to replay streams among the callbacks.
import { readFile, writeFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { join, dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { randomUUID } from "node:crypto";

const project = process.argv[2];
const sinchJson = JSON.parse(await readFile(join(project, "sinch.json"), "utf8"));
const storageRoot = join(project, ".local-storage");
const entries = new Map();
const logs = [];

const cache = {
  async set(key, value, ttl = 3600) { entries.set(key, { value: JSON.stringify(value), expires: Date.now() + ttl * 1000 }); },
  async get(key) { const e = live(key); return e ? JSON.parse(e.value) : null; },
  async has(key) { return !!live(key); },
  async delete(key) { return entries.delete(key); },
  async extend(key, seconds) { const e = live(key); if (!e) return false; e.expires += seconds * 1000; return true; },
  async keys(pattern = "*") {
    const regex = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    return [...entries.keys()].filter((k) => live(k) && regex.test(k));
  },
  async getMany(keys) { const out = {}; for (const k of keys) { const e = live(k); if (e) out[k] = JSON.parse(e.value); } return out; },
};
function live(key) { const e = entries.get(key); if (e && e.expires <= Date.now()) { entries.delete(key); return null; } return e ?? null; }

async function walk(dir) {
  let out = [];
  for (const name of await readdir(dir).catch(() => [])) {
    const full = join(dir, name);
    if ((await stat(full)).isDirectory()) out = out.concat(await walk(full)); else out.push(full);
  }
  return out;
}
const storage = {
  async write(key, data) { const p = join(storageRoot, key); await mkdir(dirname(p), { recursive: true }); await writeFile(p, data); },
  async read(key) { return readFile(join(storageRoot, key)); },
  async list(prefix = "") { return (await walk(storageRoot)).map((p) => p.slice(storageRoot.length + 1)).filter((k) => k.startsWith(prefix)).sort(); },
  async exists(key) { return stat(join(storageRoot, key)).then(() => true, () => false); },
  async delete(key) { return rm(join(storageRoot, key)).then(() => true, () => false); },
};
const log = {
  debug: (m) => logs.push(["debug", m]), info: (m) => logs.push(["info", m]),
  warning: (m) => logs.push(["warning", m]), warn: (m) => logs.push(["warning", m]), error: (m) => logs.push(["error", m]),
};
function context() {
  return {
    cache, storage, log,
    config: { functionName: sinchJson.name, projectId: "project-1", environment: "production", variables: sinchJson.variables ?? {} },
    env: JSON.parse(process.env.SINCH_NB_FUNCTION_ENV ?? "{}"), // the Function's own: never this process's
    database: join(project, "data", "function.db"),
    requestId: randomUUID(),
    timestamp: new Date().toISOString(),
    assets: (name) => readFile(join(project, "assets", name), "utf8"),
  };
}

const started = performance.now();
const module = await import(pathToFileURL(join(project, "function.js")).href);

// With SINCH_NB_WS_PORT set: the project's setup(runtime) hook is called, as the Functions runtime calls it,
// and its onWebSocket handlers are served on that port (0: any free one) with the `ws` package, found from the
// project's node_modules or SINCH_NB_NODE_MODULES. The first stdout line is then {"listening": port}; the
// process serves until it is stopped. Stdin's calls are answered too; the stream handlers' log lines go to stderr
// as they come, except while a call runs (its log lines are its answer's).
let calling = false;
if (process.env.SINCH_NB_WS_PORT !== undefined) {
  const sockets = new Map();
  const startups = [];
  module.setup?.({
    onWebSocket: (path, handler) => sockets.set(path, handler),
    onStartup: (handler) => startups.push(handler),
  });
  for (const handler of startups) await handler(context());
  const { createServer } = await import("node:http");
  const { createRequire } = await import("node:module");
  const bases = [join(project, "package.json"), join(process.env.SINCH_NB_NODE_MODULES ?? project, "..", "package.json")];
  let wsPath = null;
  for (const base of bases) { try { wsPath = createRequire(base).resolve("ws"); break; } catch { /* the next */ } }
  if (wsPath === null) throw new Error("the ws package is needed to serve WebSockets: npm install ws");
  const ws = await import(pathToFileURL(wsPath).href);
  const WebSocketServer = ws.WebSocketServer ?? ws.default.WebSocketServer ?? ws.default.Server;
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => { res.writeHead(426); res.end("WebSocket only\n"); });
  server.on("upgrade", (req, socket, head) => {
    const handler = sockets.get(new URL(req.url, "http://localhost").pathname);
    if (!handler) { socket.end("HTTP/1.1 404 Not Found\r\n\r\n"); return; }
    wss.handleUpgrade(req, socket, head, (client) => handler(client, req));
  });
  await new Promise((resolve) => server.listen(Number(process.env.SINCH_NB_WS_PORT), "127.0.0.1", resolve));
  process.stdout.write(JSON.stringify({ listening: server.address().port, paths: [...sockets.keys()] }) + "\n");
  setInterval(() => { if (!calling) for (const line of logs.splice(0)) process.stderr.write(JSON.stringify({ log: line }) + "\n"); }, 20);
}
const lines = createInterface({ input: process.stdin });
let first = true;
for await (const line of lines) {
  if (!line.trim()) continue;
  const call = JSON.parse(line);
  calling = true;
  const t0 = performance.now();
  let result;
  if (call.export in (module.default ?? {}) && ["ice", "ace", "pie", "dice", "notify"].includes(call.export)) {
    result = await module.default[call.export](context(), call.data);
  } else {
    result = await module[call.export](context(), call.request);
  }
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ result: result ?? null, ms, cold_ms: first ? performance.now() - started : null, logs: logs.splice(0) }) + "\n");
  first = false;
  calling = false;
}
