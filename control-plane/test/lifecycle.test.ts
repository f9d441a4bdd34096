/**
 * The whole database lifecycle against both drivers for real: local processes and containers on
 * the real Docker engine.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import {
  containersOf,
  instanceOf,
  isLive,
  removeContainersOf,
  workerProcesses,
} from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";
import { followLog } from "../../testkit/worker-log";

const IMAGE = "dbforge-worker:test";

interface Info {
  name: string;
  status: string;
  url: string | null;
  workerId: string | null;
  restarts: number;
  sizeBytes: number;
}

function driverEnv(driver: "process" | "docker"): Record<string, string> {
  return driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {};
}

/** Kills the worker with SIGKILL, as a crash would. */
function killWorker(driver: "process" | "docker", workerId: string): void {
  if (driver === "docker") execFileSync("docker", ["kill", "-s", "KILL", workerId]);
  else process.kill(Number(workerId), "SIGKILL");
}

function workerExists(
  driver: "process" | "docker",
  dataDir: string,
  name: string,
  workerId: string,
): boolean {
  if (driver === "docker") return containersOf(dataDir, name).length > 0;
  // A zombie (exited, not yet reaped by its new parent) does not count.
  return isLive(workerId);
}

describe.each(["process", "docker"] as const)("%s driver", (driver) => {
  let cp: ControlPlaneProcess;
  const env = { ...driverEnv(driver), DBFORGE_IDLE_TIMEOUT_S: "2" };

  beforeAll(async () => {
    if (driver === "docker") buildImage(IMAGE);
    cp = await startControlPlaneProcess({ env });
  });
  afterAll(async () => {
    await cp.stop();
    // The Docker driver leaves stopped workers' containers when the control plane exits.
    if (driver === "docker") removeContainersOf(cp.dataDir);
    removeDir(cp.dataDir);
  });

  const info = async (name: string): Promise<Info> =>
    (await cp.api("GET", `/v1/databases/${name}`)).json() as Promise<Info>;
  const resolve = async (name: string) => {
    const res = await cp.api("POST", `/v1/databases/${name}/resolve`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { url: string; token: string };
  };
  const client = async (name: string) => {
    const { url, token } = await resolve(name);
    return createClient({ url, authToken: token });
  };

  test("create → query → restart → kill -9 → idle stop → cold start → delete", async () => {
    const created = await cp.api("POST", "/v1/databases", { name: "lifecycle" });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await created.json()).toMatchObject({
      name: "lifecycle",
      status: "running",
      restarts: 0,
    });
    if (driver === "docker") {
      // Namespaced labels, limits, the data directory mounted, the port on loopback only.
      const [id] = containersOf(cp.dataDir, "lifecycle");
      const inspected = JSON.parse(
        execFileSync("docker", ["inspect", id ?? ""], { encoding: "utf8" }),
      )[0];
      expect(inspected.Config.Labels).toMatchObject({
        "dev.dbforge.managed": "true",
        "dev.dbforge.instance": instanceOf(cp.dataDir),
        "dev.dbforge.database": "lifecycle",
      });
      expect(inspected.HostConfig.Memory).toBe(512 * 1024 * 1024);
      expect(inspected.HostConfig.MemorySwap).toBe(512 * 1024 * 1024);
      expect(inspected.HostConfig.NanoCpus).toBe(1e9);
      // Only the database's own directory, on a read-only, capability-less, non-root container.
      expect(inspected.HostConfig.Binds).toEqual([
        `${join(cp.dataDir, "lifecycle")}:/var/lib/sqld`,
      ]);
      expect(inspected.HostConfig.ReadonlyRootfs).toBe(true);
      expect(inspected.HostConfig.Tmpfs).toHaveProperty("/tmp");
      expect(inspected.HostConfig.CapDrop).toEqual(["ALL"]);
      expect(inspected.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
      expect(inspected.HostConfig.PidsLimit).toBeGreaterThan(0);
      const [uid] = String(inspected.Config.User).split(":").map(Number);
      expect(uid).toBeGreaterThan(0);
      expect(statSync(join(cp.dataDir, "lifecycle")).uid).toBe(uid);
      expect(statSync(join(cp.dataDir, "lifecycle")).mode & 0o777).toBe(0o700);
      // The process inside really runs as that user, with no capabilities.
      const status = readFileSync(`/proc/${inspected.State.Pid}/status`, "utf8");
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(uid));
      expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
      expect(inspected.HostConfig.PortBindings["8080/tcp"]).toEqual([
        { HostIp: "127.0.0.1", HostPort: "0" },
      ]);
    }

    let db = await client("lifecycle");
    await db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT)");
    await db.execute("INSERT INTO events (what) VALUES ('created')");
    db.close();

    // Restart the control plane: registry and data survive.
    await cp.stop();
    cp = await startControlPlaneProcess({ dataDir: cp.dataDir, env });
    const list = (await (await cp.api("GET", "/v1/databases")).json()) as { databases: Info[] };
    expect(list.databases.map((d) => d.name)).toEqual(["lifecycle"]);
    db = await client("lifecycle");
    expect((await db.execute("SELECT what FROM events")).rows.map((r) => r.what)).toEqual([
      "created",
    ]);

    // kill -9 the worker: acknowledged writes survive and the worker comes back by itself.
    await db.execute("INSERT INTO events (what) VALUES ('acknowledged')");
    db.close();
    const before = await info("lifecycle");
    killWorker(driver, before.workerId!);
    const after = await eventually(
      async () => {
        const i = await info("lifecycle");
        return i.restarts >= 1 && i.status === "running" && i.workerId !== before.workerId
          ? i
          : undefined;
      },
      20_000,
      "the worker to be restarted",
    );
    expect(after.workerId).not.toBe(before.workerId);
    db = await client("lifecycle");
    expect((await db.execute("SELECT count(*) AS n FROM events")).rows[0]?.n).toBe(2);
    db.close();

    // Idle: the worker stops itself; the next resolve starts it again (cold start).
    const stopped = await eventually(
      async () => {
        const i = await info("lifecycle");
        return i.status === "stopped" ? i : undefined;
      },
      20_000,
      "the idle stop",
    );
    expect(stopped.url).toBeNull();
    const started = Date.now();
    db = await client("lifecycle");
    expect((await db.execute("SELECT count(*) AS n FROM events")).rows[0]?.n).toBe(2);
    db.close();
    expect(Date.now() - started).toBeLessThan(15_000);
    const woken = await info("lifecycle");
    expect(woken.status).toBe("running");
    expect(woken.sizeBytes).toBeGreaterThan(0);
    // Docker: the gracefully stopped container itself is started again (much quicker than a
    // new one); after the crash above it was a new container.
    if (driver === "docker") expect(woken.workerId).toBe(after.workerId);

    // Delete: no worker, no files, no registry entry.
    const workerId = woken.workerId!;
    expect((await cp.api("DELETE", "/v1/databases/lifecycle")).status).toBe(204);
    expect((await cp.api("GET", "/v1/databases/lifecycle")).status).toBe(404);
    expect(workerExists(driver, cp.dataDir, "lifecycle", workerId)).toBe(false);
    expect(existsSync(join(cp.dataDir, "lifecycle"))).toBe(false);
    expect((await cp.api("DELETE", "/v1/databases/lifecycle")).status).toBe(404);
  });

  test("a resolve the moment a worker begins its idle stop hands out a worker that serves (4 rounds)", async () => {
    expect((await cp.api("POST", "/v1/databases", { name: "dozer" })).status).toBe(201);
    for (let round = 0; round < 4; round++) {
      const { workerId } = await info("dozer");
      // Followed live (the worker's own log): the resolve goes out as soon as the worker says
      // it is stopping when idle, while it still exists and its address still looks taken.
      const log = followLog(driver, cp.dataDir, "dozer", workerId!);
      try {
        await log.line(/"idle shutdown"/, 15_000);
        const db = await client("dozer");
        try {
          expect((await db.execute("SELECT 1 AS one")).rows[0]?.one, `round ${round}`).toBe(1);
        } finally {
          db.close();
        }
      } finally {
        log.stop();
      }
      const woken = await info("dozer");
      expect(woken.status).toBe("running");
      if (driver === "process")
        expect(workerProcesses(cp.dataDir).get("dozer"), `round ${round}`).toHaveLength(1);
      else expect(containersOf(cp.dataDir, "dozer")).toHaveLength(1);
    }
    expect((await cp.api("DELETE", "/v1/databases/dozer")).status).toBe(204);
  }, 90_000);

  test("tokens work with @libsql/client directly and only for their own database", async () => {
    for (const name of ["tok-a", "tok-b"])
      expect((await cp.api("POST", "/v1/databases", { name })).status).toBe(201);
    const mint = async (name: string, access: string) =>
      (
        (await (
          await cp.api("POST", `/v1/databases/${name}/tokens`, { access, expiresIn: 600 })
        ).json()) as { token: string }
      ).token;
    const { url: urlA } = await resolve("tok-a");
    const { url: urlB } = await resolve("tok-b");

    const rw = createClient({ url: urlA, authToken: await mint("tok-a", "full-access") });
    await rw.execute("CREATE TABLE t (v TEXT)");
    await rw.execute("INSERT INTO t VALUES ('a')");
    rw.close();

    const ro = createClient({ url: urlA, authToken: await mint("tok-a", "read-only") });
    expect((await ro.execute("SELECT v FROM t")).rows[0]?.v).toBe("a");
    await expect(ro.execute("INSERT INTO t VALUES ('no')")).rejects.toMatchObject({
      code: "SQLITE_READONLY",
    });
    ro.close();

    // A token for tok-a opens nothing on tok-b's worker (each database has its own key).
    const wrong = createClient({ url: urlB, authToken: await mint("tok-a", "full-access") });
    await expect(wrong.execute("SELECT 1")).rejects.toMatchObject({ code: "AUTH_JWT_INVALID" });
    wrong.close();

    // resolve accepts a database token: its own access, and FORBIDDEN for another database.
    const viaToken = await cp.api(
      "POST",
      "/v1/databases/tok-a/resolve",
      undefined,
      await mint("tok-a", "read-only"),
    );
    expect(((await viaToken.json()) as { access: string }).access).toBe("read-only");
    const crossed = await cp.api(
      "POST",
      "/v1/databases/tok-b/resolve",
      undefined,
      await mint("tok-a", "full-access"),
    );
    expect(crossed.status).toBe(403);
    expect(((await crossed.json()) as { code: string }).code).toBe("FORBIDDEN");
    const garbage = await cp.api("POST", "/v1/databases/tok-b/resolve", undefined, "not-a-token");
    expect(garbage.status).toBe(401);

    for (const name of ["tok-a", "tok-b"])
      expect((await cp.api("DELETE", `/v1/databases/${name}`)).status).toBe(204);
  });
});

describe("process driver recovery", () => {
  test("a crashed control plane adopts its running workers and reaps orphans", async () => {
    const first = await startControlPlaneProcess();
    try {
      expect((await first.api("POST", "/v1/databases", { name: "adopted" })).status).toBe(201);
      const before = (await (await first.api("GET", "/v1/databases/adopted")).json()) as Info;
      // An orphan: a worker directory and process the registry does not know.
      expect((await first.api("POST", "/v1/databases", { name: "orphan" })).status).toBe(201);
      const orphan = (await (await first.api("GET", "/v1/databases/orphan")).json()) as Info;
      await first.kill();
      // Forget "orphan" in the registry behind the control plane's back.
      const { default: Database } = await import("libsql-stable");
      const registry = new Database(join(first.dataDir, ".control-plane/registry.db"), {});
      registry.prepare("DELETE FROM databases WHERE name = 'orphan'").run();
      registry.close();

      const second = await startControlPlaneProcess({ dataDir: first.dataDir });
      try {
        const after = (await (await second.api("GET", "/v1/databases/adopted")).json()) as Info;
        expect(after.workerId).toBe(before.workerId);
        expect(after.url).toBe(before.url);
        expect(after.restarts).toBe(0);
        expect(workerExists("process", first.dataDir, "orphan", orphan.workerId!)).toBe(false);
        // Its data is not deleted: only the registry decides what to delete.
        expect(readdirSync(join(first.dataDir, "orphan"))).toContain("iku.db");
      } finally {
        await second.stop();
      }
      expect(workerExists("process", first.dataDir, "adopted", before.workerId!)).toBe(false);
    } finally {
      removeDir(first.dataDir);
    }
  });
});
