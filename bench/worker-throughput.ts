/**
 * The worker's data path under load, next to baselines measured in the same run:
 * - the ceiling: a trivial node:http server (shows the load generator is not the limit);
 * - Turso's own server, `tursodb --sync-server` (npm @tursodatabase/cli-linux-x64-gnu), on a
 *   copy of the same file: a point select by primary key, as a pipeline of one execute (tursodb
 *   has no `close`), at concurrency 1 and 32; the worker gets the same pipeline, and the one
 *   @libsql/client sends (execute + close);
 * - a bare Node server answering the same request on the same libSQL binding with nothing
 *   else (./bare-select-server.ts): the worker's CPU per request beyond it is its own code's;
 * - inserts (autocommit, synchronous=FULL) through the worker next to in-process libsql.
 * The worker runs as the control plane starts it (its memory settings, a signing key, WAL
 * archiving), and every request carries a token: the figures are those of a database created
 * through the API, not of a worker with its checks off.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { memoryEnv } from "../control-plane/index";
import { openNative, selectEngine } from "../core/sqlite/index";
import { ROOT } from "../testkit/paths";
import { freePort } from "../testkit/ports";
import { makeTempDir, removeDir } from "../testkit/temp";
import { startWorkerProcess, testKeys } from "../testkit/worker";
import { measure } from "./harness";
import { type LoadResult, load, loadGenerator } from "./load";

export const ROWS = 10_000;
/** The control plane's default memory cap per worker (DBFORGE_WORKER_MEMORY_MB). */
const WORKER_MEMORY_MB = 512;
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

interface Target {
  name: string;
  url: string;
  bodies: string[];
  headers?: Record<string, string>;
  pid: number | undefined;
}

/** Rounds per figure in `interleaved`, and their length. */
const ROUNDS = 3;
const ROUND_SECONDS = 3;

/**
 * Each target's median round at each concurrency, the targets taking turns round by round: on
 * this shared 2-core machine a server's CPU per request drifts by tens of percent from one
 * minute to the next, and taking turns makes every target meet the same drift.
 */
async function interleaved(targets: Target[], connections: number[]): Promise<LoadResult[][]> {
  for (const t of targets) {
    await load({
      name: t.name,
      url: t.url,
      bodies: t.bodies,
      ...(t.headers ? { headers: t.headers } : {}),
      connections: 8,
      seconds: WARM_UP_SECONDS,
    });
  }
  const results = targets.map((): LoadResult[] => []);
  for (const c of connections) {
    const rounds = targets.map((): LoadResult[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of targets.entries()) {
        const spec = {
          name: t.name,
          url: t.url,
          bodies: t.bodies,
          ...(t.headers ? { headers: t.headers } : {}),
          connections: c,
          seconds: ROUND_SECONDS,
          pid: t.pid,
        };
        rounds[i]?.push(await load(spec));
      }
    }
    for (const [i, taken] of rounds.entries()) {
      const sorted = [...taken].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
      results[i]?.push(sorted[Math.floor(sorted.length / 2)] as LoadResult);
    }
  }
  return results;
}

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

/** bench/bare-select-server.ts on a copy of the items file: what Node itself reaches. */
async function bareSelectServer(file: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "bench/bare-select-server.ts"), file],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await firstLine(child);
  return {
    url: `http://127.0.0.1:${port}/v2/pipeline`,
    pid: child.pid,
    stop: () => stopChild(child),
  };
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
  const bareFile = join(dir, "bare.db");
  cpSync(workerFile, bareFile);
  const trivial = await trivialServer();
  const tursoServer = await tursodb(turso);
  const bare = await bareSelectServer(bareFile);
  const keys = testKeys();
  const worker = await startWorkerProcess({
    dataDir: workerDir,
    env: {
      ...memoryEnv(WORKER_MEMORY_MB),
      SQLD_AUTH_JWT_KEY: keys.publicPem,
      DBFORGE_WAL_ARCHIVE: "on",
      DBFORGE_SYNCHRONOUS: "FULL",
    },
  });
  const authorized = { Authorization: `Bearer ${keys.token()}` };
  try {
    const concurrency = [1, 32];
    const ceiling = await loadAt(
      "node:http (trivial)",
      trivial.url,
      pointSelects(false),
      concurrency,
      { pid: trivial.pid },
    );
    const pipeline = `${worker.url}/v2/pipeline`;
    const workerPid = worker.process.pid;
    const targets: Target[] = [
      ...(tursoServer
        ? [
            {
              name: "tursodb --sync-server",
              url: tursoServer.url,
              bodies: pointSelects(false),
              pid: tursoServer.pid,
            },
          ]
        : []),
      {
        name: "bare Node select (node:http + libsql)",
        url: bare.url,
        bodies: pointSelects(false),
        pid: bare.pid,
      },
      {
        name: "worker: execute",
        url: pipeline,
        bodies: pointSelects(false),
        headers: authorized,
        pid: workerPid,
      },
      {
        name: "worker: execute + close",
        url: pipeline,
        bodies: pointSelects(true),
        headers: authorized,
        pid: workerPid,
      },
    ];
    const measured = await interleaved(targets, concurrency);
    const base = tursoServer ? (measured.shift() as LoadResult[]) : [];
    const [bareNode = [], single = [], closed = []] = measured;
    console.log(
      `\nPoint select by primary key, ${ROWS} rows, one pipeline per request (${loadGenerator}; the trivial server ${SECONDS} s, the others the median of ${ROUNDS} rounds of ${ROUND_SECONDS} s taken in turn; ${engine.name} engine)`,
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
      ...[...bareNode, ...single, ...closed].map((r) =>
        row(
          r,
          base.find((b) => b.connections === r.connections),
          r.name.startsWith("worker") ? 1 : undefined,
        ),
      ),
    ]);
    // What the worker's own code costs: its CPU per request beyond what Node needs for the
    // same request and answer.
    console.table(
      [...single, ...closed].map((r) => {
        const node = bareNode.find((b) => b.connections === r.connections);
        return {
          benchmark: r.name,
          c: r.connections,
          "worker CPU µs/req": r.server ? Math.round(r.server.cpuMicrosPerRequest) : "—",
          "bare Node CPU µs/req": node?.server ? Math.round(node.server.cpuMicrosPerRequest) : "—",
          "req/s vs bare Node": node
            ? (r.requestsPerSecond / node.requestsPerSecond).toFixed(2)
            : "—",
        };
      }),
    );

    // Inserts: the same statement through the worker, and in-process on a copy of the file.
    const remote = await loadAt("worker: insert + close", pipeline, inserts, concurrency, {
      headers: authorized,
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
    await bare.stop();
    await trivial.stop();
    removeDir(dir);
  }
}
