/**
 * Where files move, on both drivers and through Docker's pool: a SQLite file imported (checked
 * as the database's user, then opened by its worker, a container under docker), rows written at
 * known instants across a backup and a kill -9 of the worker (container), restored to instants
 * in place and into new databases, and forked; the archive the worker writes inside its
 * container is shipped by the control plane from the host.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { containersOf, removeContainersOf } from "../../testkit/processes";
import { makeTempDir, removeDir } from "../../testkit/temp";

const IMAGE = "dbforge-worker:test";
const FAST = { DBFORGE_WAL_SEGMENT_MS: "300", DBFORGE_BACKUP_SHIP_INTERVAL_MS: "300" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// "docker, pool": the same through pre-started containers, whose every start hands a slot
// directory over to the database (an imported file, a restored one, a fork).
/** Pooled containers of the control plane on `dataDir` that are loaded (401 without a secret). */
async function readyPooled(dataDir: string): Promise<number> {
  let ready = 0;
  for (const id of containersOf(dataDir)) {
    const info = JSON.parse(execFileSync("docker", ["inspect", id], { encoding: "utf8" }))[0];
    const port = info.NetworkSettings.Ports?.["8080/tcp"]?.[0]?.HostPort;
    if (!info.Name.includes("_pool-") || !port) continue;
    const res = await fetch(`http://127.0.0.1:${port}/dbforge/v1/pool`, {
      signal: AbortSignal.timeout(1000),
    }).catch(() => undefined);
    if (res?.status === 401) ready++;
  }
  return ready;
}

describe.each(["process", "docker", "docker, pool"] as const)("%s driver", (setup) => {
  const driver = setup === "process" ? "process" : "docker";
  let cp: ControlPlaneProcess;
  const dir = makeTempDir("files-moving");
  beforeAll(async () => {
    if (driver === "docker") buildImage(IMAGE);
    cp = await startControlPlaneProcess({
      env: {
        ...FAST,
        ...(driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {}),
        ...(setup === "docker, pool" ? { DBFORGE_DOCKER_POOL: "2" } : {}),
      },
    });
    // Pooled containers ready (each answers its pool route) before the first start.
    while (setup === "docker, pool" && (await readyPooled(cp.dataDir)) < 2) await sleep(200);
  }, 300_000);
  afterAll(async () => {
    await cp?.stop();
    if (cp && driver === "docker") {
      removeContainersOf(cp.dataDir);
      expect(containersOf(cp.dataDir)).toEqual([]);
    }
    if (cp) removeDir(cp.dataDir);
    removeDir(dir);
  });

  async function client(name: string) {
    const res = await cp.api("POST", `/v1/databases/${name}/resolve`, {});
    expect(res.status).toBe(200);
    const { url, token } = (await res.json()) as { url: string; token: string };
    return createClient({ url, authToken: token, intMode: "number" });
  }

  async function values(name: string): Promise<number[]> {
    const db = await client(name);
    try {
      return (await db.execute("SELECT v FROM t ORDER BY v")).rows.map((r) => Number(r.v));
    } finally {
      db.close();
    }
  }

  test("import a file, archive across a backup and a kill -9, restore to instants, fork", async () => {
    const file = join(dir, "seed.db");
    execFileSync("sqlite3", [file, "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);"]);
    const imported = await fetch(`${cp.url}/v1/databases/moved/import`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${cp.adminToken}`,
        "Content-Type": "application/vnd.sqlite3",
      },
      body: readFileSync(file),
    });
    expect(imported.status, await imported.clone().text()).toBe(201);
    expect(await values("moved")).toEqual([1]);
    if (setup === "docker, pool") {
      // Served by a pooled container (its labels name its slot), with the imported file.
      const { workerId } = (await (await cp.api("GET", "/v1/databases/moved")).json()) as {
        workerId: string;
      };
      const labels = JSON.parse(
        execFileSync("docker", ["inspect", workerId], { encoding: "utf8" }),
      )[0].Config.Labels;
      expect(labels).toHaveProperty("dev.dbforge.pool");
    }

    const instants: number[] = [];
    const write = async (v: number) => {
      const db = await client("moved");
      await db.execute({ sql: "INSERT INTO t VALUES (?)", args: [v] });
      db.close();
      await sleep(200);
      instants.push(Date.now());
      await sleep(200);
    };
    await write(2);
    expect((await cp.api("POST", "/v1/databases/moved/backups")).status).toBe(201);
    await write(3);
    const info = (await (await cp.api("GET", "/v1/databases/moved")).json()) as {
      workerId: string;
    };
    if (driver === "docker") execFileSync("docker", ["kill", "-s", "KILL", info.workerId]);
    else process.kill(Number(info.workerId), "SIGKILL");
    await sleep(500);
    await write(4);

    for (const [k, at] of instants.entries()) {
      const as = `moved-at-${k}`;
      const res = await cp.api("POST", "/v1/databases/moved/restore", {
        timestamp: new Date(at).toISOString(),
        as,
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await values(as)).toEqual(Array.from({ length: k + 2 }, (_, j) => j + 1));
    }
    const inPlace = await cp.api("POST", "/v1/databases/moved/restore", {
      timestamp: new Date(instants[0] as number).toISOString(),
    });
    expect(inPlace.status, await inPlace.clone().text()).toBe(200);
    expect(await values("moved")).toEqual([1, 2]);
    const forked = await cp.api("POST", "/v1/databases/moved/fork", { name: "moved-fork" });
    expect(forked.status, await forked.clone().text()).toBe(201);
    expect(await values("moved-fork")).toEqual([1, 2]);
    const db = await client("moved-fork");
    expect((await db.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
    db.close();
  }, 120_000);
});
