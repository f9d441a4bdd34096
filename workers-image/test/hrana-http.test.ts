/**
 * Hrana over HTTP at the wire level: pipelines, batons, stream expiry, stored SQL, batches,
 * describe, cursors and the transaction timeout, checked against sqld's behaviour.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { testEngine } from "../../testkit/engine";
import { removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess({
    env: { DBFORGE_STREAM_IDLE_TIMEOUT_MS: "400", DBFORGE_TRANSACTION_TIMEOUT_MS: "300" },
  });
  await pipeline([exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)")]);
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

test("/version names the engine the suite runs on", async () => {
  const { name, version } = testEngine();
  const text = await (await fetch(`${worker.url}/version`)).text();
  expect(text).toBe(`dbforge-worker 0.1.0 (libsql-js ${version}, ${name} engine)`);
});

type Json = Record<string, unknown>;
const exec = (sql: string, extra: Json = {}) => ({ type: "execute", stmt: { sql, ...extra } });
const int = (n: number | bigint) => ({ type: "integer", value: String(n) });

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${worker.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POSTs a pipeline and returns the parsed 200 body. */
async function pipeline(requests: unknown[], baton?: string | null, version = 2): Promise<any> {
  const res = await post(
    `/v${version}/pipeline`,
    baton === undefined ? { requests } : { baton, requests },
  );
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe("pipelines", () => {
  test("every request gets a result, errors do not stop the pipeline", async () => {
    const body = await pipeline([
      exec("SELECT 1"),
      exec("SELECT * FROM missing"),
      exec("SELECT ?", { args: [int(7)] }),
      { type: "close" },
    ]);
    expect(body.baton).toBeNull();
    expect(body.base_url).toBeNull();
    expect(body.results.map((r: Json) => r.type)).toEqual(["ok", "error", "ok", "ok"]);
    expect(body.results[1].error).toEqual({
      message: "SQLite error: no such table: missing",
      code: "SQLITE_ERROR",
    });
    expect(body.results[2].response.result.rows).toEqual([[int(7)]]);
    expect(body.results[3].response).toEqual({ type: "close" });
  });

  test("malformed bodies are protocol errors: 400 text/plain", async () => {
    for (const body of [
      "{not json",
      JSON.stringify({ requests: [{ type: "nope" }] }),
      JSON.stringify({ requests: 3 }),
    ]) {
      const res = await post("/v2/pipeline", body);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("text/plain");
      expect((await res.text()).length).toBeGreaterThan(0);
    }
    const both = await post("/v2/pipeline", {
      requests: [{ type: "execute", stmt: { sql: "SELECT 1", sql_id: 1 } }],
    });
    expect(await both.text()).toBe("Either `sql` or `sql_id` are required, but not both");
    const badValue = await post("/v2/pipeline", {
      requests: [exec("SELECT ?", { args: [{ type: "integer", value: "9223372036854775808" }] })],
    });
    expect(badValue.status).toBe(400);
  });

  test("unknown routes 404 with an empty body, wrong methods 405", async () => {
    const missing = await fetch(`${worker.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("");
    expect((await fetch(`${worker.url}/`)).status).toBe(404);
    expect((await fetch(`${worker.url}/v2/pipeline`)).status).toBe(405);
    const preflight = await fetch(`${worker.url}/v2/pipeline`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("batons and streams", () => {
  test("a baton continues the stream and its transaction, once", async () => {
    const first = await pipeline([exec("BEGIN"), exec("INSERT INTO kv VALUES ('b1', 1)")]);
    expect(typeof first.baton).toBe("string");
    const second = await pipeline([exec("SELECT v FROM kv WHERE k = 'b1'")], first.baton);
    expect(second.results[0].response.result.rows).toEqual([[int(1)]]);
    expect(second.baton).not.toBe(first.baton);

    const reused = await post("/v2/pipeline", { baton: first.baton, requests: [] });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toBe("Received a baton that has already been used");

    const tampered = `${second.baton.slice(0, -2)}AA`;
    const forged = await post("/v2/pipeline", { baton: tampered, requests: [] });
    expect(await forged.text()).toBe("Received an invalid baton");

    const done = await pipeline([exec("ROLLBACK"), { type: "close" }], second.baton);
    expect(done.baton).toBeNull();
    const after = await post("/v2/pipeline", { baton: second.baton, requests: [] });
    expect(after.status).toBe(400);
  });

  test("requests after close in the same pipeline are refused", async () => {
    const res = await post("/v2/pipeline", { requests: [{ type: "close" }, exec("SELECT 1")] });
    expect(res.status).toBe(400);
  });

  test("an idle stream expires: STREAM_EXPIRED, its transaction rolled back, the lock free", async () => {
    const open = await pipeline([
      exec("BEGIN IMMEDIATE"),
      exec("INSERT INTO kv VALUES ('expired', 1)"),
    ]);
    await sleep(1600);
    const res = await post("/v2/pipeline", { baton: open.baton, requests: [exec("COMMIT")] });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject({ code: "STREAM_EXPIRED" });
    const check = await pipeline([
      exec("INSERT INTO kv VALUES ('after', 2)"),
      exec("SELECT count(*) FROM kv WHERE k = 'expired'"),
    ]);
    expect(check.results[0].type).toBe("ok");
    expect(check.results[1].response.result.rows).toEqual([[int(0)]]);
  });

  test("a transaction holding the write lock past the timeout yields to a waiting writer", async () => {
    const holder = await pipeline([
      exec("BEGIN IMMEDIATE"),
      exec("INSERT INTO kv VALUES ('holder', 1)"),
    ]);
    const started = Date.now();
    const writer = await pipeline([exec("INSERT INTO kv VALUES ('writer', 1)"), { type: "close" }]);
    expect(writer.results[0].type).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const victim = await pipeline(
      [exec("INSERT INTO kv VALUES ('holder 2', 1)"), exec("SELECT 1")],
      holder.baton,
    );
    expect(victim.results[0].error).toEqual({
      message: "Transaction timed out",
      code: "TRANSACTION_TIMEOUT",
    });
    // Only the first request after the rollback fails; the stream then works in autocommit.
    expect(victim.results[1].type).toBe("ok");
    const rows = await pipeline([
      exec("SELECT k FROM kv WHERE k LIKE 'holder%' OR k = 'writer' ORDER BY k"),
    ]);
    expect(rows.results[0].response.result.rows).toEqual([[{ type: "text", value: "writer" }]]);
  });
});

describe("stream requests", () => {
  test("store_sql and close_sql with sqld's limits", async () => {
    const body = await pipeline([
      { type: "store_sql", sql_id: 1, sql: "SELECT ?" },
      { type: "execute", stmt: { sql_id: 1, args: [int(5)] } },
      { type: "close_sql", sql_id: 1 },
      { type: "close_sql", sql_id: 99 },
      { type: "store_sql", sql_id: 2, sql: `SELECT '${"x".repeat(5000)}'` },
    ]);
    expect(body.results[1].response.result.rows).toEqual([[int(5)]]);
    expect(body.results[3].type).toBe("ok");
    expect(body.results[4].error.code).toBe("SQL_STORE_TOO_LARGE");

    const many = Array.from({ length: 51 }, (_, i) => ({
      type: "store_sql",
      sql_id: i,
      sql: "SELECT 1",
    }));
    const full = await pipeline(many);
    expect(full.results[49].type).toBe("ok");
    expect(full.results[50].error.code).toBe("SQL_STORE_TOO_MANY");

    expect(
      (await post("/v2/pipeline", { requests: [{ type: "execute", stmt: { sql_id: 7 } }] })).status,
    ).toBe(400);
    const dup = await post("/v2/pipeline", {
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT 1" },
        { type: "store_sql", sql_id: 1, sql: "SELECT 2" },
      ],
    });
    expect(await dup.text()).toBe("SQL text 1 already exists");
  });

  test("sequence runs statements until the first error", async () => {
    const body = await pipeline([
      {
        type: "sequence",
        sql: "CREATE TABLE seq (x); INSERT INTO seq VALUES (1);; INSERT INTO seq VALUES (2)",
      },
      {
        type: "sequence",
        sql: "INSERT INTO seq VALUES (3); INSERT INTO nope VALUES (1); INSERT INTO seq VALUES (4)",
      },
      exec("SELECT group_concat(x) FROM seq"),
    ]);
    expect(body.results[0]).toEqual({ type: "ok", response: { type: "sequence" } });
    expect(body.results[1].error.code).toBe("SQLITE_ERROR");
    expect(body.results[2].response.result.rows).toEqual([[{ type: "text", value: "1,2,3" }]]);
  });

  test("describe reports parameters, columns, explain and read-only", async () => {
    const body = await pipeline([
      { type: "describe", sql: "SELECT k, v FROM kv WHERE k = :key AND v > ?" },
      { type: "describe", sql: "INSERT INTO kv VALUES (?1, ?2)" },
      { type: "describe", sql: "EXPLAIN SELECT 1" },
      { type: "describe", sql: "SELEC" },
    ]);
    expect(body.results[0].response.result).toEqual({
      params: [{ name: ":key" }, { name: null }],
      cols: [
        { name: "k", decltype: "TEXT" },
        { name: "v", decltype: "INTEGER" },
      ],
      is_explain: false,
      is_readonly: true,
    });
    expect(body.results[1].response.result).toMatchObject({
      params: [{ name: null }, { name: null }],
      cols: [],
      is_readonly: false,
    });
    expect(body.results[2].response.result).toMatchObject({ is_explain: true, is_readonly: true });
    expect(body.results[3].error.code).toBe("SQL_PARSE_ERROR");
  });

  test("batch conditions, skipped steps and step errors", async () => {
    const body = await pipeline([
      {
        type: "batch",
        batch: {
          steps: [
            { stmt: { sql: "SELECT 1" } },
            { stmt: { sql: "SELECT * FROM nope" } },
            { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 'skipped'" } },
            { condition: { type: "error", step: 1 }, stmt: { sql: "SELECT 'after error'" } },
            // sqld counts a skipped step as not ok, so `error` is true for it.
            {
              condition: { type: "error", step: 2 },
              stmt: { sql: "SELECT 'skip counts as error'" },
            },
            {
              condition: {
                type: "and",
                conds: [
                  { type: "ok", step: 0 },
                  { type: "not", cond: { type: "ok", step: 2 } },
                ],
              },
              stmt: { sql: "SELECT 'and'" },
            },
            {
              condition: {
                type: "or",
                conds: [
                  { type: "ok", step: 2 },
                  { type: "ok", step: 1 },
                ],
              },
              stmt: { sql: "SELECT 'or'" },
            },
          ],
        },
      },
    ]);
    const { step_results, step_errors } = body.results[0].response.result;
    expect(step_results.map((r: Json | null) => (r ? "ran" : null))).toEqual([
      "ran",
      null,
      null,
      "ran",
      "ran",
      "ran",
      null,
    ]);
    expect(step_errors[1].code).toBe("SQLITE_ERROR");
    expect(step_errors.filter((e: unknown) => e !== null)).toHaveLength(1);

    const forward = await post("/v2/pipeline", {
      requests: [
        {
          type: "batch",
          batch: { steps: [{ condition: { type: "ok", step: 0 }, stmt: { sql: "SELECT 1" } }] },
        },
      ],
    });
    expect(await forward.text()).toBe("Invalid reference to step in a batch condition");
  });

  test("Hrana 3: get_autocommit and the is_autocommit condition, refused on v2", async () => {
    const body = await pipeline(
      [
        { type: "get_autocommit" },
        exec("BEGIN"),
        { type: "get_autocommit" },
        {
          type: "batch",
          batch: {
            steps: [
              { condition: { type: "is_autocommit" }, stmt: { sql: "SELECT 1" } },
              { stmt: { sql: "ROLLBACK" } },
            ],
          },
        },
        { type: "get_autocommit" },
        { type: "close" },
      ],
      undefined,
      3,
    );
    expect(body.results.map((r: any) => r.response.is_autocommit)).toEqual([
      true,
      undefined,
      false,
      undefined,
      true,
      undefined,
    ]);
    expect(body.results[3].response.result.step_results[0]).toBeNull();
    expect((await post("/v2/pipeline", { requests: [{ type: "get_autocommit" }] })).status).toBe(
      400,
    );
  });

  test("Hrana 3 cursor: newline-delimited entries", async () => {
    const res = await post("/v3/cursor", {
      batch: {
        steps: [
          { stmt: { sql: "SELECT 1 AS a UNION ALL SELECT 2" } },
          { stmt: { sql: "SELECT * FROM nope" } },
          { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 3" } },
        ],
      },
    });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(typeof lines[0].baton).toBe("string");
    expect(lines.slice(1).map((e: Json) => e.type)).toEqual([
      "step_begin",
      "row",
      "row",
      "step_end",
      "step_error",
    ]);
    expect(lines[1]).toEqual({
      type: "step_begin",
      step: 0,
      cols: [{ name: "a", decltype: null }],
    });
    expect(lines[2]).toEqual({ type: "row", row: [int(1)] });
    expect(lines[5]).toMatchObject({
      type: "step_error",
      step: 1,
      error: { code: "SQLITE_ERROR" },
    });
  });
});
