/**
 * Control plane latencies, for both drivers, median of many runs:
 * - spawn: POST /v1/databases → resolve → first query answered
 * - cold start: a database stopped when idle → resolve → first query answered
 * next to the baseline of starting a bare worker process and querying it, from the same run,
 * and for each driver without its pool of pre-started workers (DBFORGE_WORKER_POOL=0; the Docker
 * driver's pool, DBFORGE_DOCKER_POOL, is off by default and measured on and off).
 * The first query is one Hrana pipeline over undici (the server's latency, not a client's).
 */
import { request } from "undici";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../testkit/control-plane-process";
import { buildImage } from "../testkit/image";
import { removeDir } from "../testkit/temp";
import { eventually } from "../testkit/wait";
import { startWorkerProcess } from "../testkit/worker";
import { median } from "./harness";

const RUNS = { process: 15, docker: 8 };
const IMAGE = "dbforge-worker:bench";

async function timed(op: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await op();
  return performance.now() - started;
}

async function firstQuery(cp: ControlPlaneProcess, name: string): Promise<void> {
  const { url, token } = (await (await cp.api("POST", `/v1/databases/${name}/resolve`)).json()) as {
    url: string;
    token: string;
  };
  await selectOne(url, token);
}

/** SELECT 1 as one pipeline. */
async function selectOne(url: string, token?: string): Promise<void> {
  const res = await request(`${url}/v2/pipeline`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }, { type: "close" }],
    }),
  });
  const body = (await res.body.json()) as { results: Array<{ type: string }> };
  if (res.statusCode !== 200 || body.results[0]?.type !== "ok") {
    throw new Error(`first query failed: ${res.statusCode} ${JSON.stringify(body)}`);
  }
}

async function bareWorker(runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    let dataDir = "";
    samples.push(
      await timed(async () => {
        const worker = await startWorkerProcess();
        dataDir = worker.dataDir;
        await selectOne(worker.url);
        void worker.stop().then(() => removeDir(dataDir));
      }),
    );
  }
  return median(samples);
}

type Setup = "process" | "process, no pool" | "docker, pool" | "docker, no pool";

/** How long the pool gets to fill again between runs, as a real client's pace would give it. */
const SETTLE_MS: Record<Setup, number> = {
  process: 600,
  "process, no pool": 600,
  "docker, pool": 2000,
  "docker, no pool": 100,
};

async function measureDriver(setup: Setup): Promise<{ spawn: number; cold: number }> {
  const driver = setup.startsWith("docker") ? "docker" : "process";
  const env: Record<string, string> = {
    DBFORGE_IDLE_TIMEOUT_S: "0.5",
    DBFORGE_HEALTH_INTERVAL_MS: "100",
  };
  if (setup === "process, no pool") env.DBFORGE_WORKER_POOL = "0";
  if (driver === "docker")
    Object.assign(env, { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE });
  if (setup === "docker, pool") env.DBFORGE_DOCKER_POOL = "2";
  const cp = await startControlPlaneProcess({ env });
  // The pool fills in the background after a start: give it the time a real client would.
  const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS[setup]));
  await settle();
  if (setup === "docker, pool") await new Promise((r) => setTimeout(r, 3000));
  try {
    const spawns: number[] = [];
    for (let i = 0; i < RUNS[driver]; i++) {
      const name = `spawn-${i}`;
      spawns.push(
        await timed(async () => {
          const res = await cp.api("POST", "/v1/databases", { name });
          if (res.status !== 201) throw new Error(await res.text());
          await firstQuery(cp, name);
        }),
      );
      await cp.api("DELETE", `/v1/databases/${name}`);
      await settle();
    }
    await cp.api("POST", "/v1/databases", { name: "cold" });
    const colds: number[] = [];
    for (let i = 0; i < RUNS[driver]; i++) {
      await eventually(
        async () => {
          const info = (await (await cp.api("GET", "/v1/databases/cold")).json()) as {
            status: string;
          };
          return info.status === "stopped" ? true : undefined;
        },
        30_000,
        "idle stop",
      );
      await settle();
      colds.push(await timed(() => firstQuery(cp, "cold")));
    }
    await cp.api("DELETE", "/v1/databases/cold");
    return { spawn: median(spawns), cold: median(colds) };
  } finally {
    await cp.stop();
    removeDir(cp.dataDir);
  }
}

/** The goals, ms: process driver, then docker. */
const GOALS: Record<Setup, { spawn: number; cold: number } | undefined> = {
  process: { spawn: 60, cold: 30 },
  "process, no pool": undefined,
  "docker, pool": { spawn: 200, cold: 150 },
  "docker, no pool": undefined,
};

export async function benchControlPlane(): Promise<void> {
  buildImage(IMAGE);
  const baseline = await bareWorker(RUNS.process);
  const rows = [];
  for (const setup of ["process", "process, no pool", "docker, pool", "docker, no pool"] as const) {
    const measured = await measureDriver(setup);
    for (const [latency, what] of [
      ["spawn", "spawn (create → first query)"],
      ["cold", "cold start (idle → first query)"],
    ] as const) {
      const ms = measured[latency];
      const goal = GOALS[setup]?.[latency];
      rows.push({
        driver: setup,
        latency: what,
        "median ms": ms.toFixed(1),
        "baseline ms": baseline.toFixed(1),
        ratio: (ms / baseline).toFixed(2),
        goal: goal === undefined ? "" : `≤ ${goal} ms${ms <= goal ? " ✓" : " ✗"}`,
      });
    }
  }
  console.log("\nControl plane latency (baseline: spawning a bare worker process and querying it)");
  console.table(rows);
}
