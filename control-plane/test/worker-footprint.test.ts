/**
 * What every database's worker costs in threads, on both drivers (memoryEnv): one V8 helper
 * thread and one tokio thread for libSQL, not one per core of each. Asserted on the process
 * table: the threads of the worker's process (a container's is its main process).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { containersOf, removeContainersOf, workerProcesses } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";

const IMAGE = "dbforge-worker:test";
/** node's main thread and its own (libuv pool, inspector, signals...), V8's one, tokio's two. */
const MAX_THREADS = 11;

function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim(),
  );
}

describe.each(["process", "docker"] as const)("%s driver", (driver) => {
  let cp: ControlPlaneProcess;
  beforeAll(async () => {
    if (driver === "docker") buildImage(IMAGE);
    cp = await startControlPlaneProcess({
      env: driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {},
    });
  }, 300_000);
  afterAll(async () => {
    await cp?.stop();
    if (cp && driver === "docker") removeContainersOf(cp.dataDir);
    if (cp) removeDir(cp.dataDir);
  });

  /** The worker's process on this machine. */
  function workerPid(name: string): number {
    if (driver === "process") {
      const pids = workerProcesses(cp.dataDir).get(name) ?? [];
      expect(pids).toHaveLength(1);
      return pids[0] as number;
    }
    const pids = containersOf(cp.dataDir)
      .map((id) => JSON.parse(execFileSync("docker", ["inspect", id], { encoding: "utf8" }))[0])
      .filter((info) => info.Name.endsWith(`-${name}`))
      .map((info) => info.State.Pid as number);
    expect(pids).toHaveLength(1);
    return pids[0] as number;
  }

  test(`a worker that has served queries runs at most ${MAX_THREADS} threads`, async () => {
    expect((await cp.api("POST", "/v1/databases", { name: "threads" })).status).toBe(201);
    const { url, token } = (await (
      await cp.api("POST", "/v1/databases/threads/resolve", {})
    ).json()) as { url: string; token: string };
    const db = createClient({ url, authToken: token });
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [`row ${i}`] }),
      ),
    );
    await db.execute("SELECT * FROM t");
    db.close();
    const names = threadNames(workerPid("threads"));
    expect(names.length, names.join(", ")).toBeLessThanOrEqual(MAX_THREADS);
    // One runtime worker (and the thread tokio starts for its blocking work).
    expect(names.filter((n) => n.startsWith("tokio")).length, names.join(", ")).toBeLessThanOrEqual(
      2,
    );
  }, 60_000);
});
