/**
 * A pooled worker costs no more memory than a freshly started one. A pooled worker rehearses
 * (serves a throwaway database) while it waits, and an idle process never collects: without the
 * collection after the rehearsal, a pooled worker kept 0.5 MiB of private memory more than a
 * fresh one for its whole life, and most databases get a pooled worker. Nor may the rehearsal
 * load code the worker never runs: it sent its pipelines with node:http's client, whose
 * modules stayed compiled in the heap (~0.2 MiB more; the margin below then failed 1 run in 2).
 *
 * Measured on the process table (privateBytes: what one more database really costs). Both
 * control planes run at once, so that the shared files (node, the engine's library) are mapped
 * by several processes and count as shared for both.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { ACTIVE_DATABASE_PIPELINE, privateBytes } from "../../testkit/density";
import { poolProcesses, workerProcesses } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually, sleep } from "../../testkit/wait";

const KIB = 1024;
/** Between a fresh worker's figure and the 0.5 MiB a kept rehearsal costs. */
const MARGIN_BYTES = 256 * KIB;
const DATABASES = 3;
/** Pooled workers kept ready: every database of the pooled side takes one. */
const POOL = DATABASES;

let fresh: ControlPlaneProcess;
let pooled: ControlPlaneProcess;

beforeAll(async () => {
  [fresh, pooled] = await Promise.all([
    startControlPlaneProcess({ env: { DBFORGE_WORKER_POOL: "0", DBFORGE_IDLE_TIMEOUT_S: "600" } }),
    startControlPlaneProcess({
      env: { DBFORGE_WORKER_POOL: String(POOL), DBFORGE_IDLE_TIMEOUT_S: "600" },
    }),
  ]);
});

afterAll(async () => {
  for (const cp of [fresh, pooled]) {
    await cp?.stop();
    if (cp) removeDir(cp.dataDir);
  }
});

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Creates databases on `cp` and has each serve what bench/density.ts has them serve. */
async function activeWorkers(cp: ControlPlaneProcess): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < DATABASES; i++) {
    const name = `memory-${i}`;
    const before = poolProcesses(cp.dataDir);
    expect((await cp.api("POST", "/v1/databases", { name })).status).toBe(201);
    const { url, token } = (await (
      await cp.api("POST", `/v1/databases/${name}/resolve`)
    ).json()) as { url: string; token: string };
    const res = await fetch(`${url}/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: ACTIVE_DATABASE_PIPELINE,
    });
    expect(res.status).toBe(200);
    await res.text();
    const [pid] = workerProcesses(cp.dataDir).get(name) ?? [];
    if (pid === undefined) throw new Error(`${name} has no worker`);
    // The pooled side must really measure pooled workers.
    if (cp === pooled) expect(before).toContain(pid);
    pids.push(pid);
  }
  return pids;
}

test("a worker taken from the pool has no more private memory than a fresh one", async () => {
  await eventually(
    async () => (poolProcesses(pooled.dataDir).length === POOL ? true : undefined),
    20_000,
    "a full pool",
  );
  const [freshPids, pooledPids] = [await activeWorkers(fresh), await activeWorkers(pooled)];
  await sleep(2_000);
  const freshBytes = median(freshPids.map(privateBytes));
  const pooledBytes = median(pooledPids.map(privateBytes));
  expect(
    pooledBytes,
    `pooled ${(pooledBytes / KIB).toFixed(0)} KiB, fresh ${(freshBytes / KIB).toFixed(0)} KiB`,
  ).toBeLessThanOrEqual(freshBytes + MARGIN_BYTES);
}, 90_000);
