/**
 * The process driver's pool of pre-started workers (DBFORGE_WORKER_POOL): starts take a worker
 * that is already loaded, that worker then serves exactly its one database, and pooled workers
 * never outlive the control plane unclaimed, whatever the way it ends (a clean stop, kill -9)
 * and however starts race. Asserted on the process table and the pid files.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import { REHEARSAL_DIR_PREFIX } from "../../core/worker-pool";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { isLive, poolProcesses, workerProcesses } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually, sleep } from "../../testkit/wait";

const POOL = 3;
const ENV = { DBFORGE_WORKER_POOL: String(POOL), DBFORGE_IDLE_TIMEOUT_S: "2" };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) {
    for (const pid of [...poolProcesses(dir), ...[...workerProcesses(dir).values()].flat()]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    removeDir(dir);
  }
});

async function start(dataDir?: string): Promise<ControlPlaneProcess> {
  const cp = await startControlPlaneProcess({ ...(dataDir ? { dataDir } : {}), env: ENV });
  if (!dirs.includes(cp.dataDir)) dirs.push(cp.dataDir);
  return cp;
}

const full = (cp: ControlPlaneProcess) =>
  eventually(
    async () => (poolProcesses(cp.dataDir).length === POOL ? true : undefined),
    20_000,
    "a full pool",
  );

/** No database may ever have more than one live worker process. */
function expectAtMostOneWorkerEach(dataDir: string): void {
  for (const [name, pids] of workerProcesses(dataDir)) {
    expect(pids.length, `${name}: ${pids}`).toBeLessThanOrEqual(1);
  }
}

test("a create takes a pooled worker, which serves that database as its own process", async () => {
  const cp = await start();
  await full(cp);
  const pooled = poolProcesses(cp.dataDir);
  expect((await cp.api("POST", "/v1/databases", { name: "pooled" })).status).toBe(201);
  const [pid] = workerProcesses(cp.dataDir).get("pooled") ?? [];
  expect(pooled).toContain(pid);
  // The pid file names the worker's slot: its environment names no database.
  const pidFile = JSON.parse(
    readFileSync(join(cp.dataDir, ".control-plane/workers/pooled.json"), "utf8"),
  ) as { pid: number; slot?: string };
  expect(pidFile.pid).toBe(pid);
  expect(pidFile.slot).toMatch(/^[0-9a-f]{16}$/);
  expect(readFileSync(`/proc/${pid}/environ`, "utf8")).not.toContain("DBFORGE_WORKER_NAME=");
  // It serves, and the pool fills up again.
  const { url, token } = (await (await cp.api("POST", "/v1/databases/pooled/resolve")).json()) as {
    url: string;
    token: string;
  };
  const res = await fetch(`${url}/v2/pipeline`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }] }),
  });
  expect(res.status).toBe(200);
  await full(cp);
  // A database with another memory cap is started the ordinary way.
  expect((await cp.api("POST", "/v1/databases", { name: "big", memoryMb: 300 })).status).toBe(201);
  const [big] = workerProcesses(cp.dataDir).get("big") ?? [];
  expect(readFileSync(`/proc/${big}/environ`, "utf8")).toContain("DBFORGE_WORKER_NAME=big");
  // A clean stop leaves nothing: no worker, no pooled worker.
  expect(await cp.stop()).toBe(0);
  expect(workerProcesses(cp.dataDir).size).toBe(0);
  expect(poolProcesses(cp.dataDir)).toEqual([]);
});

/** The pooled workers' temporary directory: the process driver gives a worker no TMPDIR. */
const WORKER_TMP = "/tmp";

/** Pids that have a rehearsal directory in the workers' temporary directory. */
function rehearsing(): Set<number> {
  const pids = readdirSync(WORKER_TMP)
    .filter((f) => f.startsWith(REHEARSAL_DIR_PREFIX))
    .map((f) => Number(f.slice(REHEARSAL_DIR_PREFIX.length).split("-")[0]));
  return new Set(pids);
}

test("6 stops and kill -9s while a pooled worker rehearses: it exits and leaves nothing in /tmp", async () => {
  // A pooled worker rehearses (a throwaway database in /tmp) while the pool fills; a pool that
  // closes, or a control plane that dies, then must not leave that directory behind.
  let cp = await start();
  for (let cycle = 0; cycle < 6; cycle++) {
    const caught = await eventually(
      async () => {
        const dirs = rehearsing();
        return dirs.size > 0 ? poolProcesses(cp.dataDir).find((p) => dirs.has(p)) : undefined;
      },
      20_000,
      `cycle ${cycle}: a pooled worker rehearsing`,
      1,
    );
    if (cycle % 2 === 0) expect(await cp.stop()).toBe(0);
    else await cp.kill();
    await eventually(
      async () => (isLive(caught) ? undefined : true),
      10_000,
      `cycle ${cycle}: the rehearsing worker ${caught} to exit`,
    );
    expect(rehearsing().has(caught), `cycle ${cycle}: ${caught}'s rehearsal directory`).toBe(false);
    await eventually(
      async () => (poolProcesses(cp.dataDir).length === 0 ? true : undefined),
      10_000,
      `cycle ${cycle}: unclaimed pooled workers to exit`,
    );
    cp = await start(cp.dataDir);
  }
  expect(await cp.stop()).toBe(0);
}, 120_000);

test("kill -9 of the control plane: pooled workers exit, claimed ones are adopted", async () => {
  let cp = await start();
  await full(cp);
  expect((await cp.api("POST", "/v1/databases", { name: "survivor" })).status).toBe(201);
  const [claimed] = workerProcesses(cp.dataDir).get("survivor") ?? [];
  await cp.kill();
  await eventually(
    async () => (poolProcesses(cp.dataDir).length === 0 ? true : undefined),
    10_000,
    "unclaimed pooled workers to exit",
  );
  expect(workerProcesses(cp.dataDir).get("survivor")).toEqual([claimed]);
  cp = await start(cp.dataDir);
  await eventually(
    async () => {
      const info = (await (await cp.api("GET", "/v1/databases/survivor")).json()) as {
        status: string;
        workerId: string;
      };
      return info.status === "running" ? info : undefined;
    },
    10_000,
    "adoption",
  );
  const info = (await (await cp.api("GET", "/v1/databases/survivor")).json()) as {
    workerId: string;
  };
  expect(info.workerId).toBe(String(claimed));
  // Stopped through its pid file (its slot), not left behind.
  expect((await cp.api("DELETE", "/v1/databases/survivor")).status).toBe(204);
  expect(workerProcesses(cp.dataDir).get("survivor")).toBeUndefined();
  expect(await cp.stop()).toBe(0);
  expect(poolProcesses(cp.dataDir)).toEqual([]);
});

test("20 rounds of parallel creates, wakes and deletes at random kill points: one worker per database, no pooled orphans", async () => {
  let cp = await start();
  const names = ["r-a", "r-b", "r-c", "r-d", "r-e"];
  const random = (n: number) => Math.floor(Math.random() * n);
  for (let round = 0; round < 20; round++) {
    const ops = names.map((name) => {
      const op = random(3);
      return op === 0
        ? cp.api("POST", "/v1/databases", { name })
        : op === 1
          ? cp.api("POST", `/v1/databases/${name}/resolve`)
          : cp.api("DELETE", `/v1/databases/${name}`);
    });
    const answered = Promise.allSettled(ops);
    await sleep(random(120));
    expectAtMostOneWorkerEach(cp.dataDir);
    if (round % 4 === 3) {
      await cp.kill();
      await answered;
      await eventually(
        async () => (poolProcesses(cp.dataDir).length === 0 ? true : undefined),
        10_000,
        `round ${round}: unclaimed pooled workers to exit`,
      );
      expectAtMostOneWorkerEach(cp.dataDir);
      cp = await start(cp.dataDir);
    } else {
      await answered;
    }
    expectAtMostOneWorkerEach(cp.dataDir);
    expect(poolProcesses(cp.dataDir).length, `round ${round}`).toBeLessThanOrEqual(POOL);
  }
  expect(await cp.stop()).toBe(0);
  expect(workerProcesses(cp.dataDir).size).toBe(0);
  expect(poolProcesses(cp.dataDir)).toEqual([]);
}, 180_000);

test("10 revokes in a row with a WebSocket client open: each restart waits out the old worker", async () => {
  // An exiting process loses /proc/<pid>/environ before it closes its files (its worker lock):
  // a restart must wait for the process, not only for its identity, or it finds the lock held.
  const cp = await start();
  await full(cp);
  expect((await cp.api("POST", "/v1/databases", { name: "revoked" })).status).toBe(201);
  for (let i = 0; i < 10; i++) {
    const { url, token } = (await (
      await cp.api("POST", "/v1/databases/revoked/resolve")
    ).json()) as { url: string; token: string };
    const ws = createClient({ url: url.replace("http", "ws"), authToken: token });
    await ws.execute("SELECT 1");
    const res = await cp.api("POST", "/v1/databases/revoked/tokens/revoke");
    expect(res.status, `revoke ${i}: ${await res.clone().text()}`).toBe(204);
    ws.close();
    expectAtMostOneWorkerEach(cp.dataDir);
  }
  expect(await cp.stop()).toBe(0);
  expect(workerProcesses(cp.dataDir).size).toBe(0);
});
