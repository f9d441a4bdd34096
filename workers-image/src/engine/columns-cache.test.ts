/**
 * Connections cache the column list of each prepared statement; a schema change made by any
 * connection of the database (committed, in a transaction, rolled back) must show in the next
 * result of every other connection.
 */
import { afterAll, expect, test } from "vitest";
import { analyzeSql } from "../../../core/sql/analyze";
import { openTestDatabase } from "../../../testkit/database";
import type { Connection } from "./connection";

const { db, close } = openTestDatabase("columns-cache", {
  synchronous: "FULL",
  poolSize: 4,
  maxConnections: 16,
});
afterAll(close);

const budget = { charge() {}, release() {} } as never;
const columns = (conn: Connection, sql: string) =>
  conn.execute(analyzeSql(sql)[0]!, [], true, budget).columns.map((c) => c.name);
const run = (conn: Connection, sql: string) => conn.execute(analyzeSql(sql)[0]!, [], false, budget);

test("SELECT * follows ALTER, CREATE and DROP made on other connections", () => {
  const reader = db.acquire(false);
  const writer = db.acquire(false);
  run(writer, "CREATE TABLE t (a)");
  run(writer, "INSERT INTO t VALUES (1)");
  expect(columns(reader, "SELECT * FROM t")).toEqual(["a"]);

  run(writer, "ALTER TABLE t ADD COLUMN b");
  // The columns and the rows agree (SQLite reports the old columns until the first step).
  const result = reader.execute(analyzeSql("SELECT * FROM t")[0]!, [], true, budget);
  expect(result.columns.map((c) => c.name)).toEqual(["a", "b"]);
  expect(result.rows).toEqual([[1n, null]]);
  expect(reader.describeColumns(analyzeSql("SELECT * FROM t")[0]!).map((c) => c.name)).toEqual([
    "a",
    "b",
  ]);

  // Inside a transaction the reader does not see it; once committed, it does.
  run(writer, "BEGIN");
  run(writer, "ALTER TABLE t ADD COLUMN c");
  expect(columns(reader, "SELECT * FROM t")).toEqual(["a", "b"]);
  run(writer, "COMMIT");
  expect(columns(reader, "SELECT * FROM t")).toEqual(["a", "b", "c"]);

  // Rolled back (by the client, or by the server releasing the stream): the columns go back.
  run(writer, "BEGIN");
  run(writer, "ALTER TABLE t ADD COLUMN d");
  expect(columns(writer, "SELECT * FROM t")).toEqual(["a", "b", "c", "d"]);
  run(writer, "ROLLBACK");
  expect(columns(writer, "SELECT * FROM t")).toEqual(["a", "b", "c"]);
  run(writer, "BEGIN");
  run(writer, "ALTER TABLE t ADD COLUMN e");
  expect(columns(writer, "SELECT * FROM t")).toContain("e");
  db.release(writer);
  expect(columns(reader, "SELECT * FROM t")).toEqual(["a", "b", "c"]);

  const again = db.acquire(false);
  run(again, "DROP TABLE t");
  run(again, "CREATE TABLE t (x, y)");
  expect(columns(reader, "SELECT * FROM t")).toEqual(["x", "y"]);
  db.release(again);
  db.release(reader);
});
