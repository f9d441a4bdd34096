/**
 * A worker that is still running but answers nothing (here: SIGSTOP) is found by the health
 * probe and replaced, on both drivers, and its data is served again by the new worker.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { removeContainersOf } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";

const IMAGE = "dbforge-worker:test";
const PROBE_INTERVAL_MS = 1000;

interface Info {
  status: string;
  workerId: string | null;
  restarts: number;
  lastError: string | null;
}

/** The worker's host pid (a container's init process for Docker). */
function pidOf(driver: "process" | "docker", workerId: string): number {
  if (driver === "process") return Number(workerId);
  return Number(
    execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", workerId], { encoding: "utf8" }),
  );
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

describe.each(["process", "docker"] as const)("%s driver", (driver) => {
  let cp: ControlPlaneProcess;

  beforeAll(async () => {
    if (driver === "docker") buildImage(IMAGE);
    cp = await startControlPlaneProcess({
      env: {
        ...(driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {}),
        DBFORGE_HEALTH_INTERVAL_MS: "200",
        DBFORGE_HEALTH_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
      },
    });
  });
  afterAll(async () => {
    await cp.stop();
    if (driver === "docker") removeContainersOf(cp.dataDir);
    removeDir(cp.dataDir);
  });

  const info = async (name: string): Promise<Info> =>
    (await cp.api("GET", `/v1/databases/${name}`)).json() as Promise<Info>;
  const client = async (name: string) => {
    const res = await cp.api("POST", `/v1/databases/${name}/resolve`);
    expect(res.status, await res.clone().text()).toBe(200);
    const { url, token } = (await res.json()) as { url: string; token: string };
    return createClient({ url, authToken: token });
  };

  test("a stopped (SIGSTOP) worker is restarted within a probe interval and three rounds", async () => {
    expect((await cp.api("POST", "/v1/databases", { name: "hung" })).status).toBe(201);
    let db = await client("hung");
    await db.execute("CREATE TABLE t (v TEXT)");
    await db.execute("INSERT INTO t VALUES ('kept')");
    db.close();

    const before = await info("hung");
    const pid = pidOf(driver, before.workerId ?? "");
    process.kill(pid, "SIGSTOP");
    const stoppedAt = Date.now();
    const after = await eventually(
      async () => {
        const now = await info("hung");
        return now.restarts === 1 && now.status === "running" ? now : undefined;
      },
      20_000,
      "the hung worker's restart",
    ).catch((err) => {
      throw new Error(`${err.message}\n${cp.output.slice(-20).join("\n")}`);
    });
    // A probe interval to the first failed probe, two more rounds (each up to the probe's 2 s
    // timeout), then the stop's grace and a start: well under 15 s, far more than 0.
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThan(400);
    expect(took).toBeLessThan(15_000);
    expect(after.lastError).toBe("unhealthy");
    expect(after.workerId).not.toBe(before.workerId);
    // The stopped process is gone from the process table, not left behind.
    await eventually(async () => (alive(pid) ? undefined : true), 10_000, "the old worker gone");

    db = await client("hung");
    expect((await db.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["kept"]);
    db.close();
  });
});
