/**
 * Control plane latencies, for both drivers, median of many runs:
 * - spawn: POST /v1/databases → resolve → first query answered
 * - cold start: a database stopped when idle → resolve → first query answered
 * next to the baseline of starting a bare worker process and querying it, from the same run.
 */
import { createClient } from "@libsql/client";
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
  const client = createClient({ url, authToken: token });
  await client.execute("SELECT 1");
  client.close();
}

async function bareWorker(runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    let dataDir = "";
    samples.push(
      await timed(async () => {
        const worker = await startWorkerProcess();
        dataDir = worker.dataDir;
        const client = createClient({ url: worker.url });
        await client.execute("SELECT 1");
        client.close();
        void worker.stop().then(() => removeDir(dataDir));
      }),
    );
  }
  return median(samples);
}

async function measureDriver(
  driver: "process" | "docker",
): Promise<{ spawn: number; cold: number }> {
  const env: Record<string, string> = {
    DBFORGE_IDLE_TIMEOUT_S: "0.5",
    DBFORGE_HEALTH_INTERVAL_MS: "100",
  };
  if (driver === "docker")
    Object.assign(env, { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE });
  const cp = await startControlPlaneProcess({ env });
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
      colds.push(await timed(() => firstQuery(cp, "cold")));
    }
    await cp.api("DELETE", "/v1/databases/cold");
    return { spawn: median(spawns), cold: median(colds) };
  } finally {
    await cp.stop();
    removeDir(cp.dataDir);
  }
}

export async function benchControlPlane(): Promise<void> {
  buildImage(IMAGE);
  const baseline = await bareWorker(RUNS.process);
  const rows = [];
  for (const driver of ["process", "docker"] as const) {
    const { spawn, cold } = await measureDriver(driver);
    rows.push(
      {
        driver,
        latency: "spawn (create → first query)",
        "median ms": spawn.toFixed(1),
        "baseline ms": baseline.toFixed(1),
        ratio: (spawn / baseline).toFixed(2),
      },
      {
        driver,
        latency: "cold start (idle → first query)",
        "median ms": cold.toFixed(1),
        "baseline ms": baseline.toFixed(1),
        ratio: (cold / baseline).toFixed(2),
      },
    );
  }
  console.log("\nControl plane latency (baseline: spawning a bare worker process and querying it)");
  console.table(rows);
}
