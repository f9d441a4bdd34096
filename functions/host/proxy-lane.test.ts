/**
 * The Node host's fast lane for libSQL pipelines answers as the full path does: the same
 * requests sent to a host with the lane and to one without (FAST_LANE=off), on one control
 * plane, get the same status, headers and body (up to timings, request ids and batons), and the
 * lane's counter shows which requests it took and which it left to the full path.
 */
import { Agent, request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { workerProcesses } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { type FunctionsHost, startFunctionsHost } from "./node";

let cp: ControlPlaneProcess;
let lane: FunctionsHost;
let full: FunctionsHost;

const hostWith = (fastLane: "on" | "off") =>
  startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url, LOG_LEVEL: "silent", FAST_LANE: fastLane },
    hostname: "127.0.0.1",
    port: 0,
  });

beforeAll(async () => {
  cp = await startControlPlaneProcess();
  [lane, full] = await Promise.all([hostWith("on"), hostWith("off")]);
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

/** One request as it goes on the wire (no fetch: it would decompress and hide headers). */
function send(
  host: FunctionsHost,
  path: string,
  options: { headers?: Record<string, string>; body?: string; chunked?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? "";
    // A connection of its own (kept alive, as clients keep theirs): one that a request outside
    // the hot path's subset (chunked, a query string) handed to node:http stays there.
    const agent = new Agent({ keepAlive: true });
    const req = request(`${host.url}${path}`, {
      agent,
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.chunked ? {} : { "content-length": String(Buffer.byteLength(body)) }),
        ...options.headers,
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const headers: Record<string, string> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers[(res.rawHeaders[i] as string).toLowerCase()] = res.rawHeaders[i + 1] as string;
        agent.destroy();
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.chunked) req.write(body);
    req.end(body && !options.chunked ? body : undefined);
  });
}

/** What must be equal: everything but the date, request ids, batons, timings and token counts. */
function comparable(answer: Answer): unknown {
  const headers = { ...answer.headers };
  for (const name of ["date", "connection", "keep-alive", "x-request-id"]) delete headers[name];
  for (const name of ["ratelimit", "ratelimit-remaining", "ratelimit-reset"])
    if (headers[name]) headers[name] = headers[name].replace(/[rt]=\d+|^\d+$/g, "N");
  // The length varies with the timings in the body: checked against it, then compared as a flag.
  if (headers["content-length"] !== undefined) {
    expect(Number(headers["content-length"])).toBe(answer.body.length);
    headers["content-length"] = "(the body's)";
  }
  const encoding = answer.headers["content-encoding"];
  const bytes =
    encoding === "gzip"
      ? gunzipSync(answer.body)
      : encoding === "br"
        ? brotliDecompressSync(answer.body)
        : answer.body;
  const text = bytes.toString().replace(/"baton":"[^"]*"/g, '"baton":"…"');
  let body: unknown = text;
  if (/json/.test(headers["content-type"] ?? "")) {
    body = JSON.parse(text, (key, value) =>
      key === "query_duration_ms" ? 0 : key === "requestId" || key === "baton" ? "…" : value,
    );
  }
  return { status: answer.status, headers, body };
}

/** Requests the lane host took, by its own counter. */
async function laneCount(): Promise<number> {
  const res = await fetch(`${lane.url}/metrics`, {
    headers: { Authorization: `Bearer ${cp.adminToken}` },
  });
  const text = await res.text();
  const match = /^dbforge_functions_fast_lane_requests_total (\d+)$/m.exec(text);
  if (!match) throw new Error(`no fast lane counter in /metrics (${res.status})`);
  return Number(match[1]);
}

const admin = () => ({ Authorization: `Bearer ${cp.adminToken}` });

async function adminPost(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${full.url}${path}`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function database(name: string): Promise<string> {
  await adminPost("/admin/databases", { name });
  const { token } = await adminPost(`/admin/databases/${name}/tokens`, { access: "full-access" });
  return token as string;
}

const pipeline = (...sql: string[]) =>
  JSON.stringify({
    requests: [...sql.map((s) => ({ type: "execute", stmt: { sql: s } })), { type: "close" }],
  });

/**
 * Sends `path` with `options` to both hosts, after a first request by the same caller (which
 * fills the resolve cache the lane needs), and returns both answers.
 */
async function both(path: string, options: Parameters<typeof send>[2]) {
  const warm = { headers: options?.headers, body: pipeline("SELECT 1") };
  await send(full, path.replace(/\/v3\/pipeline.*|\/v2\/pipeline.*/, "/v2/pipeline"), warm);
  return { lane: await send(lane, path, options), full: await send(full, path, options) };
}

describe("the same answers as the full path", () => {
  let token: string;
  beforeAll(async () => {
    token = await database("lane");
    await adminPost("/api/db/lane/batch", {
      statements: [
        { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" },
        { sql: "INSERT INTO t SELECT value, hex(randomblob(40)) FROM generate_series(1, 2000)" },
      ],
    });
  });

  const cases: Array<[string, string, () => Parameters<typeof send>[2], boolean]> = [
    [
      "a point select (v2)",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT 1, 'x'") }),
      true,
    ],
    [
      "a v3 pipeline that keeps its stream (a baton back)",
      "/db/lane/v3/pipeline",
      () => ({
        body: JSON.stringify({
          baton: null,
          requests: [{ type: "execute", stmt: { sql: "SELECT 2" } }],
        }),
      }),
      true,
    ],
    [
      "an SQL error in the results",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT * FROM missing") }),
      true,
    ],
    [
      "the worker's own 400 (a baton it never gave)",
      "/db/lane/v3/pipeline",
      () => ({ body: JSON.stringify({ baton: "forged", requests: [] }) }),
      true,
    ],
    ["a body that is not JSON", "/db/lane/v2/pipeline", () => ({ body: "{nope" }), true],
    [
      "a large answer, plain (streamed)",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT * FROM t") }),
      true,
    ],
    [
      "a large answer, gzip",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT * FROM t"), headers: { "accept-encoding": "gzip" } }),
      true,
    ],
    [
      "a large answer, brotli",
      "/db/lane/v2/pipeline",
      () => ({
        body: pipeline("SELECT * FROM t"),
        headers: { "accept-encoding": "br;q=1, gzip;q=0.5" },
      }),
      true,
    ],
    [
      "a small answer to a client offering compression (not compressed)",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT 3"), headers: { "accept-encoding": "gzip, br" } }),
      true,
    ],
    [
      "a query string (full path)",
      "/db/lane/v2/pipeline?x=1",
      () => ({ body: pipeline("SELECT 4") }),
      false,
    ],
    [
      "a chunked body (full path)",
      "/db/lane/v2/pipeline",
      () => ({ body: pipeline("SELECT 5"), chunked: true }),
      false,
    ],
    [
      "a v3 cursor (a batch, as @libsql/client sends it)",
      "/db/lane/v3/cursor",
      () => ({
        body: JSON.stringify({
          baton: null,
          batch: {
            steps: [
              { stmt: { sql: "SELECT id, v FROM t WHERE id <= 3" } },
              { stmt: { sql: "SELECT * FROM missing" } },
            ],
          },
        }),
      }),
      true,
    ],
    [
      "a v3 cursor with a large answer, to a client offering compression",
      "/db/lane/v3/cursor",
      () => ({
        body: JSON.stringify({
          baton: null,
          batch: { steps: [{ stmt: { sql: "SELECT * FROM t" } }] },
        }),
        headers: { "accept-encoding": "gzip" },
      }),
      true,
    ],
  ];

  test.each(cases)("%s", async (_what, path, options, taken) => {
    const opts = options();
    const headers = { Authorization: `Bearer ${token}`, ...opts?.headers };
    const before = await laneCount();
    const { lane: fast, full: slow } = await both(path, { ...opts, headers });
    expect(await laneCount()).toBe(before + (taken ? 1 : 0));
    expect(comparable(fast)).toEqual(comparable(slow));
    expect(fast.status).toBeLessThan(500);
    // Rate limits are on (the defaults): their headers are on every answer of both paths.
    expect(fast.headers["ratelimit-policy"]).toMatch(/"credential"/);
  });

  test("a caller revoked since it was cached: the same 401, with the client's request id", async () => {
    const revoked = await database("lane-id");
    const headers = { Authorization: `Bearer ${revoked}`, "x-request-id": "my-id-1" };
    const body = pipeline("SELECT 1");
    // Fills the (process-wide) resolve cache for this caller, then revokes its token.
    expect((await send(full, "/db/lane-id/v2/pipeline", { headers, body })).status).toBe(200);
    await fetch(`${full.url}/admin/databases/lane-id/tokens/revoke`, {
      method: "POST",
      headers: admin(),
    });
    const before = await laneCount();
    const fast = await send(lane, "/db/lane-id/v2/pipeline", { headers, body });
    expect(await laneCount()).toBe(before + 1);
    const slow = await send(full, "/db/lane-id/v2/pipeline", { headers, body });
    expect(fast.status).toBe(401);
    expect(fast.headers["x-request-id"]).toBe("my-id-1");
    expect(comparable(fast)).toEqual(comparable(slow));
  });
});

describe("what changed since the cache was filled", () => {
  test("a revoked caller gets the control plane's 401, an admin goes on with a new worker token", async () => {
    const token = await database("lane-revoked");
    const caller = { Authorization: `Bearer ${token}` };
    const body = pipeline("SELECT 1");
    for (const headers of [caller, admin()])
      expect((await send(lane, "/db/lane-revoked/v2/pipeline", { headers, body })).status).toBe(
        200,
      );
    const before = await laneCount();
    const revoke = await fetch(`${full.url}/admin/databases/lane-revoked/tokens/revoke`, {
      method: "POST",
      headers: admin(),
    });
    expect(revoke.status).toBeLessThan(300);
    const refused = await send(lane, "/db/lane-revoked/v2/pipeline", { headers: caller, body });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: "UNAUTHORIZED" });
    expect(refused.headers["dbforge-error-code"]).toBe("UNAUTHORIZED");
    const renewed = await send(lane, "/db/lane-revoked/v2/pipeline", { headers: admin(), body });
    expect(renewed.status).toBe(200);
    // Both were the lane's: their callers were cached (the worker refused the old token).
    expect(await laneCount()).toBe(before + 2);
  });

  test("a deleted database: its stopped worker refuses, the fresh resolve says it is gone", async () => {
    await database("lane-deleted");
    const body = pipeline("SELECT 1");
    expect(
      (await send(lane, "/db/lane-deleted/v2/pipeline", { headers: admin(), body })).status,
    ).toBe(200);
    const deleted = await fetch(`${full.url}/admin/databases/lane-deleted`, {
      method: "DELETE",
      headers: admin(),
    });
    expect(deleted.status).toBeLessThan(300);
    const before = await laneCount();
    const gone = await send(lane, "/db/lane-deleted/v2/pipeline", { headers: admin(), body });
    expect(await laneCount()).toBe(before + 1);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body.toString())).toMatchObject({
      code: "DATABASE_NOT_FOUND",
      message: expect.any(String),
    });
    const again = await send(full, "/db/lane-deleted/v2/pipeline", { headers: admin(), body });
    expect(comparable(gone)).toEqual(comparable(again));
  });
});

test("64 pipelines at once on the lane: each answer is its own request's", async () => {
  const token = await database("lane-parallel");
  const headers = { Authorization: `Bearer ${token}` };
  await send(lane, "/db/lane-parallel/v2/pipeline", { headers, body: pipeline("SELECT 0") });
  const before = await laneCount();
  const answers = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      send(lane, "/db/lane-parallel/v2/pipeline", { headers, body: pipeline(`SELECT ${i} AS n`) }),
    ),
  );
  answers.forEach((answer, i) => {
    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.body.toString()).results[0].response.result;
    expect(result.rows[0][0]).toEqual({ type: "integer", value: String(i) });
  });
  expect(await laneCount()).toBe(before + 64);
});

describe("the limits hold on the lane", () => {
  let strict: FunctionsHost;
  beforeAll(async () => {
    // Its own budgets (throttles and buckets are shared by hosts with the same settings only).
    strict = await startFunctionsHost({
      env: {
        CONTROL_PLANE_URL: cp.url,
        LOG_LEVEL: "silent",
        AUTH_FAILURE_BURST: "1",
        AUTH_FAILURES_PER_MINUTE: "1",
        RATE_LIMIT_PER_CREDENTIAL: "0.01",
        RATE_LIMIT_CREDENTIAL_BURST: "3",
      },
      hostname: "127.0.0.1",
      port: 0,
    });
  });
  afterAll(() => strict?.close());

  test("a credential's rate limit: the lane takes what the bucket allows, the rest gets 429", async () => {
    const token = await database("lane-rate");
    const headers = { Authorization: `Bearer ${token}` };
    const body = pipeline("SELECT 1");
    // Fills the resolve cache (another host: the buckets are the strict host's own).
    await send(lane, "/db/lane-rate/v2/pipeline", { headers, body });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await send(strict, "/db/lane-rate/v2/pipeline", { headers, body })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await send(strict, "/db/lane-rate/v2/pipeline", { headers, body });
    expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
    expect(refused.headers["ratelimit-remaining"]).toBe("0");
  });

  test("a 401 the lane answers counts against the client's failed-auth budget", async () => {
    const token = await database("lane-throttle");
    const headers = { Authorization: `Bearer ${token}` };
    const body = pipeline("SELECT 1");
    await send(lane, "/db/lane-throttle/v2/pipeline", { headers, body });
    await fetch(`${full.url}/admin/databases/lane-throttle/tokens/revoke`, {
      method: "POST",
      headers: admin(),
    });
    expect((await send(strict, "/db/lane-throttle/v2/pipeline", { headers, body })).status).toBe(
      401,
    );
    // The budget (one failure) is spent: any request from this client is refused for now.
    const next = await send(strict, "/db/lane-throttle/v2/pipeline", { headers: admin(), body });
    expect(next.status).toBe(429);
    expect(JSON.parse(next.body.toString())).toMatchObject({ code: "RATE_LIMITED" });
  });
});

test("a worker killed in the middle of a request: never a 500, on either path (3 rounds each)", async () => {
  const token = await database("lane-killed");
  const headers = { Authorization: `Bearer ${token}` };
  // About a second of work in the worker: time enough to kill it while it runs.
  const slow = pipeline(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c",
  );
  for (const host of [lane, full]) {
    let unavailable = 0;
    for (let round = 0; round < 3; round++) {
      // Fills the cache (the lane's precondition) and starts the worker.
      await send(full, "/db/lane-killed/v2/pipeline", { headers, body: pipeline("SELECT 1") });
      const pid = workerProcesses(cp.dataDir).get("lane-killed")?.[0];
      expect(pid).toBeGreaterThan(0);
      const answer = send(host, "/db/lane-killed/v2/pipeline", { headers, body: slow });
      await new Promise((later) => setTimeout(later, 150));
      process.kill(pid as number, "SIGKILL");
      const { status, body } = await answer;
      // 503 (retryable; the request reached the worker, so it is not sent again), or 200 if
      // the query was done before the kill.
      expect([200, 503], `${host === lane ? "lane" : "full path"}: ${body}`).toContain(status);
      if (status === 503) {
        unavailable++;
        expect(JSON.parse(body.toString())).toMatchObject({ code: "WORKER_UNAVAILABLE" });
      }
    }
    expect(unavailable, "a kill that came after every answer tests nothing").toBeGreaterThan(0);
  }
});
