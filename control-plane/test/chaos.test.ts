/**
 * Chaos: kill -9 of the control plane or of a worker at a random point inside create, delete
 * and wake, 50 rounds. After every restart the registry and the disk agree: no database without
 * files, no files without a database, nothing half-created, never two workers for a database.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { readRegistry, workerProcesses } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually, sleep } from "../../testkit/wait";

const ENV = { DBFORGE_IDLE_TIMEOUT_S: "3" };
const NAMES = ["chaos-0", "chaos-1", "chaos-2", "chaos-3"];

let cp: ControlPlaneProcess;
afterAll(async () => {
  await cp?.stop();
  if (cp) removeDir(cp.dataDir);
});

/** Waits until the control plane has finished recovering after a start. */
async function recovered(): Promise<void> {
  await eventually(async () => {
    const health = (await (await fetch(`${cp.url}/health`)).json()) as { recovering: boolean };
    return health.recovering ? undefined : true;
  });
}

/** The registry, the directories and the process table agree. */
async function expectConsistent(round: number): Promise<void> {
  const listed = await cp.api("GET", "/v1/databases");
  const body = await listed.text();
  expect(listed.status, `round ${round}: ${body}\n${cp.output.slice(-30).join("\n")}`).toBe(200);
  const { databases } = JSON.parse(body) as {
    databases: Array<{ name: string; status: string }>;
  };
  const registered = databases.map((d) => d.name).sort();
  const rows = readRegistry(cp.dataDir);
  expect(
    rows.filter((r) => r.status === "creating" || r.status === "deleting"),
    `round ${round}: half-created or half-deleted`,
  ).toEqual([]);
  const dirs = readdirSync(cp.dataDir)
    .filter((d) => d !== ".control-plane")
    .sort();
  expect(dirs, `round ${round}: files without a database`).toEqual(registered);
  for (const name of registered) {
    expect(
      existsSync(join(cp.dataDir, name, "iku.db/dbs/default/data")),
      `round ${round}: ${name} without its database file`,
    ).toBe(true);
  }
  for (const [name, pids] of workerProcesses(cp.dataDir)) {
    expect(registered, `round ${round}: a worker without a database`).toContain(name);
    expect(pids.length, `round ${round}: ${name} has workers ${pids}`).toBe(1);
  }
}

test("50 rounds of kill -9 inside create, delete and wake leave registry and disk consistent", async () => {
  cp = await startControlPlaneProcess({ env: ENV });
  const random = (n: number) => Math.floor(Math.random() * n);
  for (let round = 0; round < 50; round++) {
    const name = NAMES[random(NAMES.length)] as string;
    const op = (["create", "delete", "wake"] as const)[random(3)];
    const request =
      op === "create"
        ? cp.api("POST", "/v1/databases", { name })
        : op === "delete"
          ? cp.api("DELETE", `/v1/databases/${name}`)
          : cp.api("POST", `/v1/databases/${name}/resolve`);
    const answered = request.then(
      (res) => res.status,
      () => "no answer",
    );
    await sleep(random(200));
    if (random(2) === 0) {
      await cp.kill();
      await answered;
      cp = await startControlPlaneProcess({ dataDir: cp.dataDir, env: ENV });
    } else {
      const [pid] = [...workerProcesses(cp.dataDir).values()][random(NAMES.length)] ?? [];
      if (pid) process.kill(pid, "SIGKILL");
      await answered;
    }
    await recovered();
    await expectConsistent(round);
  }
}, 240_000);
