/**
 * Usage and metrics, end to end on the control plane: the usage numbers equal the work done,
 * survive a control plane restart without being counted twice, and /metrics is valid Prometheus
 * text whose counters move when queries run.
 */
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { removeDir } from "../../testkit/temp";

const ENV = {
  DBFORGE_USAGE_FLUSH_MS: "100",
  DBFORGE_USAGE_INTERVAL_MS: "100",
  DBFORGE_METRICS_TOKEN: "metrics-token-0123456789",
};

let cp: ControlPlaneProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await cp?.stop();
  if (dataDir) removeDir(dataDir);
});

interface Usage {
  totals: { statements: number; rowsRead: number; rowsWritten: number; errors: number };
  hours: Array<{ hour: string; statements: number }>;
  storageBytes: number;
  quotaBytes: number;
}

async function usageOf(name: string): Promise<Usage> {
  const res = await (cp as ControlPlaneProcess).api("GET", `/v1/databases/${name}/usage`);
  expect(res.status).toBe(200);
  return (await res.json()) as Usage;
}

/** Polls until the usage reaches `statements` (workers write every 100 ms here). */
async function usageReaching(name: string, statements: number): Promise<Usage> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const usage = await usageOf(name);
    if (usage.totals.statements >= statements || Date.now() > deadline) return usage;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function client(name: string) {
  const res = await (cp as ControlPlaneProcess).api("POST", `/v1/databases/${name}/resolve`);
  const { url, token } = (await res.json()) as { url: string; token: string };
  return createClient({ url, authToken: token });
}

/** Every sample line of a Prometheus text exposition, checked line by line. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
        line,
      );
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

test("usage equals the work done, and survives a control plane restart without double counting", async () => {
  cp = await startControlPlaneProcess({ env: ENV });
  dataDir = cp.dataDir;
  const name = "usage-a";
  expect((await cp.api("POST", "/v1/databases", { name })).status).toBe(201);
  const db = await client(name);
  await db.execute("CREATE TABLE t (x)");
  await db.execute({ sql: "INSERT INTO t VALUES (?), (?), (?)", args: [1, 2, 3] });
  await db.execute("SELECT * FROM t");
  await db.execute("UPDATE t SET x = 0 WHERE x < 3");
  await db.execute("SELECT * FROM nope").catch(() => undefined);
  db.close();
  const first = await usageReaching(name, 5);
  expect(first.totals).toEqual({ statements: 5, rowsRead: 3, rowsWritten: 5, errors: 1 });
  expect(first.hours).toHaveLength(1);
  expect(first.storageBytes).toBeGreaterThan(0);
  expect(first.quotaBytes).toBe(1024 ** 3);

  // /metrics: valid text, per-database counters that match, protected.
  const unauth = await fetch(`${cp.url}/metrics`);
  expect(unauth.status).toBe(401);
  const metrics = await fetch(`${cp.url}/metrics`, {
    headers: { Authorization: `Bearer ${ENV.DBFORGE_METRICS_TOKEN}` },
  });
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
  const samples = parsePrometheus(await metrics.text());
  expect(samples.get(`dbforge_database_statements_total{database="${name}"}`)).toBe(5);
  expect(samples.get(`dbforge_database_errors_total{database="${name}"}`)).toBe(1);
  expect(samples.get('dbforge_workers{state="active"}')).toBe(1);
  expect(samples.get('dbforge_worker_starts_total{cause="create"}')).toBe(1);
  expect(samples.get(`dbforge_database_size_bytes{database="${name}"}`)).toBeGreaterThan(0);
  expect(
    [...samples.keys()].some((k) =>
      k.startsWith("dbforge_control_plane_request_duration_seconds_bucket"),
    ),
  ).toBe(true);
  // The metrics token reads metrics and nothing else.
  const denied = await cp.api("GET", "/v1/databases", undefined, ENV.DBFORGE_METRICS_TOKEN);
  expect(denied.status).toBe(403);

  // Restart: the stop writes the worker's last counters; the new control plane keeps the sum.
  await cp.stop();
  cp = await startControlPlaneProcess({ env: ENV, dataDir });
  expect((await usageOf(name)).totals).toEqual(first.totals);
  const again = await client(name);
  await again.execute("SELECT * FROM t");
  again.close();
  const after = await usageReaching(name, 6);
  expect(after.totals).toEqual({ statements: 6, rowsRead: 6, rowsWritten: 5, errors: 1 });
  // Still no double counting after more folds.
  await new Promise((r) => setTimeout(r, 500));
  expect((await usageOf(name)).totals).toEqual(after.totals);

  const summary = (await (await cp.api("GET", "/v1/usage")).json()) as {
    totals: { statements: number; storageBytes: number };
    databases: Array<{ database: string; statements: number }>;
  };
  expect(summary.databases).toEqual([expect.objectContaining({ database: name, statements: 6 })]);
  expect(summary.totals.statements).toBe(6);
  // A window with no use is empty; a bad one is a problem.
  const old = await cp.api("GET", `/v1/databases/${name}/usage?from=2020-01-01&to=2020-01-02`);
  expect(((await old.json()) as Usage).totals.statements).toBe(0);
  expect(
    (await cp.api("GET", `/v1/databases/${name}/usage?from=2021-01-02&to=2021-01-01`)).status,
  ).toBe(400);
  expect((await cp.api("GET", `/v1/databases/${name}/usage?from=soon`)).status).toBe(400);

  // Deleting forgets the database's usage: a new one of the same name starts at zero.
  expect((await cp.api("DELETE", `/v1/databases/${name}`)).status).toBe(204);
  expect((await cp.api("POST", "/v1/databases", { name })).status).toBe(201);
  expect((await usageOf(name)).totals.statements).toBe(0);
});
