/**
 * The one-row fast path never drops a row: for generated queries, the rows a connection returns
 * equal SQLite's own full iteration, and the fast path is really taken for point selects.
 */
import { afterAll, expect, test } from "vitest";
import { analyzeSql } from "../../../core/sql/analyze";
import { openNative } from "../../../core/sqlite";
import { openTestDatabase } from "../../../testkit/database";
import { atMostOneRow, type Instruction } from "./single-row";

const { db, file, close } = openTestDatabase("single-row");
const raw = openNative(file, 5000);
afterAll(() => {
  raw.close();
  close();
});
const budget = { charge() {}, release() {} } as never;

function program(sql: string): Instruction[] {
  const explain = raw.prepare(`EXPLAIN ${sql}`).raw(true);
  const rows = [...explain.iterate()];
  explain.get(); // resets it (see Connection.explain)
  return rows.map(([addr, opcode, , p2]) => ({
    addr: Number(addr),
    opcode: String(opcode),
    p2: Number(p2),
  }));
}

test("point selects and expressions are one row; scans, joins, unions and sorts are not", () => {
  raw.exec(
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, v REAL); CREATE TABLE t (a, b)",
  );
  for (const sql of [
    "SELECT id, name, v FROM items WHERE id = ?",
    "SELECT * FROM items WHERE rowid = 3",
    "SELECT 1",
    "SELECT ?, 'x'",
  ]) {
    expect(atMostOneRow(program(sql)), sql).toBe(true);
  }
  for (const sql of [
    "SELECT * FROM items",
    "SELECT * FROM items WHERE id > ?",
    "SELECT * FROM items WHERE name = ?",
    "SELECT * FROM t WHERE a = ?",
    "SELECT * FROM items, t WHERE items.id = 1",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT * FROM items WHERE id IN (1, 2)",
    "SELECT * FROM items WHERE id = ? OR id = ?",
    "VALUES (1), (2)",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3) SELECT x FROM c",
    "SELECT count(*) FROM items",
    "SELECT * FROM generate_series(1, 3)",
  ]) {
    expect(atMostOneRow(program(sql)), sql).toBe(false);
  }
});

test("generated queries return exactly SQLite's rows, also after the schema changes", () => {
  const conn = db.acquire(false);
  const run = (sql: string, args: unknown[] = []) =>
    conn.execute(analyzeSql(sql)[0]!, args as never, true, budget).rows;
  const sqlite = (sql: string, args: unknown[] = []) => [
    ...raw
      .prepare(sql)
      .raw(true)
      .iterate(args as never),
  ];
  run("CREATE TABLE g (id INTEGER PRIMARY KEY, k INTEGER, s TEXT)");
  run("INSERT INTO g SELECT value, value % 7, 'row ' || value FROM generate_series(1, 200)");
  const queries = [
    "SELECT * FROM g WHERE id = ?",
    "SELECT s FROM g WHERE id = ?",
    "SELECT * FROM g WHERE k = ?",
    "SELECT * FROM g WHERE id >= ? LIMIT 3",
    "SELECT ?, ? * 2",
    "SELECT count(*) FROM g WHERE k = ?",
  ];
  for (let i = 0; i < 300; i++) {
    const sql = queries[i % queries.length]!;
    const args = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => BigInt(i % 220));
    expect(run(sql, args), `${sql} ${args}`).toEqual(sqlite(sql, args));
  }
  // The table is re-created without its primary key: "WHERE id = ?" now matches many rows.
  run("DROP TABLE g");
  run("CREATE TABLE g (id INTEGER, k INTEGER, s TEXT)");
  run("INSERT INTO g SELECT value % 3, value, 'again ' || value FROM generate_series(1, 30)");
  const many = run("SELECT * FROM g WHERE id = ?", [1n]);
  expect(many).toHaveLength(10);
  expect(many).toEqual(sqlite("SELECT * FROM g WHERE id = ?", [1n]));
  db.release(conn);
});

test("EXPLAIN and EXPLAIN QUERY PLAN run again and again (no one-row check of an EXPLAIN)", () => {
  const conn = db.acquire(false);
  try {
    for (const sql of ["EXPLAIN QUERY PLAN SELECT * FROM items WHERE id = 1", "EXPLAIN SELECT 1"]) {
      const [info] = analyzeSql(sql);
      for (let run = 0; run < 3; run++) {
        const result = conn.execute(info as never, [], true, budget);
        expect(result.rows.length, `${sql}, run ${run}`).toBeGreaterThan(0);
      }
    }
  } finally {
    db.release(conn);
  }
});
