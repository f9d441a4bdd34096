/**
 * The statement screen (the SQL layer where the engine has no authorizer): attacks are refused,
 * ordinary statements are not, and, where the pre-release engine loads, every statement SQLite's
 * own authorizer refuses for a function or module is refused by the screen too (a generated
 * differential test: the authorizer sees what SQLite's parser resolved, the screen only tokens).
 */
import { describe, expect, test } from "vitest";
import { analyzeSql } from "../../../core/sql/analyze";
import { type Engine, openNative, selectEngine } from "../../../core/sqlite";
import { loadPre } from "../../../core/sqlite/pre";
import { SqlError } from "../engine/errors";
import { buildSandbox } from "./authorizer";
import { screenStatement } from "./screen";

const stable = selectEngine("stable");
const probe = openNative(":memory:", 5000);
const column = (sql: string) =>
  [...probe.prepare(sql).raw(true).iterate()].map((row) => String(row[0]));
const surface = {
  modules: column("SELECT name FROM pragma_module_list"),
  functions: column("SELECT DISTINCT name FROM pragma_function_list"),
  authorizes: stable.authorizes,
};
probe.close();
const sandbox = buildSandbox(surface);

function screened(sql: string): SqlError | undefined {
  const [stmt] = analyzeSql(sql);
  try {
    screenStatement(stmt!, sandbox);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(SqlError);
    return err as SqlError;
  }
}

test("the stable engine has no authorizer, so its sandbox screens", () => {
  expect(stable.authorizes).toBe(false);
  expect(sandbox.screens).toBe(true);
});

test.each([
  "SELECT readfile('/etc/passwd')",
  "SELECT \"readfile\" /* a comment */ ('/etc/passwd')",
  "SELECT [ReadFile]('/etc/passwd')",
  "SELECT `readfile`\n('/etc/passwd')",
  "SELECT readfile-- a comment\n('/etc/passwd')",
  "SELECT writefile('/tmp/x', 'y')",
  "SELECT load_extension('/lib/x.so')",
  "SELECT fts3_tokenizer('simple')",
  "CREATE TABLE q (a DEFAULT (readfile('/etc/hostname')))",
  "CREATE VIEW v AS SELECT readfile('/etc/hostname')",
  "SELECT * FROM fsdir('/')",
  "SELECT * FROM 'fsdir'('/')",
  "SELECT * FROM main.'fsdir'('/')",
  "SELECT * FROM 'main'.fsdir('/')",
  "SELECT * FROM t, 'sqlite_dbpage'",
  "SELECT * FROM t JOIN 'sqlite_dbpage' ON 1",
  "SELECT * FROM ('sqlite_dbpage')",
  "SELECT * FROM (t, 'sqlite_dbpage')",
  "SELECT * FROM t LEFT JOIN (SELECT 1) ON 1, 'sqlite_stmt'",
  "INSERT INTO 'sqlite_dbpage' VALUES (1, zeroblob(4096))",
  "UPDATE 'sqlite_dbpage' SET data = zeroblob(4096)",
  "DELETE FROM 'sqlite_dbpage'",
  'SELECT * FROM "sqlite_dbpage"',
  "SELECT * FROM [sqlite_dbpage]",
  "WITH x AS (SELECT * FROM sqlite_stmt) SELECT * FROM x",
  "SELECT (SELECT count(*) FROM 'sqlite_stmt')",
  "SELECT * FROM pragma_hard_heap_limit",
  "CREATE VIRTUAL TABLE z USING fsdir",
  'CREATE VIRTUAL TABLE z USING "zipfile"',
  "ATTACH 'other.db' AS other",
  "VACUUM INTO '/tmp/copy.db'",
  "VACUUM main INTO '/tmp/copy.db'",
])("refused: %s", (sql) => {
  const err = screened(sql);
  expect(err?.code, sql).toBe("SQLITE_AUTH");
  expect(err?.message).toMatch(/not authorized/);
});

test.each([
  "SELECT 'csv', 'fsdir', 'readfile'",
  "INSERT INTO files (kind, name) VALUES ('csv', 'sqlite_dbpage')",
  "SELECT * FROM t WHERE kind IS DISTINCT FROM 'csv'",
  "SELECT * FROM t WHERE kind IS NOT DISTINCT FROM 'dbstat'",
  "SELECT * FROM t WHERE kind IN ('csv', 'fsdir')",
  "SELECT * FROM t JOIN u ON t.kind = 'csv'",
  "UPDATE t SET a = 'csv', b = 'fsdir' WHERE c = 'dbstat'",
  "INSERT INTO t SELECT 'csv', x FROM u ON CONFLICT (x) DO UPDATE SET y = 'fsdir', z = 'csv'",
  "SELECT * FROM generate_series(1, 3), json_each('[\"csv\"]')",
  "SELECT * FROM (VALUES (1, 'csv'), (2, 'dbstat'))",
  "SELECT * FROM t ORDER BY a, 'csv'",
  "SELECT readfile FROM t",
  "CREATE VIRTUAL TABLE docs USING fts5(body)",
  "SELECT x'00ff'",
  "VACUUM",
])("allowed: %s", (sql) => {
  expect(screened(sql)?.message).toBeUndefined();
});

/** Every refused module and function, spelled every way SQLite accepts a name. */
describe("refuses everything SQLite's authorizer refuses (differential, generated)", () => {
  let pre: Engine | undefined;
  try {
    pre = loadPre();
  } catch {
    pre = undefined;
  }
  test.skipIf(!pre)("against the pre-release engine's authorizer", () => {
    const db = pre!.open(":memory:", 5000);
    db.defaultSafeIntegers(true);
    db.exec("CREATE TABLE t (a, b, c); CREATE TABLE u (x PRIMARY KEY, y, z)");
    db.authorizer(buildSandbox({ ...surface, authorizes: true }).authorizer);

    const modules = ["fsdir", "sqlite_dbpage", "carray", "sqlite_stmt"];
    const functions = ["readfile", "writefile", "load_extension", "fts3_tokenizer", "lsmode"];
    const spell = (name: string, k: number): string =>
      [
        name,
        name.toUpperCase(),
        `"${name}"`,
        `[${name}]`,
        `\`${name}\``,
        `'${name}'`,
        `/**/${name}/**/`,
      ][k]!;
    const tableSlots = [
      "SELECT * FROM %",
      "SELECT * FROM %('/')",
      "SELECT * FROM t, %",
      "SELECT * FROM t, u, %('/')",
      "SELECT * FROM t JOIN % ON 1",
      "SELECT * FROM t NATURAL LEFT JOIN %",
      "SELECT * FROM (%)",
      "SELECT * FROM (t, %)",
      "SELECT * FROM main.%",
      "SELECT * FROM 'main'.%",
      "SELECT * FROM % AS alias",
      "INSERT INTO % VALUES (1, 2)",
      "INSERT INTO t SELECT * FROM %",
      "UPDATE % SET data = 1",
      "DELETE FROM %",
      "UPDATE t SET a = 1 FROM %",
      "WITH w AS (SELECT * FROM %) SELECT * FROM w",
      "SELECT (SELECT count(*) FROM %)",
      "SELECT * FROM t WHERE a IN (SELECT 1 FROM %)",
      "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t, %)",
      "SELECT 1 UNION SELECT 1 FROM %",
      "CREATE VIEW v AS SELECT * FROM %",
      "CREATE VIRTUAL TABLE z USING %",
    ];
    const functionSlots = [
      "SELECT %('x')",
      "SELECT %('x', 'y')",
      "SELECT a FROM t WHERE %('x') IS NULL",
      "SELECT * FROM t ORDER BY %('x')",
      "SELECT count(*) FILTER (WHERE %('x')) FROM t",
      "INSERT INTO t VALUES (%('x'), 1, 2)",
      "CREATE TABLE d (a DEFAULT (%('x')))",
      "SELECT * FROM t JOIN u ON %('x')",
      "SELECT CASE WHEN 1 THEN %('x') END",
    ];
    let authorizerRefusals = 0;
    const check = (sql: string) => {
      let authorized = true;
      try {
        db.prepare(sql);
      } catch (err) {
        const code = (err as { code?: string }).code;
        authorized = code !== "SQLITE_AUTH" && !/not authorized/.test((err as Error).message);
      }
      if (authorized) return;
      authorizerRefusals++;
      expect(screened(sql)?.code, sql).toBe("SQLITE_AUTH");
    };
    for (const slot of tableSlots) {
      for (const name of modules)
        for (let k = 0; k < 7; k++) check(slot.replace("%", spell(name, k)));
    }
    for (const slot of functionSlots) {
      for (const name of functions)
        for (let k = 0; k < 7; k++) check(slot.replace("%", spell(name, k)));
    }
    // The generator really reaches the authorizer (a test that cannot fail is a defect).
    expect(authorizerRefusals).toBeGreaterThan(500);
    db.close();
  });
});
