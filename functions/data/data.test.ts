/** POST /api/db/{name}/query and /batch on the Node host and Miniflare. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";
import { sleep } from "../../testkit/wait";

let stack: Stack;
const db = uniqueName("data");
const other = uniqueName("other");
let readOnlyToken: string;
let otherToken: string;

beforeAll(async () => {
  stack = await startStack({ DBFORGE_QUERY_TIMEOUT_MS: "800" });
  const rt = stack.runtimes.node;
  for (const name of [db, other])
    expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  const mint = async (name: string, access: string) =>
    (
      (await (
        await rt.call("POST", `/admin/databases/${name}/tokens`, { body: { access } })
      ).json()) as { token: string }
    ).token;
  readOnlyToken = await mint(db, "read-only");
  otherToken = await mint(other, "full-access");
  await rt.call("POST", `/api/db/${db}/batch`, {
    body: {
      statements: [
        {
          sql: "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, score REAL, avatar BLOB, big INTEGER)",
        },
        { sql: "INSERT INTO people (name, score) VALUES ('ada', 9.5)" },
      ],
    },
  });
});
afterAll(() => stack.close());

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  const query = (body: unknown, token?: string | null) =>
    rt().call("POST", `/api/db/${db}/query`, { body, token });

  test("positional and named parameters; columns, rows as objects or arrays", async () => {
    const res = await query({
      sql: "SELECT id, name, score FROM people WHERE name = ? AND score > ?",
      params: ["ada", 1],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      columns: ["id", "name", "score"],
      columnTypes: ["INTEGER", "TEXT", "REAL"],
      rows: [{ id: 1, name: "ada", score: 9.5 }],
      rowsAffected: 0,
      lastInsertRowid: 0,
    });
    const named = await query({
      sql: "SELECT name FROM people WHERE name = :who",
      params: { who: "ada" },
      rowMode: "array",
    });
    expect(((await named.json()) as { rows: unknown[] }).rows).toEqual([["ada"]]);
  });

  test("values: integers beyond 2^53 stay exact, blobs and floats keep their type", async () => {
    const name = `${runtimeName}-values`;
    const insert = await query({
      sql: "INSERT INTO people (name, score, avatar, big) VALUES (?, ?, ?, ?) RETURNING id, score, avatar, big, typeof(score) AS t",
      params: [
        name,
        { type: "float", value: 2 },
        { type: "blob", base64: "AAEC/w==" },
        { type: "integer", value: "9223372036854775807" },
      ],
    });
    expect(insert.status).toBe(200);
    const body = (await insert.json()) as {
      rows: Array<Record<string, unknown>>;
      rowsAffected: number;
    };
    expect(body.rowsAffected).toBe(1);
    expect(body.rows[0]).toMatchObject({
      score: 2,
      t: "real",
      avatar: { type: "blob", base64: "AAEC/w==" },
      big: "9223372036854775807",
    });
    const ints = await query({
      sql: "SELECT ? AS small, typeof(?) AS t, ? AS yes",
      params: [42, 42, true],
    });
    expect(((await ints.json()) as { rows: unknown[] }).rows[0]).toEqual({
      small: 42,
      t: "integer",
      yes: 1,
    });
  });

  test("SQL errors map to problem codes", async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ sql: "SELEC 1" }, 400, "SQL_SYNTAX_ERROR"],
      [{ sql: "SELECT * FROM missing_table" }, 404, "TABLE_NOT_FOUND"],
      [{ sql: "SELECT nope FROM people" }, 400, "SQL_ERROR"],
      [{ sql: "INSERT INTO people (name) VALUES ('ada')" }, 409, "CONSTRAINT_VIOLATION"],
      [{ sql: "SELECT 1; SELECT 2" }, 400, "BAD_REQUEST"],
      [{ sql: "SELECT ?", params: [1, 2] }, 400, "BAD_REQUEST"],
      [{ sql: "ATTACH 'x.db' AS x" }, 403, "FORBIDDEN"],
      [
        {
          sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        },
        504,
        "QUERY_TIMEOUT",
      ],
      [{ params: [] }, 400, "BAD_REQUEST"],
      [
        { sql: "SELECT ?", params: [{ type: "integer", value: "99999999999999999999" }] },
        400,
        "BAD_REQUEST",
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await query(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await problemOf(res)).code).toBe(code);
    }
  });

  test("credentials: admin, database tokens, read-only, another database's token", async () => {
    expect((await query({ sql: "SELECT count(*) FROM people" }, readOnlyToken)).status).toBe(200);
    const write = await query({ sql: "DELETE FROM people" }, readOnlyToken);
    expect(write.status).toBe(403);
    expect((await problemOf(write)).code).toBe("READ_ONLY");
    const crossed = await query({ sql: "SELECT 1" }, otherToken);
    expect(crossed.status).toBe(403);
    expect((await problemOf(crossed)).code).toBe("FORBIDDEN");
    for (const token of [null, "garbage"]) {
      const res = await query({ sql: "SELECT 1" }, token);
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("UNAUTHORIZED");
    }
    const missing = await rt().call("POST", "/api/db/no-such-db/query", {
      body: { sql: "SELECT 1" },
    });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("DATABASE_NOT_FOUND");
  });

  test("bodies over the limit are 413", async () => {
    const res = await query({ sql: `SELECT '${"x".repeat(1_100_000)}'` });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("batch: results per statement, all or nothing", async () => {
    const table = `batch_${runtimeName}`;
    const ok = await rt().call("POST", `/api/db/${db}/batch`, {
      body: {
        statements: [
          { sql: `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, v TEXT UNIQUE)` },
          { sql: `INSERT INTO ${table} (v) VALUES (?)`, params: ["a"] },
          { sql: `SELECT count(*) AS n FROM ${table}` },
        ],
      },
    });
    expect(ok.status).toBe(200);
    const { results } = (await ok.json()) as {
      results: Array<{ rows: unknown[]; rowsAffected: number }>;
    };
    expect(results.map((r) => r.rowsAffected)).toEqual([0, 1, 0]);
    expect(results[2]?.rows).toEqual([{ n: 1 }]);

    const failed = await rt().call("POST", `/api/db/${db}/batch`, {
      body: {
        statements: [
          { sql: `INSERT INTO ${table} (v) VALUES ('b')` },
          { sql: `INSERT INTO ${table} (v) VALUES ('a')` },
        ],
      },
    });
    expect(failed.status).toBe(409);
    expect((await problemOf(failed)).code).toBe("CONSTRAINT_VIOLATION");
    const count = await query({ sql: `SELECT count(*) AS n FROM ${table}` });
    expect(((await count.json()) as { rows: unknown[] }).rows).toEqual([{ n: 1 }]);
    const empty = await rt().call("POST", `/api/db/${db}/batch`, { body: { statements: [] } });
    expect((await problemOf(empty)).code).toBe("BAD_REQUEST");
  });

  test("a crashed worker is found again: the request is retried on the restarted worker", async () => {
    const info = (await (await stack.cp.api("GET", `/v1/databases/${db}`)).json()) as {
      workerId: string;
    };
    process.kill(Number(info.workerId), "SIGKILL");
    // Long enough for pooled connections to the dead worker to be dropped, far shorter than
    // the health loop needs to notice.
    await sleep(50);
    const res = await query({ sql: "SELECT count(*) AS n FROM people" });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
