/**
 * The functions' resolve cache against real workers that stop when idle, on both drivers: an
 * address is kept no longer than the control plane vouches for the worker staying up.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { containersOf, removeContainersOf, workerProcesses } from "../../testkit/processes";
import { NO_RATE_LIMITS } from "../../testkit/stack";
import { removeDir } from "../../testkit/temp";
import { followLog } from "../../testkit/worker-log";
import { type FunctionsHost, startFunctionsHost } from "../host/node";

const IMAGE = "dbforge-worker:test";

describe.each(["process", "docker"] as const)("%s driver", (driver) => {
  let cp: ControlPlaneProcess;
  let host: FunctionsHost;

  beforeAll(async () => {
    if (driver === "docker") buildImage(IMAGE);
    cp = await startControlPlaneProcess({
      env: {
        DBFORGE_IDLE_TIMEOUT_S: "2",
        ...(driver === "docker" ? { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: IMAGE } : {}),
      },
    });
    // A cache far longer than the idle timeout: without the control plane's bound, a query
    // after an idle stop would go to the cached address of the stopped worker.
    host = await startFunctionsHost({
      env: { CONTROL_PLANE_URL: cp.url, RESOLVE_CACHE_MS: "60000", ...NO_RATE_LIMITS },
      hostname: "127.0.0.1",
      port: 0,
      logDestination: { write: () => true },
    });
  });
  afterAll(async () => {
    await host?.close();
    await cp?.stop();
    if (driver === "docker") removeContainersOf(cp.dataDir);
    removeDir(cp.dataDir);
  });

  const query = async (name: string, round: number) => {
    const res = await fetch(`${host.url}/api/db/${name}/query`, {
      method: "POST",
      headers: { authorization: `Bearer ${cp.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ sql: "SELECT 1 AS one" }),
    });
    // Before the bound: 503 WORKER_UNAVAILABLE ("other side closed": the stopping worker, or
    // Docker's port proxy in front of it, closed the connection unanswered).
    expect(res.status, `round ${round}: ${await res.clone().text()}`).toBe(200);
    expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([{ one: 1 }]);
  };

  test("a query the moment the worker begins its idle stop is answered (3 rounds)", async () => {
    expect((await cp.api("POST", "/v1/databases", { name: "napper" })).status).toBe(201);
    for (let round = 0; round < 3; round++) {
      await query("napper", round);
      const info = (await (await cp.api("GET", "/v1/databases/napper")).json()) as {
        workerId: string;
      };
      const log = followLog(driver, cp.dataDir, "napper", info.workerId);
      try {
        await log.line(/"idle shutdown"/, 15_000);
        await query("napper", round);
      } finally {
        log.stop();
      }
      if (driver === "process")
        expect(workerProcesses(cp.dataDir).get("napper"), `round ${round}`).toHaveLength(1);
      else expect(containersOf(cp.dataDir, "napper"), `round ${round}`).toHaveLength(1);
    }
    expect((await cp.api("DELETE", "/v1/databases/napper")).status).toBe(204);
  }, 90_000);
});
