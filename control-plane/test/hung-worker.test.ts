/**
 * A worker that is still running but answers nothing is found and replaced, on both drivers,
 * and its data is served again by the new worker: one that does not answer its health probe
 * (SIGSTOP here), and, without waiting for the next probe, one the driver sees suspended (a
 * stopped process, a paused container).
 */
import { execFileSync } from "node:child_process";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { isLive, removeContainersOf } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";

const IMAGE = "dbforge-worker:test";
type Driver = "process" | "docker";

interface Info {
  status: string;
  workerId: string | null;
  restarts: number;
  lastError: string | null;
}

/** The worker's host pid (a container's init process for Docker). */
function pidOf(driver: Driver, workerId: string): number {
  if (driver === "process") return Number(workerId);
  return Number(
    execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", workerId], { encoding: "utf8" }),
  );
}

describe.each(["process", "docker"] as const)("%s driver", (driver) => {
  let cp: ControlPlaneProcess | undefined;

  afterEach(async () => {
    if (!cp) return;
    await cp.stop();
    if (driver === "docker") removeContainersOf(cp.dataDir);
    removeDir(cp.dataDir);
    cp = undefined;
  });

  /** A control plane with 200 ms rounds, a database with a row, and its worker. */
  async function setUp(probeIntervalMs: number) {
    if (driver === "docker") buildImage(IMAGE);
    const started = await startControlPlaneProcess({
      env: {
        ...(driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {}),
        DBFORGE_HEALTH_INTERVAL_MS: "200",
        DBFORGE_HEALTH_PROBE_INTERVAL_MS: String(probeIntervalMs),
      },
    });
    cp = started;
    expect((await started.api("POST", "/v1/databases", { name: "hung" })).status).toBe(201);
    const db = await client(started);
    await db.execute("CREATE TABLE t (v TEXT)");
    await db.execute("INSERT INTO t VALUES ('kept')");
    db.close();
    return { cp: started, before: await info(started) };
  }

  const info = async (cp: ControlPlaneProcess): Promise<Info> =>
    (await cp.api("GET", "/v1/databases/hung")).json() as Promise<Info>;
  const client = async (cp: ControlPlaneProcess) => {
    const res = await cp.api("POST", "/v1/databases/hung/resolve");
    expect(res.status, await res.clone().text()).toBe(200);
    const { url, token } = (await res.json()) as { url: string; token: string };
    return createClient({ url, authToken: token });
  };

  /** Waits for the replacement; returns how long it took and the database's record then. */
  async function replaced(cp: ControlPlaneProcess, before: Info, since: number) {
    const after = await eventually(
      async () => {
        const now = await info(cp);
        return now.restarts === 1 && now.status === "running" ? now : undefined;
      },
      30_000,
      "the hung worker's restart",
    ).catch((err) => {
      throw new Error(`${err.message}\n${cp.output.slice(-20).join("\n")}`);
    });
    expect(after.lastError).toBe("unhealthy");
    expect(after.workerId).not.toBe(before.workerId);
    const db = await client(cp);
    expect((await db.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["kept"]);
    db.close();
    return Date.now() - since;
  }

  test("a worker that stops answering its probes is restarted after three failures", async () => {
    const { cp, before } = await setUp(1000);
    const pid = pidOf(driver, before.workerId ?? "");
    // SIGSTOP: to Docker the container still runs (it is not paused), so only the probes
    // find it; to the process driver it is also a suspended process.
    process.kill(pid, "SIGSTOP");
    const took = await replaced(cp, before, Date.now());
    // At most a probe interval to the first failed probe, two more rounds (each up to the
    // probe's 2 s timeout), then a stop and a start.
    expect(took).toBeLessThan(15_000);
    // The stopped process is gone from the process table, not left behind (SIGTERM alone
    // would wait out the stop's 15 s grace: a stopped process acts on it only once continued).
    await eventually(async () => (isLive(pid) ? undefined : true), 10_000, "the old worker gone");
  });

  test("a suspended worker is probed at once, not at its next probe interval", async () => {
    // The next probe would be a minute away.
    const { cp, before } = await setUp(60_000);
    const pid = pidOf(driver, before.workerId ?? "");
    if (driver === "docker") execFileSync("docker", ["pause", before.workerId ?? ""]);
    else process.kill(pid, "SIGSTOP");
    const took = await replaced(cp, before, Date.now());
    expect(took).toBeLessThan(20_000);
    await eventually(async () => (isLive(pid) ? undefined : true), 10_000, "the old worker gone");
  });
});
