/** Row routes on the Node host and Miniflare. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
const db = uniqueName("rows");
beforeAll(async () => {
  stack = await startStack();
  expect(
    (await stack.runtimes.node.call("POST", "/admin/databases", { body: { name: db } })).status,
  ).toBe(201);
});
afterAll(() => stack.close());

type Page = {
  rows: Array<Record<string, unknown>>;
  nextCursor: string | null;
  total?: number;
  columns: string[];
};

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  const table = `${runtimeName}_people`;
  const rows = (query = "") => rt().call("GET", `/api/db/${db}/tables/${table}/rows${query}`);
  const page = async (query = "") => (await (await rows(query)).json()) as Page;

  beforeAll(async () => {
    const res = await rt().call("POST", `/api/db/${db}/tables`, {
      body: {
        name: table,
        columns: [
          { name: "id", type: "INTEGER", primaryKey: true },
          { name: "name", type: "TEXT", notNull: true },
          { name: "age", type: "INTEGER" },
          { name: "limit", type: "TEXT" },
        ],
      },
    });
    expect(res.status).toBe(201);
  });

  test("insert one row, many rows, and {rows: [...]}; RETURNING what was stored", async () => {
    const one = await rt().call("POST", `/api/db/${db}/tables/${table}/rows`, {
      body: { name: "ada", age: 36 },
    });
    expect(one.status).toBe(201);
    expect(await one.json()).toEqual({
      rowsAffected: 1,
      lastInsertRowid: 1,
      rows: [{ id: 1, name: "ada", age: 36, limit: null }],
    });
    const many = await rt().call("POST", `/api/db/${db}/tables/${table}/rows`, {
      body: [
        { name: "bob", age: 25 },
        { name: "cy", age: null, limit: "x" },
      ],
    });
    expect(((await many.json()) as { rowsAffected: number }).rowsAffected).toBe(2);
    const wrapped = await rt().call("POST", `/api/db/${db}/tables/${table}/rows`, {
      body: { rows: Array.from({ length: 7 }, (_, i) => ({ name: `p${i}`, age: 40 + i })) },
    });
    expect(((await wrapped.json()) as { rows: unknown[] }).rows).toHaveLength(7);
  });

  test("insert errors: unknown columns, constraints; nothing partial", async () => {
    const unknown = await rt().call("POST", `/api/db/${db}/tables/${table}/rows`, {
      body: [{ name: "ok" }, { nme: "typo" }],
    });
    expect(unknown.status).toBe(400);
    expect((await problemOf(unknown)).detail).toMatch(/no column "nme"/);
    const constraint = await rt().call("POST", `/api/db/${db}/tables/${table}/rows`, {
      body: [{ name: "fine" }, { age: 1 }],
    });
    expect(constraint.status).toBe(409);
    expect((await problemOf(constraint)).code).toBe("CONSTRAINT_VIOLATION");
    expect((await page("?name=fine")).rows).toEqual([]);
    expect(
      (
        await problemOf(
          await rt().call("POST", `/api/db/${db}/tables/nope/rows`, { body: { a: 1 } }),
        )
      ).code,
    ).toBe("TABLE_NOT_FOUND");
  });

  test("filters, order, select, limit/offset, count", async () => {
    expect((await page("?name=ada")).rows.map((r) => r.name)).toEqual(["ada"]);
    expect((await page("?age=gt.40&order=age.desc&select=name")).rows).toEqual([
      { name: "p6" },
      { name: "p5" },
      { name: "p4" },
      { name: "p3" },
      { name: "p2" },
      { name: "p1" },
    ]);
    expect((await page("?age=in.(25,36)&order=-name")).rows.map((r) => r.name)).toEqual([
      "bob",
      "ada",
    ]);
    expect((await page("?age=is.null")).rows.map((r) => r.name)).toEqual(["cy"]);
    expect((await page("?name=like.p%25&age=lte.41")).rows.map((r) => r.name)).toEqual([
      "p0",
      "p1",
    ]);
    expect((await page("?where.limit=eq.x")).rows.map((r) => r.name)).toEqual(["cy"]);
    const window = await page("?order=id&limit=2&offset=3&count=true");
    expect(window.rows.map((r) => r.id)).toEqual([4, 5]);
    expect(window.total).toBe(10);
  });

  test("cursor pagination walks every row exactly once", async () => {
    const seen: unknown[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const p: Page = await page(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...p.rows.map((r) => r.id));
      expect(p.columns).toEqual(["id", "name", "age", "limit"]);
      cursor = p.nextCursor;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("bad queries are 400: unknown columns, operators, injection attempts", async () => {
    for (const query of [
      "?nope=1",
      "?age=is.maybe",
      "?age=in.()",
      "?order=age;DROP TABLE x",
      "?select=name,(SELECT 1)",
      "?limit=100000",
      "?cursor=garbage",
    ]) {
      const res = await rows(query);
      expect(res.status, query).toBe(400);
      expect((await problemOf(res)).code).toBe("BAD_REQUEST");
    }
    // A value is only ever a value.
    expect((await page(`?name=${encodeURIComponent("' OR 1=1 --")}`)).rows).toEqual([]);
  });

  test("update and delete need a filter unless all=true", async () => {
    const noFilter = await rt().call("PATCH", `/api/db/${db}/tables/${table}/rows`, {
      body: { age: 1 },
    });
    expect(noFilter.status).toBe(400);
    expect((await problemOf(noFilter)).detail).toMatch(/all=true/);
    const updated = await rt().call("PATCH", `/api/db/${db}/tables/${table}/rows?age=gte.44`, {
      body: { set: { name: "older" } },
    });
    expect(await updated.json()).toEqual({ rowsAffected: 3 });
    expect((await page("?name=older")).rows).toHaveLength(3);

    expect((await rt().call("DELETE", `/api/db/${db}/tables/${table}/rows`)).status).toBe(400);
    const deleted = await rt().call("DELETE", `/api/db/${db}/tables/${table}/rows?name=older`);
    expect(await deleted.json()).toEqual({ rowsAffected: 3 });
    const everything = await rt().call("PATCH", `/api/db/${db}/tables/${table}/rows?all=true`, {
      body: { limit: "y" },
    });
    expect(await everything.json()).toEqual({ rowsAffected: 7 });
    const all = await rt().call("DELETE", `/api/db/${db}/tables/${table}/rows?all=true`);
    expect(await all.json()).toEqual({ rowsAffected: 7 });
  });
});
