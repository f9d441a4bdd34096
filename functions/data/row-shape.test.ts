/**
 * How results come out as object rows, through the real stack: a value is never dropped for a
 * duplicate column name (the first keeps the name, later ones get `name:1`, `name:2`, … unless
 * that is a real column of the result), filters never see JavaScript's object prototype, and
 * values that cannot be bound are 400s.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
const db = uniqueName("shape");

beforeAll(async () => {
  stack = await startStack();
  const rt = stack.runtimes.node;
  expect((await rt.call("POST", "/admin/databases", { body: { name: db } })).status).toBe(201);
  const seed = await rt.call("POST", `/api/db/${db}/batch`, {
    body: {
      statements: [
        { sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)" },
        { sql: "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT)" },
        { sql: 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, "id:1" TEXT)' },
        { sql: "INSERT INTO users VALUES (1, 'ada')" },
        { sql: "INSERT INTO posts VALUES (10, 1, 'hello'), (11, 1, 'again')" },
        {
          sql: "INSERT INTO people VALUES (1, 'ada', 'a'), (2, 'bob', 'b'), (9, 'constructor.x', 'c')",
        },
      ],
    },
  });
  expect(seed.status, await seed.clone().text()).toBe(200);
});
afterAll(() => stack.close());

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const call = (method: string, path: string, body?: unknown) =>
    stack.runtimes[runtimeName].call(method, path, body === undefined ? {} : { body });
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

  test("SELECT 1 AS x, 2 AS x keeps both values; rowMode array keeps the columns' order", async () => {
    const { status, body } = await json(
      await call("POST", `/api/db/${db}/query`, { sql: "SELECT 1 AS x, 2 AS x" }),
    );
    expect(status).toBe(200);
    expect(body.columns).toEqual(["x", "x"]);
    expect(body.rows).toEqual([{ x: 1, "x:1": 2 }]);
    const sql = "SELECT * FROM users JOIN posts ON posts.user_id = users.id ORDER BY posts.id";
    const joined = await json(await call("POST", `/api/db/${db}/query`, { sql }));
    expect(joined.body.rows).toEqual([
      { id: 1, name: "ada", "id:1": 10, user_id: 1, title: "hello" },
      { id: 1, name: "ada", "id:1": 11, user_id: 1, title: "again" },
    ]);
    const arrays = await json(await call("POST", `/api/db/${db}/query`, { sql, rowMode: "array" }));
    expect(arrays.body.rows).toEqual([
      [1, "ada", 10, 1, "hello"],
      [1, "ada", 11, 1, "again"],
    ]);
  });

  test("batch and rows follow the same rule", async () => {
    const batch = await json(
      await call("POST", `/api/db/${db}/batch`, {
        statements: [{ sql: "SELECT 1 AS a, 2 AS a, 3 AS 'a:1'" }, { sql: "SELECT 4 AS b" }],
      }),
    );
    expect(batch.body.results.map((r: { rows: unknown }) => r.rows)).toEqual([
      [{ a: 1, "a:2": 2, "a:1": 3 }],
      [{ b: 4 }],
    ]);
    const rows = await json(
      await call("GET", `/api/db/${db}/tables/people/rows?select=id,name,id&id=eq.2`),
    );
    expect(rows.body.columns).toEqual(["id", "name", "id"]);
    expect(rows.body.rows).toEqual([{ id: 2, name: "bob", "id:1": 2 }]);
  });

  test("a filter value starting with a prototype name is an equality match", async () => {
    for (const value of ["toString.x", "__proto__.x", "hasOwnProperty.x"]) {
      const res = await json(await call("GET", `/api/db/${db}/tables/people/rows?name=${value}`));
      expect(res.status, value).toBe(200);
      expect(res.body.rows).toEqual([]);
    }
    const found = await json(
      await call("GET", `/api/db/${db}/tables/people/rows?name=constructor.x&select=id`),
    );
    expect(found.body.rows).toEqual([{ id: 9 }]);
  });

  test("invalid base64 in a blob is 400 BAD_REQUEST", async () => {
    const res = await json(
      await call("POST", `/api/db/${db}/query`, {
        sql: "SELECT ?",
        params: [{ type: "blob", base64: "A" }],
      }),
    );
    expect([res.status, res.body.code]).toEqual([400, "BAD_REQUEST"]);
  });
});
