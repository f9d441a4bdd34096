/** describeTable against an in-memory SQLite: what the catalog says, as the API reports it. */
import { type Client, createClient, type ResultSet as LibsqlResult } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiError } from "../../core/errors";
import type { HranaClient, ResultSet } from "./hrana/client";
import { describeTable as describe_ } from "./tables";

let db: Client;

/** The in-memory database behind the functions' client interface (rows as arrays). */
const asResult = (rs: LibsqlResult): ResultSet => ({
  columns: rs.columns,
  columnTypes: rs.columnTypes,
  rows: rs.rows.map((row) => Array.from({ length: row.length }, (_, i) => row[i] ?? null)),
  rowsAffected: rs.rowsAffected,
  lastInsertRowid: rs.lastInsertRowid,
});
const client = (): HranaClient => ({
  execute: async (statement) => asResult(await db.execute(statement as never)),
  batch: async (statements, mode) => (await db.batch(statements as never, mode)).map(asResult),
});
const describeTable = (_db: Client, table: string) => describe_(client(), table);

beforeAll(async () => {
  db = createClient({ url: ":memory:", intMode: "bigint" });
  await db.executeMultiple(`
    CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE "odd ""name""" (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      team INTEGER REFERENCES teams (id) ON DELETE CASCADE,
      label TEXT DEFAULT 'x',
      twice INTEGER GENERATED ALWAYS AS (id * 2)
    );
    CREATE INDEX by_label ON "odd ""name""" (label, team);
    CREATE TABLE pairs (a INTEGER, b TEXT, PRIMARY KEY (b, a)) STRICT, WITHOUT ROWID;
    CREATE VIEW team_names AS SELECT name FROM teams;
  `);
});

afterAll(() => db.close());

describe("describeTable", () => {
  test("columns, defaults, primary key, hidden generated columns, foreign keys, indexes", async () => {
    const info = await describeTable(db, 'odd "name"');
    expect(info.name).toBe('odd "name"');
    expect([info.type, info.strict, info.withoutRowid]).toEqual(["table", false, false]);
    expect(info.columns).toEqual([
      {
        name: "id",
        type: "INTEGER",
        notNull: false,
        default: null,
        primaryKey: 1,
        hidden: false,
      },
      {
        name: "team",
        type: "INTEGER",
        notNull: false,
        default: null,
        primaryKey: 0,
        hidden: false,
      },
      { name: "label", type: "TEXT", notNull: false, default: "'x'", primaryKey: 0, hidden: false },
      {
        name: "twice",
        type: "INTEGER",
        notNull: false,
        default: null,
        primaryKey: 0,
        hidden: true,
      },
    ]);
    expect(info.foreignKeys).toEqual([
      { from: "team", table: "teams", to: "id", onUpdate: "NO ACTION", onDelete: "CASCADE" },
    ]);
    expect(info.indexes).toEqual([
      { name: "by_label", unique: false, origin: "c", columns: ["label", "team"] },
    ]);
  });

  test("UNIQUE constraints are indexes of origin u", async () => {
    const info = await describeTable(db, "teams");
    expect(info.indexes).toEqual([
      { name: "sqlite_autoindex_teams_1", unique: true, origin: "u", columns: ["name"] },
    ]);
    expect(info.columns.map((c) => [c.name, c.notNull, c.primaryKey])).toEqual([
      ["id", false, 1],
      ["name", true, 0],
    ]);
  });

  test("STRICT, WITHOUT ROWID and the positions of a composite key", async () => {
    const info = await describeTable(db, "pairs");
    expect([info.strict, info.withoutRowid]).toEqual([true, true]);
    expect(info.columns.map((c) => [c.name, c.notNull, c.primaryKey])).toEqual([
      ["a", true, 2],
      ["b", true, 1],
    ]);
  });

  test("views are described as views", async () => {
    const info = await describeTable(db, "team_names");
    expect(info.type).toBe("view");
    expect(info.sql).toBe("CREATE VIEW team_names AS SELECT name FROM teams");
    expect(info.columns.map((c) => c.name)).toEqual(["name"]);
  });

  test("a missing table is TABLE_NOT_FOUND", async () => {
    const err = await describeTable(db, "nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("TABLE_NOT_FOUND");
    expect((err as ApiError).message).toBe('No table named "nope"');
  });

  test("an index or a name that would break out of quotes is not a table", async () => {
    for (const name of ["by_label", 'teams"; DROP TABLE teams; --']) {
      const err = await describeTable(db, name).catch((e: unknown) => e);
      expect((err as ApiError).code).toBe("TABLE_NOT_FOUND");
    }
    expect((await describeTable(db, "teams")).name).toBe("teams");
  });
});
