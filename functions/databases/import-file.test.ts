/**
 * Importing a SQLite file (application/vnd.sqlite3): a good file becomes a database in WAL
 * mode that exports the same dump as its source; a truncated file, a file that is not SQLite,
 * a corrupt one and one over the quota are each refused with a clear 4xx, nothing is created,
 * and no upload is left on disk.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";
import { makeTempDir, removeDir } from "../../testkit/temp";

let stack: Stack;
const dir = makeTempDir("import-file");
let good: Buffer;
beforeAll(async () => {
  stack = await startStack();
  // A file made by stock sqlite3, in rollback-journal mode as files people upload usually are.
  const file = join(dir, "good.db");
  execFileSync("sqlite3", [
    file,
    [
      "PRAGMA page_size = 4096",
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)",
      "CREATE INDEX t_v ON t (v)",
      "CREATE VIRTUAL TABLE docs USING fts5(body)",
      "INSERT INTO docs VALUES ('hello world'), ('goodbye')",
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) INSERT INTO t SELECT x, 'row ' || x, randomblob(200) FROM c",
      "INSERT INTO t VALUES (9223372036854775807, 'max', x'00ff')",
    ].join(";"),
  ]);
  good = readFileSync(file);
});
afterAll(async () => {
  await stack.close();
  removeDir(dir);
});

const uploadsLeft = () => {
  const uploads = join(stack.cp.dataDir, ".control-plane", "uploads");
  return existsSync(uploads) ? readdirSync(uploads) : [];
};

test("a file whose schema reaches for host files imports, and its views still cannot read them", async () => {
  const file = join(dir, "hostile.db");
  execFileSync("sqlite3", [
    file,
    [
      "CREATE TABLE t (v)",
      "CREATE VIEW leak AS SELECT readfile('/etc/passwd') AS secret",
      "CREATE TRIGGER t_leak AFTER INSERT ON t BEGIN SELECT writefile('/tmp/dbforge-pwned', 'x'); END",
    ].join(";"),
  ]);
  const rt = stack.runtimes.node;
  const name = uniqueName("hostile");
  expect((await post(rt.url, name, readFileSync(file))).status).toBe(201);
  const read = await rt.call("POST", `/api/db/${name}/query`, {
    body: { sql: "SELECT * FROM leak" },
  });
  const refusal = await read.text();
  expect([400, 403], refusal).toContain(read.status);
  expect(refusal).toMatch(/not authorized|readfile/);
  expect(refusal).not.toContain("root:");
  const write = await rt.call("POST", `/api/db/${name}/query`, {
    body: { sql: "INSERT INTO t VALUES (1)" },
  });
  expect([400, 403]).toContain(write.status);
  expect(existsSync("/tmp/dbforge-pwned")).toBe(false);
});

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  const post = (name: string, body: Uint8Array | string, query = "") =>
    fetch(`${rt().url}/admin/databases/${name}/import${query}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${stack.adminToken}`,
        "Content-Type": "application/vnd.sqlite3",
      },
      body,
    });

  test("a SQLite file becomes a database in WAL mode with every row, index and FTS table", async () => {
    const name = uniqueName("from-file");
    const res = await post(name, good);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe(name);
    const db = createClient({
      url: `${rt().url}/db/${name}/`,
      authToken: stack.adminToken,
      intMode: "bigint",
    });
    expect((await db.execute("PRAGMA journal_mode")).rows[0]?.[0]).toBe("wal");
    expect((await db.execute("SELECT count(*) FROM t")).rows[0]?.[0]).toBe(3001n);
    expect((await db.execute("SELECT id FROM t WHERE v = 'max'")).rows[0]?.[0]).toBe(
      9223372036854775807n,
    );
    expect((await db.execute("SELECT rowid FROM docs WHERE docs MATCH 'hello'")).rows).toHaveLength(
      1,
    );
    await db.execute("INSERT INTO t (v) VALUES ('written after import')");
    expect((await db.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
    db.close();
    // The import is in the audit log under its own action.
    const audit = (await (await rt().call("GET", `/admin/audit?database=${name}`)).json()) as {
      entries: Array<{ action: string; outcome: string }>;
    };
    expect(audit.entries.map((e) => [e.action, e.outcome])).toContainEqual([
      "database.import",
      "ok",
    ]);
    expect(uploadsLeft()).toEqual([]);
  });

  test("bad files are refused with a clear 4xx and create nothing", async () => {
    const corrupt = Buffer.from(good);
    // Scribble over the middle of a b-tree page: the header stays valid, integrity_check fails.
    corrupt.fill(0xa5, 4096 * 5 + 8, 4096 * 5 + 1200);
    const cases: Array<[string, Uint8Array | string, string, number, string]> = [
      ["truncated", good.subarray(0, good.length - 1000), "", 400, "truncated"],
      ["cut at a page", good.subarray(0, 4096 * 10), "", 400, "truncated"],
      ["not sqlite", "PK\u0003\u0004 this is a zip, honestly".repeat(100), "", 400, "header"],
      ["empty", "", "", 400, "header"],
      ["corrupt", corrupt, "", 400, "integrity_check"],
      ["over quota", good, `?quotaBytes=${64 * 1024}`, 413, "quota"],
    ];
    for (const [label, body, query, status, words] of cases) {
      const name = uniqueName("bad-file");
      const res = await post(name, body, query);
      expect(res.status, label).toBe(status);
      const problem = await problemOf(res);
      expect(problem.code, label).toBe(
        status === 413 ? "PAYLOAD_TOO_LARGE" : "INVALID_DATABASE_FILE",
      );
      expect(problem.detail, label).toContain(words);
      expect((await rt().call("GET", `/admin/databases/${name}`)).status, label).toBe(404);
      expect(existsSync(join(stack.cp.dataDir, name)), label).toBe(false);
    }
    expect(uploadsLeft()).toEqual([]);

    // An existing database is never touched, and its name is refused before any upload.
    const existing = uniqueName("kept");
    expect((await rt().call("POST", "/admin/databases", { body: { name: existing } })).status).toBe(
      201,
    );
    await rt().call("POST", `/api/db/${existing}/query`, {
      body: { sql: "CREATE TABLE keep (v)" },
    });
    expect((await post(existing, good)).status).toBe(409);
    const tables = (await (await rt().call("GET", `/api/db/${existing}/tables`)).json()) as {
      tables: Array<{ name: string }>;
    };
    expect(tables.tables.map((t) => t.name)).toEqual(["keep"]);

    // Authentication before anything: no token, a bad token, a read-only database token.
    const anonymous = await fetch(`${rt().url}/admin/databases/${uniqueName("anon")}/import`, {
      method: "POST",
      headers: { "Content-Type": "application/vnd.sqlite3" },
      body: good,
    });
    expect(anonymous.status).toBe(401);
  });
});

test("the exported SQLite file of a database imports as the same database", async () => {
  const rt = stack.runtimes.node;
  const source = uniqueName("file-src");
  expect((await post(rt.url, source, good)).status).toBe(201);
  const file = await fetch(`${rt.url}/api/db/${source}/export?format=sqlite`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  const copy = uniqueName("file-copy");
  expect((await post(rt.url, copy, Buffer.from(await file.arrayBuffer()))).status).toBe(201);
  const dump = async (name: string) =>
    (
      await fetch(`${rt.url}/api/db/${name}/export?format=sql`, {
        headers: { Authorization: `Bearer ${stack.adminToken}` },
      })
    ).text();
  const [a, b] = [await dump(source), await dump(copy)];
  expect(a.length).toBeGreaterThan(600_000);
  expect(a === b, "both dumps are byte-identical").toBe(true);
});

function post(base: string, name: string, body: Uint8Array): Promise<Response> {
  return fetch(`${base}/admin/databases/${name}/import`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${stack.adminToken}`,
      "Content-Type": "application/vnd.sqlite3",
    },
    body,
  });
}
