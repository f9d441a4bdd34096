/**
 * The functions host's hot path (core/hot-path.ts, used by ./proxy-lane.ts) keeps every
 * connection it can: the requests on it the lane does not take are answered by the full path in
 * this process. Those answers must be the ones node:http's listener gives (a host with
 * FAST_LANE=off, on the same control plane), status, headers and body; a kept-alive connection
 * that carried admin calls and @libsql/client's version probe still gets its pipelines through
 * the lane.
 */
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { removeDir } from "../../testkit/temp";
import { type FunctionsHost, startFunctionsHost } from "./node";

let cp: ControlPlaneProcess;
let lane: FunctionsHost;
let full: FunctionsHost;
let token: string;

const hostWith = (fastLane: "on" | "off") =>
  startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url, LOG_LEVEL: "silent", FAST_LANE: fastLane },
    hostname: "127.0.0.1",
    port: 0,
  });

const admin = () => ({ authorization: `Bearer ${cp.adminToken}` });

beforeAll(async () => {
  cp = await startControlPlaneProcess();
  [lane, full] = await Promise.all([hostWith("on"), hostWith("off")]);
  const created = await fetch(`${full.url}/admin/databases`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json" },
    body: JSON.stringify({ name: "hp" }),
  });
  expect(created.status).toBe(201);
  const minted = await fetch(`${full.url}/admin/databases/hp/tokens`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json" },
    body: JSON.stringify({ access: "full-access" }),
  });
  token = ((await minted.json()) as { token: string }).token;
  const setup = await fetch(`${full.url}/api/db/hp/batch`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json" },
    body: JSON.stringify({
      statements: [
        { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" },
        { sql: "INSERT INTO t SELECT value, hex(randomblob(40)) FROM generate_series(1, 3000)" },
      ],
    }),
  });
  expect(setup.status).toBe(200);
});
afterAll(async () => {
  await Promise.all([lane?.close(), full?.close()]);
  await cp?.stop();
  if (cp) removeDir(cp.dataDir);
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request as it goes on the wire, on `agent` (a kept-alive connection of its own by default). */
function send(host: FunctionsHost, sent: Sent, agent?: Agent): Promise<Answer> {
  const own = agent ?? new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    const body = sent.body;
    const req = request(`${host.url}${sent.path}`, {
      agent: own,
      method: sent.method,
      headers: {
        ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }),
        ...sent.headers,
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        if (!agent) own.destroy();
        const headers: Record<string, string> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers[(res.rawHeaders[i] as string).toLowerCase()] = res.rawHeaders[i + 1] as string;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Everything but the date, the connection's own headers, request ids and timings. */
function comparable(answer: Answer): unknown {
  const headers = { ...answer.headers };
  for (const name of ["date", "connection", "keep-alive", "x-request-id"]) delete headers[name];
  if (headers["content-length"] !== undefined) {
    expect(Number(headers["content-length"])).toBe(answer.body.length);
    headers["content-length"] = "(the body's)";
  }
  for (const name of ["ratelimit", "ratelimit-remaining", "ratelimit-reset"])
    if (headers[name]) headers[name] = headers[name].replace(/[rt]=\d+|^\d+$/g, "N");
  const text = answer.body
    .toString()
    // Each host names itself in the URLs it gives.
    .replace(/http:\/\/127\.0\.0\.1:\d+/g, "(host)")
    .replace(
      /"(requestId|query_duration_ms|duration_ms|durationMs)":("[^"]*"|[0-9.e-]+)/g,
      '"$1":"…"',
    )
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "(uuid)");
  return { status: answer.status, headers, body: text };
}

/** Requests the lane host's lane took, by its own counter. */
async function laneCount(): Promise<number> {
  const res = await fetch(`${lane.url}/metrics`, { headers: admin() });
  const match = /^dbforge_functions_fast_lane_requests_total (\d+)$/m.exec(await res.text());
  if (!match) throw new Error("no fast lane counter in /metrics");
  return Number(match[1]);
}

const json = { "content-type": "application/json" };

describe("what the lane does not take: the full path's answers, as node:http gives them", () => {
  const cases: Array<[string, () => Sent]> = [
    ["the health check", () => ({ method: "GET", path: "/health" })],
    ["an admin list", () => ({ method: "GET", path: "/admin/databases", headers: admin() })],
    [
      "an admin read of a database that does not exist (problem+json)",
      () => ({ method: "GET", path: "/admin/databases/nope", headers: admin() }),
    ],
    ["no credentials on an admin route", () => ({ method: "GET", path: "/admin/databases" })],
    ["an unknown route", () => ({ method: "GET", path: "/nowhere/at/all" })],
    ["a method a route does not have", () => ({ method: "PATCH", path: "/health" })],
    [
      "a REST query",
      () => ({
        method: "POST",
        path: "/api/db/hp/query",
        headers: { ...admin(), ...json },
        body: JSON.stringify({ sql: "SELECT id, v FROM t WHERE id < 4" }),
      }),
    ],
    [
      "a REST query of many rows, offered compression",
      () => ({
        method: "POST",
        path: "/api/db/hp/query",
        headers: { ...admin(), ...json, "accept-encoding": "gzip" },
        body: JSON.stringify({ sql: "SELECT * FROM t" }),
      }),
    ],
    [
      "a REST body that is not JSON",
      () => ({
        method: "POST",
        path: "/api/db/hp/query",
        headers: { ...admin(), ...json },
        body: "{nope",
      }),
    ],
    [
      "a CORS preflight",
      () => ({
        method: "OPTIONS",
        path: "/api/db/hp/query",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      }),
    ],
    [
      "@libsql/client's version probe",
      () => ({ method: "GET", path: "/db/hp/v3", headers: { authorization: `Bearer ${token}` } }),
    ],
    [
      "a percent-encoded name",
      () => ({ method: "GET", path: "/api/db/h%70/tables", headers: admin() }),
    ],
    [
      "a query string",
      () => ({ method: "GET", path: "/admin/databases?limit=1", headers: admin() }),
    ],
    ["HEAD (node:http's)", () => ({ method: "HEAD", path: "/health" })],
    [
      "an export (streamed)",
      () => ({ method: "GET", path: "/api/db/hp/export", headers: admin() }),
    ],
  ];

  test.each(cases)("%s", async (_what, sent) => {
    const before = await laneCount();
    const fast = await send(lane, sent());
    const slow = await send(full, sent());
    expect(comparable(fast)).toEqual(comparable(slow));
    expect(fast.status).toBeLessThan(500);
    expect(await laneCount()).toBe(before);
  });
});

test("one kept-alive connection: admin calls and the version probe, then its pipelines take the lane", async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  agent.on("free", (socket) => sockets.add(socket));
  try {
    const pipeline = {
      method: "POST",
      path: "/db/hp/v2/pipeline",
      headers: { authorization: `Bearer ${token}`, ...json },
      body: JSON.stringify({
        requests: [{ type: "execute", stmt: { sql: "SELECT count(*) FROM t" } }, { type: "close" }],
      }),
    };
    expect(
      (await send(lane, { method: "GET", path: "/admin/databases", headers: admin() }, agent))
        .status,
    ).toBe(200);
    expect(
      (
        await send(
          lane,
          { method: "GET", path: "/db/hp/v3", headers: { authorization: `Bearer ${token}` } },
          agent,
        )
      ).status,
    ).toBe(200);
    const before = await laneCount();
    for (let i = 0; i < 5; i++) expect((await send(lane, pipeline, agent)).status).toBe(200);
    // The first may fill the resolve cache through the full path; the others are the lane's.
    expect(await laneCount()).toBeGreaterThanOrEqual(before + 4);
    expect(sockets.size).toBe(1);
  } finally {
    agent.destroy();
  }
});
