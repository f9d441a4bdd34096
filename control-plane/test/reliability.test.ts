/**
 * Lifecycle reliability, process driver, asserted on the process table and the files rather
 * than on answers alone: parallel starts never race for ports, stops never leave orphans, a
 * database never has two workers, restarts cost the same whatever the number of databases.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { CLI_BUNDLE, ROOT } from "../../testkit/paths";
import { freePort } from "../../testkit/ports";
import { readRegistry, workerProcesses } from "../../testkit/processes";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { eventually, sleep } from "../../testkit/wait";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) {
    // A failed test may leave workers behind: never let them outlive the suite.
    for (const pids of workerProcesses(dir).values())
      for (const pid of pids) process.kill(pid, "SIGKILL");
    removeDir(dir);
  }
});

interface Info {
  name: string;
  status: string;
  workerId: string | null;
}

async function ok(res: Promise<Response>, status: number): Promise<Response> {
  const answer = await res;
  expect(answer.status, await answer.clone().text()).toBe(status);
  return answer;
}

/** No database may ever have more than one live worker process. */
function expectAtMostOneWorkerEach(dataDir: string): void {
  for (const [name, pids] of workerProcesses(dataDir)) {
    expect(pids.length, `${name}: ${pids}`).toBeLessThanOrEqual(1);
  }
}

describe("parallel starts", () => {
  let cp: ControlPlaneProcess;
  afterAll(async () => {
    await cp?.stop();
  });

  test("32 parallel creates and 32 parallel wakes all succeed, from a port range", async () => {
    const from = 30_000 + Math.floor(Math.random() * 200) * 100;
    cp = await startControlPlaneProcess({
      env: { DBFORGE_WORKER_PORTS: `${from}-${from + 99}`, DBFORGE_IDLE_TIMEOUT_S: "3" },
    });
    dirs.push(cp.dataDir);
    const names = Array.from({ length: 32 }, (_, i) => `par-${i}`);
    const created = await Promise.all(
      names.map((name) => cp.api("POST", "/v1/databases", { name })),
    );
    const failed = created.find((r) => r.status !== 201);
    expect(failed ? await failed.text() : "", "the first failure").toBe("");
    expect(created.map((r) => r.status)).toEqual(names.map(() => 201));
    expectAtMostOneWorkerEach(cp.dataDir);

    // Let every one of them stop when idle, then wake them all at once.
    await eventually(
      async () => {
        const { databases } = (await (await cp.api("GET", "/v1/databases")).json()) as {
          databases: Info[];
        };
        return databases.every((d) => d.status === "stopped") ? true : undefined;
      },
      30_000,
      "every database to stop when idle",
    );
    expect(workerProcesses(cp.dataDir).size).toBe(0);
    // Wake and use, as the functions do: resolve, then a query on the worker it names.
    const answers = await Promise.all(
      names.map(async (name) => {
        const res = await cp.api("POST", `/v1/databases/${name}/resolve`);
        if (res.status !== 200) return `${name}: ${res.status} ${await res.text()}`;
        const { url, token } = (await res.json()) as { url: string; token: string };
        const db = createClient({ url, authToken: token });
        try {
          return (await db.execute("SELECT 1 AS one")).rows[0]?.one;
        } finally {
          db.close();
        }
      }),
    );
    expect(answers).toEqual(names.map(() => 1));
    expectAtMostOneWorkerEach(cp.dataDir);
  });
});

/** `dbforge start` (the embedded stack, as `npm start` runs it) in its own data directory. */
async function startStack(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI_BUNDLE, "start", "--port", String(port)], {
    env: {
      PATH: process.env.PATH,
      DBFORGE_DATA_DIR: dataDir,
      DBFORGE_CONTROL_PLANE_ADDR: "127.0.0.1:0",
      DBFORGE_HEALTH_INTERVAL_MS: "100",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((ready, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("DB-Forge is running")) ready();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => fail(new Error(`dbforge start exited with ${code}:\n${output}`)));
  });
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once("exit", (code) => done(code)));
}

test("30 start → activity → SIGINT/SIGTERM/kill -9 cycles: no orphans, never two workers, a true registry", async () => {
  const dataDir = makeTempDir("cycles");
  dirs.push(dataDir);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const token = () => readAdminToken(dataDir);
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${api}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const names = ["cyc-a", "cyc-b", "cyc-c"];
  for (let cycle = 0; cycle < 30; cycle++) {
    const stack = await startStack(dataDir, port);
    try {
      // Recovery (adopting what a kill -9 left) runs in the background: wait for it.
      expectAtMostOneWorkerEach(dataDir);
      if (cycle === 0)
        for (const name of names) await ok(call("POST", "/admin/databases", { name }), 201);
      const name = names[cycle % names.length] as string;
      await ok(call("POST", `/api/db/${name}/query`, { sql: `SELECT ${cycle} AS cycle` }), 200);
      // One database in the middle of a restart when the stop comes.
      const [victim] =
        workerProcesses(dataDir).get(names[(cycle + 1) % names.length] as string) ?? [];
      if (victim && cycle % 2 === 0) process.kill(victim, "SIGKILL");
      await sleep(Math.floor(Math.random() * 150));
      expectAtMostOneWorkerEach(dataDir);
    } finally {
      const how = cycle % 5 === 3 ? "SIGKILL" : cycle % 2 === 0 ? "SIGINT" : "SIGTERM";
      stack.kill(how);
      const code = await exitOf(stack);
      if (how !== "SIGKILL") {
        expect(code, `cycle ${cycle} (${how})`).toBe(0);
        expect([...workerProcesses(dataDir).keys()], `cycle ${cycle} (${how})`).toEqual([]);
        for (const row of readRegistry(dataDir)) {
          expect([row.name, row.status, row.worker_id]).toEqual([row.name, "stopped", null]);
        }
      } else {
        // The workers outlive a kill -9 of the stack; the next start adopts them.
        expectAtMostOneWorkerEach(dataDir);
      }
    }
  }
  expect(workerProcesses(dataDir).size).toBe(0);
}, 240_000);

function readAdminToken(dataDir: string): string {
  return readFileSync(`${dataDir}/.control-plane/admin-token`, "utf8").trim();
}

test("a restart with 1,000 registered databases listens within a second; idle ones start on demand", async () => {
  const first = await startControlPlaneProcess();
  dirs.push(first.dataDir);
  for (const name of ["live-a", "live-b"])
    await ok(first.api("POST", "/v1/databases", { name }), 201);
  const live = (await (await first.api("GET", "/v1/databases/live-a")).json()) as Info;
  // 1,000 more, registered as stopped (idle) databases, written straight into the registry.
  await first.kill();
  const { default: Database } = await import("libsql-stable");
  const registry = new Database(`${first.dataDir}/.control-plane/registry.db`, {});
  const insert = registry.prepare(
    "INSERT INTO databases (name, status, created_at, last_active_at, key_salt, uid) VALUES (?, 'stopped', 0, 0, ?, ?)",
  );
  registry.transaction(() => {
    for (let i = 0; i < 1000; i++)
      insert.run([`idle-${i}`, randomBytes(16).toString("base64url"), BigInt(250_000 + i)]);
  })();
  registry.close();

  const started = Date.now();
  const second = await startControlPlaneProcess({ dataDir: first.dataDir });
  const listenedAfter = Date.now() - started;
  try {
    expect(listenedAfter).toBeLessThan(1000);
    // The running worker is adopted, not restarted.
    const adopted = await eventually(async () => {
      const info = (await (await second.api("GET", "/v1/databases/live-a")).json()) as Info;
      return info.status === "running" ? info : undefined;
    });
    expect(adopted.workerId).toBe(live.workerId);
    // An idle database answers its first query after a cold start.
    const cold = Date.now();
    await ok(second.api("POST", "/v1/databases/idle-777/resolve"), 200);
    expect(Date.now() - cold).toBeLessThan(3000);
    expectAtMostOneWorkerEach(first.dataDir);
  } finally {
    await second.stop();
  }
}, 60_000);

test.each(["SIGTERM", "SIGINT"] as const)(
  "%s to `npm start` (npm's pid only, as a supervisor sends it) stops everything",
  async (signal) => {
    const dataDir = makeTempDir("npm-start");
    dirs.push(dataDir);
    const port = await freePort();
    // --ignore-scripts skips the prestart build (the suite has built already).
    const npm = spawn("npm", ["start", "--ignore-scripts", "--", "--port", String(port)], {
      cwd: ROOT,
      env: { ...process.env, DBFORGE_DATA_DIR: dataDir, DBFORGE_CONTROL_PLANE_ADDR: "127.0.0.1:0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    await new Promise<void>((ready, fail) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("DB-Forge is running")) ready();
      };
      npm.stdout?.on("data", onData);
      npm.stderr?.on("data", onData);
      npm.once("exit", (code) => fail(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    const token = readAdminToken(dataDir);
    const created = await fetch(`http://127.0.0.1:${port}/admin/databases`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "under-npm" }),
    });
    expect(created.status).toBe(201);
    expect(workerProcesses(dataDir).size).toBe(1);
    npm.kill(signal);
    await exitOf(npm);
    await eventually(async () => (workerProcesses(dataDir).size === 0 ? true : undefined), 20_000);
    // Nothing of this stack is left: no worker, no DB-Forge process listening.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    expect(readRegistry(dataDir).map((r) => r.status)).toEqual(["stopped"]);
  },
  60_000,
);
