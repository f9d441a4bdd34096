/**
 * The table DDL builder (createTableSql) and the request schema in front of it. The SQL is
 * also run on an in-memory SQLite, so "quoted" and "refused" are SQLite's verdicts too.
 */
import { createClient } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { ApiError } from "../../core/errors";
import { type CreateTableRequest, createTableSql, route } from "./create";

const Body = route.request.body.content["application/json"].schema;

/** The spec as the route hands it over: validated by the request schema. */
const spec = (body: CreateTableRequest) => Body.parse(body);
const sql = (body: CreateTableRequest) => createTableSql(spec(body));

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError && err.code === "BAD_REQUEST") return err.message;
    throw err;
  }
  throw new Error("expected BAD_REQUEST");
}

async function sqliteSchema(ddl: string): Promise<{ sql: string; columns: unknown[] }> {
  const db = createClient({ url: ":memory:", intMode: "bigint" });
  try {
    await db.execute(ddl);
    const master = await db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'table'");
    const name = String(master.rows[0]?.name);
    const columns = await db.execute({
      sql: 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)',
      args: [name],
    });
    return {
      sql: String(master.rows[0]?.sql),
      columns: columns.rows.map((r) => columns.columns.map((_, i) => r[i])),
    };
  } finally {
    db.close();
  }
}

describe("createTableSql", () => {
  test("identifiers are always quoted, embedded quotes doubled", () => {
    expect(sql({ name: 'we"ird table', columns: [{ name: 'a"b' }, { name: "select" }] })).toBe(
      'CREATE TABLE "we""ird table" ("a""b", "select")',
    );
  });

  test("a hostile name stays one identifier", async () => {
    const ddl = sql({ name: 'x"; DROP TABLE y; --', columns: [{ name: "id", type: "INTEGER" }] });
    expect(ddl).toBe('CREATE TABLE "x""; DROP TABLE y; --" ("id" INTEGER)');
    const schema = await sqliteSchema(ddl);
    expect(schema.columns).toEqual([["id", "INTEGER", 0n, null, 0n]]);
  });

  test("column constraints in a fixed order", () => {
    expect(
      sql({
        name: "users",
        columns: [
          { name: "id", type: "INTEGER", primaryKey: true, autoIncrement: true },
          { name: "email", type: "TEXT", notNull: true, unique: true },
          {
            name: "team",
            type: "INTEGER",
            references: { table: "teams", column: "id", onDelete: "CASCADE", onUpdate: "SET NULL" },
          },
        ],
      }),
    ).toBe(
      'CREATE TABLE "users" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL UNIQUE, "team" INTEGER REFERENCES "teams" ("id") ON DELETE CASCADE ON UPDATE SET NULL)',
    );
  });

  test("defaults are literals or an allowed keyword", async () => {
    const ddl = sql({
      name: "t",
      columns: [
        { name: "s", type: "TEXT", default: "it's" },
        { name: "n", type: "REAL", default: -1.5 },
        { name: "b", type: "INTEGER", default: true },
        { name: "z", default: null },
        { name: "at", type: "TEXT", default: { expression: "CURRENT_TIMESTAMP" } },
      ],
    });
    expect(ddl).toBe(
      `CREATE TABLE "t" ("s" TEXT DEFAULT 'it''s', "n" REAL DEFAULT -1.5, "b" INTEGER DEFAULT 1, "z" DEFAULT NULL, "at" TEXT DEFAULT CURRENT_TIMESTAMP)`,
    );
    const schema = await sqliteSchema(ddl);
    expect(schema.columns.map((c) => (c as unknown[])[3])).toEqual([
      "'it''s'",
      "-1.5",
      "1",
      "NULL",
      "CURRENT_TIMESTAMP",
    ]);
  });

  test("a composite primary key is a table constraint", () => {
    expect(
      sql({
        name: "m",
        columns: [
          { name: "a", type: "INTEGER", primaryKey: true },
          { name: "b", type: "TEXT", primaryKey: true },
        ],
        withoutRowid: true,
      }),
    ).toBe('CREATE TABLE "m" ("a" INTEGER, "b" TEXT, PRIMARY KEY ("a", "b")) WITHOUT ROWID');
  });

  test("STRICT gives untyped columns ANY; options and IF NOT EXISTS", async () => {
    const ddl = sql({
      name: "s",
      columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "v" }],
      strict: true,
      withoutRowid: true,
      ifNotExists: true,
    });
    expect(ddl).toBe(
      'CREATE TABLE IF NOT EXISTS "s" ("id" INTEGER PRIMARY KEY, "v" ANY) STRICT, WITHOUT ROWID',
    );
    expect((await sqliteSchema(ddl)).columns).toEqual([
      ["id", "INTEGER", 1n, null, 1n],
      ["v", "ANY", 0n, null, 0n],
    ]);
  });

  test.each<[string, CreateTableRequest, string]>([
    [
      "duplicate column names (case-insensitive)",
      { name: "t", columns: [{ name: "a" }, { name: "A" }] },
      'Column "A" appears twice',
    ],
    [
      "autoIncrement on a non-INTEGER key",
      { name: "t", columns: [{ name: "a", type: "TEXT", primaryKey: true, autoIncrement: true }] },
      'autoIncrement needs "a" to be the only primary key, of type INTEGER',
    ],
    [
      "autoIncrement without a primary key",
      { name: "t", columns: [{ name: "a", type: "INTEGER", autoIncrement: true }] },
      'autoIncrement needs "a" to be the only primary key, of type INTEGER',
    ],
    [
      "autoIncrement in a composite key",
      {
        name: "t",
        columns: [
          { name: "a", type: "INTEGER", primaryKey: true, autoIncrement: true },
          { name: "b", type: "INTEGER", primaryKey: true },
        ],
      },
      'autoIncrement needs "a" to be the only primary key, of type INTEGER',
    ],
    [
      "WITHOUT ROWID without a primary key",
      { name: "t", columns: [{ name: "a" }], withoutRowid: true },
      "A WITHOUT ROWID table needs a primary key",
    ],
    [
      "a name with a control character",
      { name: "t\n", columns: [{ name: "a" }] },
      '"t\n" is not a usable identifier',
    ],
    [
      "a non-finite default",
      { name: "t", columns: [{ name: "a", default: Number.POSITIVE_INFINITY }] },
      "Default values must be finite numbers",
    ],
  ])("refuses %s", (_, body, message) => {
    // Non-finite numbers cannot come from JSON; call the builder directly for that one.
    expect(badRequest(() => createTableSql(body as Parameters<typeof createTableSql>[0]))).toBe(
      message,
    );
  });
});

describe("the request schema", () => {
  test.each([
    "INTEGER",
    "text",
    "VARCHAR(20)",
    "DECIMAL(10, 2)",
    "UNSIGNED BIG INT",
    "DOUBLE PRECISION",
    "NATIVE CHARACTER(70)",
    "NOTE", // a word that merely starts like a keyword
  ])("accepts the type name %j", (type) => {
    expect(Body.safeParse({ name: "t", columns: [{ name: "a", type }] }).success).toBe(true);
  });

  test.each([
    "TEXT); DROP TABLE y; --",
    "TEXT, b TEXT",
    "TEXT DEFAULT 'x'",
    "TEXT PRIMARY KEY",
    "INTEGER NOT NULL",
    "INTEGER AS (1)",
    "INTEGER GENERATED ALWAYS AS (1)",
    "TEXT UNIQUE",
    "TEXT COLLATE NOCASE",
    "INTEGER REFERENCES t",
    "INTEGER CHECK(1)",
    "TEXT CONSTRAINT c NULL",
    "1NT",
    "",
  ])("refuses the type %j (a type name only; constraints have their own fields)", (type) => {
    expect(Body.safeParse({ name: "t", columns: [{ name: "a", type }] }).success).toBe(false);
  });

  test("refuses empty and oversized names, no columns, unknown default expressions", () => {
    const refused: unknown[] = [
      { name: "", columns: [{ name: "a" }] },
      { name: "x".repeat(129), columns: [{ name: "a" }] },
      { name: "t", columns: [] },
      { name: "t", columns: [{ name: "a", default: { expression: "random()" } }] },
      { name: "t", columns: [{ name: "a", references: { table: "u", onDelete: "DROP" } }] },
    ];
    for (const body of refused) expect(Body.safeParse(body).success).toBe(false);
  });

  test("what the schema admits, SQLite accepts", async () => {
    const ddl = sql({
      name: "every option",
      columns: [
        { name: "id", type: "INTEGER", primaryKey: true, autoIncrement: true },
        { name: "price", type: "DECIMAL(10, 2)", notNull: true, default: 0 },
        { name: "kind", type: "UNSIGNED BIG INT", unique: true },
        { name: "parent", type: "INTEGER", references: { table: "every option" } },
      ],
    });
    const schema = await sqliteSchema(ddl);
    expect(schema.sql).toBe(ddl);
    expect(schema.columns).toEqual([
      ["id", "INTEGER", 0n, null, 1n],
      ["price", "DECIMAL(10, 2)", 1n, "0", 0n],
      ["kind", "UNSIGNED BIG INT", 0n, null, 0n],
      ["parent", "INTEGER", 0n, null, 0n],
    ]);
  });
});
