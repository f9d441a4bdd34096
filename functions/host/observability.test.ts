/**
 * Structured logs: the functions host, the control plane and a worker write JSON lines of one
 * shape (pino's: level, time, service, msg), with request id, route, database, key id, SQL hash,
 * duration, rows and outcome, and never SQL text or values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { NO_RATE_LIMITS } from "../../testkit/stack";
import { removeDir } from "../../testkit/temp";
import { type FunctionsHost, startFunctionsHost } from "./node";

const SECRET = "hunter2-do-not-log";
const hostLines: string[] = [];
let cp: ControlPlaneProcess;
let host: FunctionsHost;

beforeAll(async () => {
  cp = await startControlPlaneProcess({ env: { DBFORGE_LOG_LEVEL: "debug" } });
  host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url, ...NO_RATE_LIMITS, LOG_LEVEL: "info" },
    hostname: "127.0.0.1",
    port: 0,
    logDestination: new Writable({
      write(chunk, _encoding, done) {
        hostLines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    }),
  });
});
afterAll(async () => {
  await host.close();
  await cp.stop();
  removeDir(cp.dataDir);
});

const parse = (line: string) => JSON.parse(line) as Record<string, unknown>;

test("every service logs JSON lines of one shape, with what happened and no SQL values", async () => {
  const name = "logged";
  const admin = { Authorization: `Bearer ${cp.adminToken}`, "Content-Type": "application/json" };
  const post = (path: string, body: unknown) =>
    fetch(`${host.url}${path}`, { method: "POST", headers: admin, body: JSON.stringify(body) });
  expect((await post("/admin/databases", { name })).status).toBe(201);
  expect(
    (await post(`/api/db/${name}/query`, { sql: "CREATE TABLE t (secret TEXT)" })).status,
  ).toBe(200);
  const insert = await post(`/api/db/${name}/query`, {
    sql: "INSERT INTO t VALUES (?) RETURNING secret",
    params: [SECRET],
  });
  expect(insert.status).toBe(200);
  const failed = await post(`/api/db/${name}/query`, { sql: `SELECT '${SECRET}' FROM missing` });
  expect(failed.status).toBe(404);
  const client = createClient({ url: `${host.url}/db/${name}/`, authToken: cp.adminToken });
  await client.execute({ sql: "SELECT * FROM t WHERE secret = ?", args: [SECRET] });
  client.close();
  await host.close(); // flushes the buffered log
  host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url },
    hostname: "127.0.0.1",
    port: 0,
  });

  // The functions host: one line per request.
  const requests = hostLines.map(parse);
  for (const line of requests) {
    expect(line).toMatchObject({ level: 30, service: "functions", msg: "request" });
    expect(typeof line.time).toBe("number");
    expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
  }
  const queries = requests.filter((l) => l.route === "/api/db/{name}/query");
  expect(queries).toHaveLength(3);
  expect(queries[1]).toMatchObject({ status: 200, database: name, statements: 1, rows: 1 });
  expect(queries[1]?.sqlHash).toMatch(/^[0-9a-f]{16}$/);
  expect(queries[2]).toMatchObject({ status: 404, code: "TABLE_NOT_FOUND", statements: 1 });
  expect(typeof queries[2]?.durationMs).toBe("number");
  expect(requests.some((l) => l.route === "/db/{name}/*" && l.database === name)).toBe(true);

  // The control plane: the same shape, with the actor.
  const cpLines = cp.output.filter((l) => l.startsWith("{")).map(parse);
  const resolves = cpLines.filter(
    (l) => l.msg === "request" && String(l.route).endsWith("/resolve"),
  );
  expect(resolves.length).toBeGreaterThan(0);
  expect(resolves[0]).toMatchObject({
    level: 30,
    service: "control-plane",
    status: 200,
    keyId: "admin",
  });
  expect(cpLines.some((l) => l.route === "/v1/databases" && l.keyId === "admin")).toBe(true);

  // The worker, at debug: a line per statement with its hash.
  const workerLog = readFileSync(join(cp.dataDir, ".control-plane", "logs", `${name}.log`), "utf8")
    .split("\n")
    .filter(Boolean);
  const workerLines = workerLog.map(parse);
  for (const line of workerLines) {
    expect(line).toMatchObject({ service: "worker" });
    expect(typeof line.level).toBe("number");
    expect(typeof line.msg).toBe("string");
  }
  const statements = workerLines.filter((l) => l.msg === "statement");
  expect(statements.length).toBeGreaterThanOrEqual(4);
  expect(statements.every((l) => /^[0-9a-f]{16}$/.test(String(l.sqlHash)))).toBe(true);
  expect(statements.some((l) => l.outcome === "SQLITE_ERROR")).toBe(true);

  // Nowhere a value, nor the SQL text.
  for (const text of [hostLines.join("\n"), cp.output.join("\n"), workerLog.join("\n")]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("INSERT INTO");
    expect(text).not.toContain(cp.adminToken);
  }
});

test("/metrics on the functions host: Prometheus text that moves with requests, for metrics credentials only", async () => {
  const scrape = async (token?: string) =>
    fetch(`${host.url}/metrics`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  expect((await scrape()).status).toBe(401);
  expect((await scrape("not-a-token")).status).toBe(401);
  const viewerRes = await cp.api("POST", "/v1/keys", { name: "v", role: "viewer" });
  const viewer = ((await viewerRes.json()) as { key: string }).key;
  const refused = await scrape(viewer);
  expect(refused.status).toBe(403);
  expect(((await refused.json()) as { permission: string }).permission).toBe("metrics:read");

  const count = async () => {
    const res = await scrape(cp.adminToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      expect(line).toMatch(
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (NaN|[+-]Inf)$/,
      );
    }
    const match =
      /dbforge_functions_responses_total\{route="\/health",status="200",code=""\} (\d+)/.exec(text);
    return Number(match?.[1] ?? 0);
  };
  const before = await count();
  for (let i = 0; i < 3; i++) expect((await fetch(`${host.url}/health`)).status).toBe(200);
  expect(await count()).toBe(before + 3);
});
