/**
 * The worker's data path under load, next to baselines measured in the same run:
 * - the ceiling: a trivial node:http server (shows the load generator is not the limit);
 * - Turso's own server, `tursodb --sync-server` (npm @tursodatabase/cli-linux-x64-gnu), on a
 *   copy of the same file: a point select by primary key, as a pipeline of one execute (tursodb
 *   has no `close`), at concurrency 1 and 32; the worker gets the same pipeline, and the one
 *   @libsql/client sends (execute + close);
 * - inserts (autocommit, synchronous=FULL) through the worker next to in-process libsql.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openNative, selectEngine } from "../core/sqlite/index";
import { ROOT } from "../testkit/paths";
import { freePort } from "../testkit/ports";
import { makeTempDir, removeDir } from "../testkit/temp";
import { startWorkerProcess } from "../testkit/worker";
import { measure } from "./harness";
import { type LoadResult, load, loadGenerator } from "./load";

export const ROWS = 10_000;
const SECONDS = 5;
const WARM_UP_SECONDS = 4;
const TURSODB = join(ROOT, "node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb");

/** A 10,000-row table `items (id INTEGER PRIMARY KEY, name TEXT, value REAL)` in WAL mode. */
export function makeItemsFile(path: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const db = openNative(path, 60_000);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  db.exec(
    `INSERT INTO items SELECT value, 'item ' || value, value * 0.5 FROM generate_series(1, ${ROWS})`,
  );
  db.exec("CREATE TABLE sink (id INTEGER PRIMARY KEY, name TEXT)");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

/** Point-select pipelines for 1,000 different ids; `close` appends the close request. */
export function pointSelects(close: boolean): string[] {
  return Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({
      requests: [
        {
          type: "execute",
          stmt: {
            sql: "SELECT id, name, value FROM items WHERE id = ?",
            args: [{ type: "integer", value: String(1 + ((i * 7919) % ROWS)) }],
          },
        },
        ...(close ? [{ type: "close" }] : []),
      ],
    }),
  );
}

export const inserts = Array.from({ length: 1000 }, (_, i) =>
  JSON.stringify({
    requests: [
      {
        type: "execute",
        stmt: {
          sql: "INSERT INTO sink (name) VALUES (?)",
          args: [{ type: "text", value: `row ${i}` }],
        },
      },
      { type: "close" },
    ],
  }),
);

/** Runs a load after a warm-up (the JIT), at each concurrency. */
export async function loadAt(
  name: string,
  url: string,
  bodies: string[],
  connections: number[],
  /** `pid`: the server's process, whose CPU time per request is reported. */
  { headers, pid }: { headers?: Record<string, string>; pid?: number | undefined } = {},
): Promise<LoadResult[]> {
  await load({ name, url, bodies, headers, connections: 8, seconds: WARM_UP_SECONDS });
  const results: LoadResult[] = [];
  for (const c of connections) {
    results.push(await load({ name, url, bodies, headers, connections: c, seconds: SECONDS, pid }));
  }
  return results;
}

interface Server {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

async function trivialServer(): Promise<Server> {
  const script = `
    const body = '{"ok":true}';
    const s = require("node:http").createServer((req, res) => {
      req.resume();
      req.on("end", () => { res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length }); res.end(body); });
    }).listen(0, "127.0.0.1", () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await firstLine(child);
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid, stop: () => stopChild(child) };
}

async function tursodb(file: string): Promise<Server | undefined> {
  if (!existsSync(TURSODB)) return undefined;
  const port = await freePort();
  const child = spawn(TURSODB, [file, "--sync-server", `127.0.0.1:${port}`], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}/v2/pipeline`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(url, { method: "POST", body: pointSelects(false)[0] }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, pid: child.pid, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopChild(child);
  throw new Error("tursodb did not start");
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (child.stdout) createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGTERM");
  });
}

function row(subject: LoadResult, baseline: LoadResult | undefined, goal?: number) {
  const ratio = baseline ? subject.requestsPerSecond / baseline.requestsPerSecond : undefined;
  return {
    benchmark: subject.name,
    c: subject.connections,
    "req/s": Math.round(subject.requestsPerSecond),
    baseline: baseline?.name ?? "—",
    "baseline req/s": baseline ? Math.round(baseline.requestsPerSecond) : "—",
    ratio: ratio?.toFixed(2) ?? "—",
    goal:
      goal === undefined
        ? ""
        : `≥ ${goal.toFixed(1)}${ratio !== undefined && ratio >= goal ? " ✓" : " ✗"}`,
    // What one request costs the server, and how much of the machine it could use: the
    // worker is one thread; tursodb spreads a load over several.
    "server CPU µs/req": subject.server ? Math.round(subject.server.cpuMicrosPerRequest) : "—",
    "server cores": subject.server ? subject.server.cores.toFixed(2) : "—",
  };
}

export async function benchWorker(): Promise<void> {
  const engine = selectEngine("auto");
  const dir = makeTempDir("bench-worker");
  const turso = join(dir, "turso.db");
  const workerDir = join(dir, "worker");
  const workerFile = join(workerDir, "data.sqld/dbs/default/data");
  makeItemsFile(workerFile);
  cpSync(workerFile, turso);
  const trivial = await trivialServer();
  const tursoServer = await tursodb(turso);
  const worker = await startWorkerProcess({
    dataDir: workerDir,
    env: { DBFORGE_SYNCHRONOUS: "FULL" },
  });
  try {
    const concurrency = [1, 32];
    const ceiling = await loadAt(
      "node:http (trivial)",
      trivial.url,
      pointSelects(false),
      concurrency,
      { pid: trivial.pid },
    );
    const base = tursoServer
      ? await loadAt("tursodb --sync-server", tursoServer.url, pointSelects(false), concurrency, {
          pid: tursoServer.pid,
        })
      : [];
    const pipeline = `${worker.url}/v2/pipeline`;
    const workerPid = worker.process.pid;
    const single = await loadAt("worker: execute", pipeline, pointSelects(false), concurrency, {
      pid: workerPid,
    });
    const closed = await loadAt(
      "worker: execute + close",
      pipeline,
      pointSelects(true),
      concurrency,
      { pid: workerPid },
    );
    console.log(
      `\nPoint select by primary key, ${ROWS} rows, one pipeline per request (${loadGenerator}, ${SECONDS} s each, ${engine.name} engine)`,
    );
    if (!tursoServer)
      console.log(
        "(tursodb is not installed here: npm's optional @tursodatabase/cli-linux-x64-gnu)",
      );
    console.table([
      ...ceiling.map((r) => row(r, undefined)),
      ...base.map((r) =>
        row(
          r,
          ceiling.find((c) => c.connections === r.connections),
        ),
      ),
      ...[...single, ...closed].map((r) =>
        row(
          r,
          base.find((b) => b.connections === r.connections),
          1,
        ),
      ),
    ]);

    // Inserts: the same statement through the worker, and in-process on a copy of the file.
    const remote = await loadAt("worker: insert + close", pipeline, inserts, concurrency, {
      pid: workerPid,
    });
    const localFile = join(dir, "local.db");
    cpSync(turso, localFile);
    const local = openNative(localFile, 60_000);
    local.exec("PRAGMA synchronous = FULL");
    const insert = local.prepare("INSERT INTO sink (name) VALUES (?)");
    const inProcess = await measure("in-process libsql insert", 3_000, (i) =>
      insert.run([`local ${i}`]),
    );
    local.close();
    const baseline: LoadResult = {
      name: inProcess.name,
      connections: 1,
      requestsPerSecond: inProcess.ops / inProcess.seconds,
      errors: 0,
    };
    console.log("\nInsert, one row per autocommit transaction (WAL, synchronous=FULL)");
    console.table([row(baseline, undefined), ...remote.map((r) => row(r, baseline))]);
  } finally {
    await worker.stop();
    await tursoServer?.stop();
    await trivial.stop();
    removeDir(dir);
  }
}
