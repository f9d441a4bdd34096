/** The dbforge CLI (built bundle) against a real stack, through the public API only. */
import { execFileSync, spawn } from "node:child_process";
import { statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CLI_BUNDLE } from "../testkit/paths";
import { type Stack, startStack } from "../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

function dbforge(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
      env: {
        PATH: process.env.PATH,
        DBFORGE_URL: stack.runtimes.node.url,
        DBFORGE_TOKEN: stack.adminToken,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

test("db create, list, show, delete", async () => {
  const created = await dbforge(["db", "create", "cli-db"]);
  expect(created.code).toBe(0);
  expect(created.stdout).toContain("created cli-db (running)");
  expect(created.stdout).toContain("/db/cli-db/");
  const list = await dbforge(["db", "list"]);
  expect(list.stdout).toMatch(/│ cli-db\s+│ running\s+│/);
  const show = await dbforge(["db", "show", "cli-db", "--json"]);
  expect(JSON.parse(show.stdout)).toMatchObject({ name: "cli-db", status: "running" });
  const deleted = await dbforge(["db", "delete", "cli-db"]);
  expect(deleted.stdout).toContain("deleted cli-db");
  const missing = await dbforge(["db", "show", "cli-db"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("error: DATABASE_NOT_FOUND");
});

test("query prints tables; tokens work for reading only", async () => {
  await dbforge(["db", "create", "cli-query"]);
  const run = await dbforge([
    "query",
    "cli-query",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x'), ('y'); SELECT * FROM t",
  ]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("2 rows affected");
  expect(run.stdout).toMatch(/│ id │ v +│/);
  expect(run.stdout).toContain("2 rows (");
  const params = await dbforge([
    "query",
    "cli-query",
    "SELECT v FROM t WHERE id = ?",
    "--params",
    "[2]",
    "--json",
  ]);
  expect(JSON.parse(params.stdout).rows).toEqual([["y"]]);

  const minted = await dbforge([
    "tokens",
    "create",
    "cli-query",
    "--read-only",
    "--expires",
    "30m",
  ]);
  expect(minted.code).toBe(0);
  const token = minted.stdout.trim();
  expect(minted.stderr).toContain("read-only token for cli-query");
  const asReader = await dbforge(["query", "cli-query", "DELETE FROM t", "--token", token]);
  expect(asReader.code).toBe(1);
  expect(asReader.stderr).toContain("READ_ONLY");
  const bad = await dbforge(["query", "cli-query", "SELEC 1"]);
  expect(bad.stderr).toContain("error: SQL_SYNTAX_ERROR");
});

test("the shell runs multi-line statements and dot commands", async () => {
  await dbforge(["db", "create", "cli-shell"]);
  const session = await dbforge(
    ["shell", "cli-shell"],
    "CREATE TABLE notes (body TEXT);\nINSERT INTO notes\n  VALUES ('first');\nSELECT body\nFROM notes;\n.tables\n.schema notes\nSELEC;\n.quit\nSELECT 'not reached';\n",
  );
  expect(session.code).toBe(0);
  expect(session.stdout).toContain("1 row affected");
  expect(session.stdout).toMatch(/│ first │/);
  expect(session.stdout).toContain("CREATE TABLE notes (body TEXT);");
  expect(session.stdout).toContain("error: SQL_SYNTAX_ERROR");
  expect(session.stdout).not.toContain("not reached");
});

test("import runs a SQL dump in chunks with a progress bar", async () => {
  await dbforge(["db", "create", "cli-import"]);
  const file = join(stack.cp.dataDir, "dump.sql");
  const inserts = Array.from(
    { length: 1234 },
    (_, i) => `INSERT INTO items VALUES (${i}, 'item ${i}; with a semicolon');`,
  );
  writeFileSync(
    file,
    `PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n${inserts.join("\n")}\nCOMMIT;\n`,
  );
  const result = await dbforge(["import", "cli-import", file]);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("imported 1236 statements");
  expect(result.stderr).toContain("100% 1236/1236 statements");
  const count = await dbforge(["query", "cli-import", "SELECT count(*) AS n FROM items", "--json"]);
  expect(JSON.parse(count.stdout).rows).toEqual([[1234]]);

  writeFileSync(file, "INSERT INTO items VALUES (5000, 'ok');\nINSERT INTO nowhere VALUES (1);\n");
  const failed = await dbforge(["import", "cli-import", file, "--quiet"]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain("import stopped in statements 1-2");
  const after = await dbforge([
    "query",
    "cli-import",
    "SELECT count(*) FROM items WHERE id = 5000",
    "--json",
  ]);
  expect(JSON.parse(after.stdout).rows).toEqual([[0]]);
});

test("backups, restore to an instant and fork from the command line", async () => {
  await dbforge(["db", "create", "cli-bk"]);
  await dbforge(["query", "cli-bk", "CREATE TABLE t (v)"]);
  await dbforge(["query", "cli-bk", "INSERT INTO t VALUES ('before')"]);
  const made = await dbforge(["backups", "cli-bk", "create", "--json"]);
  expect(made.code, made.stderr).toBe(0);
  const backup = JSON.parse(made.stdout) as { id: string };
  const listed = await dbforge(["backups", "cli-bk"]);
  expect(listed.stdout).toContain(backup.id);
  expect(listed.stdout).toContain("current");
  expect(listed.stderr).toContain("restorable from");
  await new Promise((r) => setTimeout(r, 300));
  const between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 300));
  await dbforge(["query", "cli-bk", "INSERT INTO t VALUES ('after')"]);
  const restored = await dbforge(["restore", "cli-bk", "--time", between, "--as", "cli-bk-then"]);
  expect(restored.code, restored.stderr).toBe(0);
  expect(restored.stdout).toContain(`cli-bk-then restored to`);
  const then = await dbforge(["query", "cli-bk-then", "SELECT v FROM t", "--json"]);
  expect(JSON.parse(then.stdout).rows).toEqual([["before"]]);
  const forked = await dbforge(["fork", "cli-bk", "cli-bk-fork"]);
  expect(forked.code, forked.stderr).toBe(0);
  const fork = await dbforge(["query", "cli-bk-fork", "SELECT v FROM t ORDER BY rowid", "--json"]);
  expect(JSON.parse(fork.stdout).rows).toEqual([["before"], ["after"]]);
  const bad = await dbforge(["restore", "cli-bk", "--time", "2001-01-01T00:00:00Z"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("RESTORE_POINT_UNAVAILABLE");
});

test("import of a .db file creates the database from it, with a progress bar; a bad file creates nothing", async () => {
  const file = join(stack.cp.dataDir, "cli.db");
  execFileSync("sqlite3", [
    file,
    "CREATE TABLE items (id INTEGER PRIMARY KEY, v BLOB); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000) INSERT INTO items SELECT x, randomblob(500) FROM c;",
  ]);
  const size = statSync(file).size;
  const result = await dbforge(["import", "cli-db-file", file]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(`created cli-db-file from ${file}`);
  expect(result.stderr).toContain(`100% ${size}/${size} bytes`);
  const count = await dbforge(["query", "cli-db-file", "SELECT count(*) FROM items", "--json"]);
  expect(JSON.parse(count.stdout).rows).toEqual([[4000]]);

  truncateSync(file, size - 100);
  const bad = await dbforge(["import", "cli-db-bad", file, "--quiet"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("INVALID_DATABASE_FILE");
  const missing = await dbforge(["db", "show", "cli-db-bad"]);
  expect(missing.stderr).toContain("DATABASE_NOT_FOUND");
});

test("keys, usage and audit", async () => {
  const created = await dbforge([
    "keys",
    "create",
    "ci",
    "--role",
    "developer",
    "--databases",
    "cli-ops-*",
  ]);
  expect(created.code, created.stderr).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^dbfk_/);
  expect(created.stderr).toContain("developer key");
  const list = await dbforge(["keys", "list", "--json"]);
  const keys = JSON.parse(list.stdout) as Array<{ id: string; name: string; role: string }>;
  const mine = keys.find((k) => key.startsWith(`dbfk_${k.id}_`));
  expect(mine).toMatchObject({ name: "ci", role: "developer" });
  const badRole = await dbforge(["keys", "create", "x", "--role", "root"]);
  expect(badRole.code).toBe(1);
  expect(badRole.stderr).toContain("--role must be one of");

  expect((await dbforge(["db", "create", "cli-ops-a"])).code).toBe(0);
  // The key works as the CLI's token, within its scope.
  const asKey = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
        env: { PATH: process.env.PATH, DBFORGE_URL: stack.runtimes.node.url, DBFORGE_TOKEN: key },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => done({ code, stdout, stderr }));
    });
  const q = await asKey([
    "query",
    "cli-ops-a",
    "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)",
  ]);
  expect(q.code, q.stderr).toBe(0);
  const denied = await asKey(["db", "create", "cli-ops-b"]);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toContain("FORBIDDEN");

  const deadline = Date.now() + 10_000;
  let usage = { totals: { statements: 0, rowsWritten: 0 } };
  while (usage.totals.statements < 2 && Date.now() < deadline) {
    usage = JSON.parse((await dbforge(["usage", "cli-ops-a", "--json"])).stdout);
    if (usage.totals.statements < 2) await new Promise((r) => setTimeout(r, 250));
  }
  expect(usage.totals).toMatchObject({ statements: 2, rowsWritten: 2 });
  const table = await dbforge(["usage", "cli-ops-a"]);
  expect(table.stdout).toContain("2 statements");
  const all = await dbforge(["usage"]);
  expect(all.stdout).toMatch(/│ cli-ops-a\s+│ 2\s+│/);

  const audit = await dbforge(["audit", "--database", "cli-ops-b"]);
  expect(audit.code).toBe(0);
  expect(audit.stdout).toMatch(/database\.create.*cli-ops-b.*FORBIDDEN/);
  const revoked = await dbforge(["keys", "revoke", mine?.id ?? ""]);
  expect(revoked.code).toBe(0);
  expect((await asKey(["db", "list"])).stderr).toContain("UNAUTHORIZED");
});

test("export writes the SQL dump to stdout", async () => {
  await dbforge(["db", "create", "cli-export"]);
  await dbforge(["query", "cli-export", "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept')"]);
  const out = await dbforge(["export", "cli-export"]);
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout).toContain("CREATE TABLE t (v TEXT);");
  expect(out.stdout).toContain(`INSERT INTO "t"(rowid, "v") VALUES(1,'kept');`);
  const missing = await dbforge(["export", "no-such-db"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("DATABASE_NOT_FOUND");
});
