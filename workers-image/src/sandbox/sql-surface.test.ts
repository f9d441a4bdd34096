/**
 * The SQL surface data file against the pinned engine: every function, module and pragma the
 * engine has is classified, so an engine upgrade that adds one fails here until someone decides
 * whether tenants may use it. And the sandbox built from it refuses what it must.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { analyzeSql } from "../../../core/sql/analyze";
import { type NativeDatabase, openNative } from "../../../core/sqlite";
import { testEngine } from "../../../testkit/engine";
import { makeTempDir, removeDir } from "../../../testkit/temp";
import { Connection } from "../engine/connection";
import { SqlError } from "../engine/errors";
import { anyOf, buildSandbox } from "./authorizer";
import { pragmaOf } from "./pragma";
import {
  ALLOWED_FUNCTIONS,
  CLASSIFIED_PRAGMAS,
  CREATABLE_MODULES,
  DENIED_FUNCTIONS,
  DENIED_MODULES,
  READABLE_MODULES,
} from "./surface";

const selected = testEngine();
const engine: NativeDatabase = openNative(":memory:", 5000);
afterAll(() => engine.close());

const column = (sql: string): string[] =>
  [...engine.prepare(sql).raw(true).iterate()].map((row) => String(row[0]));

describe("classification matches the pinned engine", () => {
  test("every function is allowed or denied, none both", () => {
    const functions = new Set(column("SELECT name FROM pragma_function_list"));
    const unclassified = [...functions].filter(
      (name) => !ALLOWED_FUNCTIONS.has(name) && !DENIED_FUNCTIONS.has(name),
    );
    expect(unclassified).toEqual([]);
    expect([...ALLOWED_FUNCTIONS].filter((name) => DENIED_FUNCTIONS.has(name))).toEqual([]);
    // The data file names nothing the engine lacks, except denials kept for future engines
    // and, on the stable engine (SQLite 3.45), the functions SQLite added since.
    const newerThanStable = ["fts5_get_locale", "fts5_locale", "json_pretty", "sha3_agg"];
    expect([...ALLOWED_FUNCTIONS].filter((name) => !functions.has(name)).sort()).toEqual(
      selected.name === "stable" ? newerThanStable : [],
    );
    for (const dangerous of ["readfile", "writefile", "edit", "load_extension", "fts3_tokenizer"]) {
      expect(DENIED_FUNCTIONS.has(dangerous)).toBe(true);
    }
  });

  test("every module is creatable, readable or denied", () => {
    const modules = column("SELECT name FROM pragma_module_list");
    const unclassified = modules.filter(
      (name) => !READABLE_MODULES.has(name) && !DENIED_MODULES.has(name),
    );
    expect(unclassified).toEqual([]);
    for (const dangerous of ["fsdir", "sqlite_dbpage", "zipfile", "csv", "carray"]) {
      expect(DENIED_MODULES.has(dangerous)).toBe(true);
      expect(READABLE_MODULES.has(dangerous)).toBe(false);
    }
  });

  test("every pragma is classified", () => {
    const pragmas = column("SELECT name FROM pragma_pragma_list");
    expect(pragmas.filter((name) => !CLASSIFIED_PRAGMAS.has(name))).toEqual([]);
  });
});

describe("the sandbox on a connection", () => {
  const sandbox = buildSandbox({
    modules: column("SELECT name FROM pragma_module_list"),
    functions: column("SELECT DISTINCT name FROM pragma_function_list"),
    authorizes: selected.authorizes,
  });
  const dir = makeTempDir("sandbox");
  const file = join(dir, "data");
  const conn = new Connection(file, {
    queryTimeoutMs: 5000,
    synchronous: "FULL",
    sandbox,
    schema: { generation: 0 },
  });
  const budget = { charge() {}, release() {} } as never;
  const run = (sql: string) => {
    const [stmt] = analyzeSql(sql);
    return conn.execute(stmt!, [], true, budget);
  };
  const refusal = (sql: string): SqlError => {
    try {
      run(sql);
    } catch (err) {
      expect(err).toBeInstanceOf(SqlError);
      return err as SqlError;
    }
    throw new Error(`not refused: ${sql}`);
  };
  afterAll(() => {
    conn.close();
    removeDir(dir);
  });

  test("every denied function is refused by name, also in views and triggers", () => {
    // Every arity the engine registers (SQLite checks the arity before asking the authorizer).
    const variants = engine
      .prepare("SELECT name, narg FROM pragma_function_list")
      .raw(true)
      .iterate() as Iterable<[string, bigint]>;
    let checked = 0;
    for (const [name, narg] of variants) {
      if (!DENIED_FUNCTIONS.has(name)) continue;
      const args = Array.from({ length: narg < 0 ? 1 : Number(narg) }, () => "NULL").join(", ");
      const err = refusal(`SELECT ${JSON.stringify(name)}(${args})`);
      expect(err.code, name).toBe("SQLITE_AUTH");
      expect(err.message).toContain(`not authorized to use function: ${name} (`);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    expect(refusal("SELECT READFILE('/etc/passwd')").code).toBe("SQLITE_AUTH");
    expect(refusal("SELECT \"readfile\" /* c */ ('/etc/passwd')").code).toBe("SQLITE_AUTH");
    run("CREATE TABLE t (x)");
    const target = join(dir, "written-by-trigger");
    const view = "CREATE VIEW v AS SELECT readfile('/etc/passwd') AS f";
    const trigger = `CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT writefile('${target}', 'y'); END`;
    if (selected.authorizes) {
      // SQLite resolves a view's or trigger's functions when a statement uses it: they may be
      // created, but they can never run the function, under any token.
      run(view);
      run(trigger);
    } else {
      // The screen refuses them at once.
      expect(refusal(view).code).toBe("SQLITE_AUTH");
      expect(refusal(trigger).code).toBe("SQLITE_AUTH");
      // Planted in the file from outside (an imported database), they never run the function
      // either: trusted_schema=OFF, and SQLite's file functions are direct-only.
      const outside = openNative(file, 5000);
      outside.exec(`${view}; ${trigger}`);
      outside.close();
    }
    expect(refusal("SELECT f FROM v").code).toMatch(/^SQLITE_(AUTH|ERROR)$/);
    expect(refusal("INSERT INTO t VALUES (1)").code).toMatch(/^SQLITE_(AUTH|ERROR)$/);
    expect(existsSync(target)).toBe(false);
    run("DROP VIEW v");
    run("DROP TRIGGER tr");
    run("DELETE FROM t");
  });

  test("allowed functions work", () => {
    const sample =
      "SELECT abs(-1), json_extract('{\"a\":1}', '$.a'), vector_extract(vector('[1]'))";
    expect(run(sample).rows[0]?.[0]).toBe(1n);
  });

  test("denied and unknown modules are refused by name, for reads, writes and CREATE", () => {
    for (const sql of [
      "SELECT * FROM fsdir('/')",
      "SELECT count(*) FROM FSDIR('/etc')",
      "SELECT 1 FROM main.fsdir('/') LIMIT 1",
      'SELECT * FROM "sqlite_dbpage"',
      "UPDATE sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 1",
      "INSERT INTO sqlite_dbpage VALUES (1, zeroblob(4096))",
      "SELECT * FROM sqlite_stmt",
    ]) {
      const err = refusal(sql);
      expect(err.code, sql).toBe("SQLITE_AUTH");
      expect(err.message, sql).toMatch(/virtual table module (fsdir|sqlite_dbpage|sqlite_stmt)/);
    }
    const create = refusal("CREATE VIRTUAL TABLE d USING dbstat");
    expect(create.message).toContain("module dbstat is not available");
    for (const module of CREATABLE_MODULES) {
      const columns = module.startsWith("rtree")
        ? "(id, x0, x1)"
        : module === "fts4aux" || module === "fts5vocab"
          ? "(f, 'row')"
          : "(body)";
      if (module === "fts4aux" || module === "fts5vocab" || module === "fts3tokenize") continue;
      run(`CREATE VIRTUAL TABLE "v_${module}" USING ${module.toUpperCase()}${columns}`);
    }
    expect(run("SELECT value FROM generate_series(1, 3)").rows).toHaveLength(3);
  });

  test("pragmas: unclassified and internal ones refused, managed ones read-only", () => {
    for (const sql of [
      "PRAGMA key = 'x'",
      "PRAGMA hard_heap_limit = 0",
      "PRAGMA hard_heap_limit",
      "PRAGMA writable_schema = ON",
      "PRAGMA Trusted_Schema = 1",
      "PRAGMA main.journal_mode = DELETE",
      "PRAGMA journal_mode(OFF)",
      'PRAGMA "busy_timeout" = 100000',
      "EXPLAIN PRAGMA synchronous = OFF",
      "SELECT * FROM pragma_hard_heap_limit",
    ]) {
      expect(refusal(sql).code, sql).toBe("SQLITE_AUTH");
    }
    expect(run("PRAGMA journal_mode").rows).toHaveLength(1);
    expect(run("PRAGMA foreign_keys = ON").affectedRowCount).toBe(0);
    expect(run("PRAGMA user_version = 7").affectedRowCount).toBe(0);
    expect(run("SELECT * FROM pragma_table_info('t')").rows).toHaveLength(1);
  });

  test("read-only connections run reading pragmas only", () => {
    conn.setReadOnly(true);
    try {
      for (const sql of [
        "PRAGMA user_version = 8",
        "PRAGMA application_id = 1",
        "PRAGMA auto_vacuum = FULL",
        "PRAGMA page_size = 8192",
        "PRAGMA optimize",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA incremental_vacuum",
      ]) {
        expect(refusal(sql).code, sql).toBe("SQLITE_READONLY");
      }
      expect(refusal("PRAGMA journal_mode = DELETE").code).toBe("SQLITE_AUTH");
      expect(run("PRAGMA user_version").rows[0]?.[0]).toBe(7n);
      expect(run("PRAGMA table_info(t)").rows).toHaveLength(1);
      expect(run("PRAGMA integrity_check").rows[0]?.[0]).toBe("ok");
    } finally {
      conn.setReadOnly(false);
    }
  });
});

test("pragmaOf reads names and arguments like SQLite", () => {
  const of = (sql: string) => pragmaOf(analyzeSql(sql)[0]!);
  expect(of("PRAGMA user_version")).toEqual({ name: "user_version", hasArgument: false });
  expect(of("pragma MAIN.User_Version=1")).toEqual({ name: "user_version", hasArgument: true });
  expect(of('PRAGMA "journal_mode" /* c */ (wal)')).toEqual({
    name: "journal_mode",
    hasArgument: true,
  });
  expect(of("PRAGMA [schema].'page_size' = 1")).toEqual({ name: "page_size", hasArgument: true });
  expect(of("EXPLAIN QUERY PLAN PRAGMA x")).toEqual({ name: "x", hasArgument: false });
  expect(of("SELECT 1")).toBeUndefined();
});

test("anyOf matches names in any letter case only", () => {
  expect(anyOf(["ab_c", "->"]).glob).toBe("{[aA][bB]_[cC],->}");
});
