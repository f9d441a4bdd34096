/** Table routes on the Node host and Miniflare. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
const db = uniqueName("tables");
beforeAll(async () => {
  stack = await startStack();
  expect(
    (await stack.runtimes.node.call("POST", "/admin/databases", { body: { name: db } })).status,
  ).toBe(201);
});
afterAll(() => stack.close());

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  const t = (name: string) => `${runtimeName}_${name}`;

  test("create from a column spec, then describe it", async () => {
    expect(
      (
        await rt().call("POST", `/api/db/${db}/tables`, {
          body: {
            name: t("teams"),
            columns: [
              { name: "id", type: "INTEGER", primaryKey: true, autoIncrement: true },
              { name: "title", type: "TEXT", notNull: true, unique: true },
            ],
          },
        })
      ).status,
    ).toBe(201);
    const res = await rt().call("POST", `/api/db/${db}/tables`, {
      body: {
        name: t("members"),
        columns: [
          { name: "id", type: "INTEGER", primaryKey: true },
          { name: "email", type: "TEXT", notNull: true, unique: true },
          { name: "role", type: "TEXT", default: "member" },
          { name: "karma", type: "REAL", default: 1.5 },
          { name: "joined", type: "TEXT", default: { expression: "CURRENT_TIMESTAMP" } },
          {
            name: "team",
            type: "INTEGER",
            references: { table: t("teams"), column: "id", onDelete: "CASCADE" },
          },
        ],
      },
    });
    expect(res.status).toBe(201);
    const table = (await res.json()) as {
      name: string;
      columns: Array<{
        name: string;
        type: string;
        notNull: boolean;
        default: string | null;
        primaryKey: number;
      }>;
      indexes: Array<{ unique: boolean; columns: string[] }>;
      foreignKeys: Array<{ from: string; table: string; to: string; onDelete: string }>;
    };
    expect(table.name).toBe(t("members"));
    expect(table.columns.map((c) => [c.name, c.type, c.notNull, c.default, c.primaryKey])).toEqual([
      ["id", "INTEGER", false, null, 1],
      ["email", "TEXT", true, null, 0],
      ["role", "TEXT", false, "'member'", 0],
      ["karma", "REAL", false, "1.5", 0],
      ["joined", "TEXT", false, "CURRENT_TIMESTAMP", 0],
      ["team", "INTEGER", false, null, 0],
    ]);
    expect(table.indexes).toEqual([expect.objectContaining({ unique: true, columns: ["email"] })]);
    expect(table.foreignKeys).toEqual([
      { from: "team", table: t("teams"), to: "id", onUpdate: "NO ACTION", onDelete: "CASCADE" },
    ]);

    const again = await rt().call("GET", `/api/db/${db}/tables/${t("members")}`);
    expect(((await again.json()) as { columns: unknown[] }).columns).toHaveLength(6);
    const list = (await (await rt().call("GET", `/api/db/${db}/tables`)).json()) as {
      tables: Array<{ name: string; columns: number }>;
    };
    expect(list.tables).toContainEqual({ name: t("members"), type: "table", columns: 6 });
  });

  test("composite keys, STRICT and WITHOUT ROWID", async () => {
    const res = await rt().call("POST", `/api/db/${db}/tables`, {
      body: {
        name: t("pairs"),
        strict: true,
        withoutRowid: true,
        columns: [
          { name: "a", type: "INTEGER", primaryKey: true },
          { name: "b", type: "TEXT", primaryKey: true },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ strict: true, withoutRowid: true });
  });

  test("names are quoted: hostile names are just names", async () => {
    const hostile = `${runtimeName} x"; DROP TABLE ${t("teams")}; --`;
    const res = await rt().call("POST", `/api/db/${db}/tables`, {
      body: { name: hostile, columns: [{ name: `col"umn'); --`, type: "TEXT" }] },
    });
    expect(res.status).toBe(201);
    const list = (await (await rt().call("GET", `/api/db/${db}/tables`)).json()) as {
      tables: Array<{ name: string }>;
    };
    expect(list.tables.map((x) => x.name)).toEqual(expect.arrayContaining([hostile, t("teams")]));
    const shown = await rt().call("GET", `/api/db/${db}/tables/${encodeURIComponent(hostile)}`);
    expect(((await shown.json()) as { columns: Array<{ name: string }> }).columns[0]?.name).toBe(
      `col"umn'); --`,
    );
    expect(
      (await rt().call("DELETE", `/api/db/${db}/tables/${encodeURIComponent(hostile)}`)).status,
    ).toBe(204);
  });

  test("errors: exists, missing, bad specs", async () => {
    const spec = { name: t("dupe"), columns: [{ name: "x" }] };
    expect((await rt().call("POST", `/api/db/${db}/tables`, { body: spec })).status).toBe(201);
    const dup = await rt().call("POST", `/api/db/${db}/tables`, { body: spec });
    expect(dup.status).toBe(409);
    expect((await problemOf(dup)).code).toBe("TABLE_EXISTS");
    expect(
      (await rt().call("POST", `/api/db/${db}/tables`, { body: { ...spec, ifNotExists: true } }))
        .status,
    ).toBe(201);

    const missing = await rt().call("GET", `/api/db/${db}/tables/nope`);
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("TABLE_NOT_FOUND");
    expect((await problemOf(await rt().call("DELETE", `/api/db/${db}/tables/nope`))).code).toBe(
      "TABLE_NOT_FOUND",
    );

    const bad = [
      { name: "x", columns: [] },
      { name: "x", columns: [{ name: "a", type: "TEXT); DROP TABLE y; --" }] },
      { name: "x", columns: [{ name: "a" }, { name: "A" }] },
      { name: "x", columns: [{ name: "a", type: "TEXT", autoIncrement: true }] },
      { name: "x", columns: [{ name: "a", default: { expression: "random()" } }] },
    ];
    for (const body of bad) {
      const res = await rt().call("POST", `/api/db/${db}/tables`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await problemOf(res)).code).toBe("BAD_REQUEST");
    }
    expect((await rt().call("DELETE", `/api/db/${db}/tables/${t("dupe")}`)).status).toBe(204);
  });
});
