/**
 * Export and import round trip: a database with FTS5, R-tree, triggers, views, an index, a
 * WITHOUT ROWID table, AUTOINCREMENT, blobs, ±2^63−1, NULLs, unicode and a large
 * table is exported as SQL and imported into a new database; the export of both is
 * byte-identical, stock sqlite3 loads the dump, and bad dumps create nothing.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";
import { makeTempDir, removeDir } from "../../testkit/temp";

let stack: Stack;
const dir = makeTempDir("export");
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
  removeDir(dir);
});

const SCHEMA = [
  "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB)",
  "CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
  "CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
  "CREATE TABLE log (msg TEXT)",
  "CREATE INDEX t_s ON t (s)",
  "CREATE VIEW big_i AS SELECT id, i FROM t WHERE i > 1000",
  "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('inserted ' || new.id); END",
  "CREATE VIRTUAL TABLE docs USING fts5(title, body)",
  "CREATE VIRTUAL TABLE boxes USING rtree(id, minX, maxX, minY, maxY)",
  "CREATE TABLE big (id INTEGER PRIMARY KEY, payload BLOB)",
];

async function seed(url: string, token: string, bigRows: number): Promise<void> {
  const db = createClient({ url, authToken: token });
  for (const sql of SCHEMA) await db.execute(sql);
  const rows: Array<[bigint | number | null, number | null, string | null, Uint8Array | null]> = [
    [9223372036854775807n, 1.5, "plain", new Uint8Array([0, 1, 2, 255])],
    [-9223372036854775808n, -0.25, "unicode ✓ 𝄞 ñ 漢字", null],
    [0, 1e300, 'quote \' and "double"', new Uint8Array(0)],
    [null, null, null, null],
    [42, 3, "tab\tand\u0001control", new Uint8Array([7])],
    [2 ** 53 + 1, 0.1, "line\nbreak;semicolon", crypto.getRandomValues(new Uint8Array(64))],
  ];
  for (const [i, r, s, b] of rows) {
    await db.execute({ sql: "INSERT INTO t (i, r, s, b) VALUES (?, ?, ?, ?)", args: [i, r, s, b] });
  }
  await db.execute("INSERT INTO seq (v) VALUES ('a'), ('b'), ('c')");
  await db.execute("DELETE FROM seq WHERE v = 'c'");
  await db.execute("INSERT INTO kv VALUES ('x', 1), ('y', x'00ff'), ('z', NULL)");
  await db.execute(
    "INSERT INTO docs (rowid, title, body) VALUES (10, 'hello world', 'the quick brown fox'), (20, 'another', 'hello again')",
  );
  await db.execute("INSERT INTO boxes VALUES (1, 0, 10, 0, 5), (2, -3.5, 2.25, 1, 1)");
  for (let done = 0; done < bigRows; done += 5000) {
    await db.execute({
      sql: "WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?) INSERT INTO big SELECT x, randomblob(1000) FROM c",
      args: [done + 1, Math.min(done + 5000, bigRows)],
    });
  }
  db.close();
}

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  // The large table on the Node host only (Miniflare is the same code, ten times slower).
  const bigRows = runtimeName === "node" ? 50_000 : 500;

  test("export as SQL, import into a new database: the same dump, and sqlite3 loads it", async () => {
    const src = uniqueName("src");
    const dst = uniqueName("dst");
    expect((await rt().call("POST", "/admin/databases", { body: { name: src } })).status).toBe(201);
    await seed(`${rt().url}/db/${src}/`, stack.adminToken, bigRows);

    const exported = await fetch(`${rt().url}/api/db/${src}/export?format=sql`, {
      headers: { Authorization: `Bearer ${stack.adminToken}` },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-type")).toMatch(/^application\/sql/);
    const dump = await exported.text();
    expect(dump.length).toBeGreaterThan(bigRows * 2000);
    expect(dump).toContain("CREATE VIRTUAL TABLE docs USING fts5(title, body);");
    expect(dump).not.toMatch(/docs_(data|idx|content|docsize|config)/);
    expect(dump).not.toMatch(/boxes_(node|parent|rowid)/);
    expect(dump).toContain("9223372036854775807,");
    expect(dump).toContain("-9223372036854775808,");
    expect(dump.trimEnd().endsWith("COMMIT;")).toBe(true);

    const imported = await fetch(`${rt().url}/admin/databases/${dst}/import`, {
      method: "POST",
      headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/sql" },
      body: dump,
    });
    expect(imported.status, await imported.clone().text()).toBe(201);
    const again = await (
      await fetch(`${rt().url}/api/db/${dst}/export`, {
        headers: { Authorization: `Bearer ${stack.adminToken}` },
      })
    ).text();
    expect(again === dump, "the imported database exports the same dump").toBe(true);

    // The same through the file format: the source's SQLite file imported as a database.
    const file = await fetch(`${rt().url}/api/db/${src}/export?format=sqlite`, {
      headers: { Authorization: `Bearer ${stack.adminToken}` },
    });
    const fromFile = uniqueName("dst-file");
    const fileImport = await fetch(`${rt().url}/admin/databases/${fromFile}/import`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${stack.adminToken}`,
        "Content-Type": "application/vnd.sqlite3",
      },
      body: Buffer.from(await file.arrayBuffer()),
    });
    expect(fileImport.status, await fileImport.clone().text()).toBe(201);
    const viaFile = await (
      await fetch(`${rt().url}/api/db/${fromFile}/export`, {
        headers: { Authorization: `Bearer ${stack.adminToken}` },
      })
    ).text();
    expect(viaFile === dump, "the database imported from its file exports the same dump").toBe(
      true,
    );

    // It works as a database: full-text search, the R-tree, the trigger, exact values.
    const db = createClient({
      url: `${rt().url}/db/${dst}/`,
      authToken: stack.adminToken,
      intMode: "bigint",
    });
    expect(
      (await db.execute("SELECT rowid FROM docs WHERE docs MATCH 'hello' ORDER BY rowid")).rows.map(
        (r) => r[0],
      ),
    ).toEqual([10n, 20n]);
    expect(
      (await db.execute("SELECT id FROM boxes WHERE minX <= 1 AND maxX >= 1 ORDER BY id")).rows.map(
        (r) => r[0],
      ),
    ).toEqual([1n, 2n]);
    expect((await db.execute("SELECT i FROM t WHERE id = 1")).rows[0]?.[0]).toBe(
      9223372036854775807n,
    );
    expect((await db.execute("SELECT s FROM t WHERE id = 5")).rows[0]?.[0]).toBe(
      "tab\tand\u0001control",
    );
    await db.execute("INSERT INTO t (i) VALUES (7)");
    expect((await db.execute("SELECT count(*) FROM log")).rows[0]?.[0]).toBe(7n);
    await db.execute("INSERT INTO seq (v) VALUES ('d')");
    expect((await db.execute("SELECT max(id) FROM seq")).rows[0]?.[0]).toBe(4n);
    db.close();

    // Stock sqlite3 loads it too.
    if (runtimeName === "node") {
      const file = join(dir, "dump.sql");
      writeFileSync(file, dump);
      const out = execFileSync(
        "sqlite3",
        [":memory:", `.read ${file}`, "SELECT count(*) FROM big; PRAGMA integrity_check;"],
        {
          encoding: "utf8",
          maxBuffer: 1 << 20,
        },
      );
      expect(out.trim().split("\n")).toEqual([String(bigRows), "ok"]);
    }
  }, 240_000);

  test("bad dumps create nothing: a syntax error halfway, a wrong type, an existing name", async () => {
    const name = uniqueName("bad-import");
    const post = (target: string, body: string, type = "application/sql") =>
      fetch(`${rt().url}/admin/databases/${target}/import`, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": type },
        body,
      });
    const broken = `CREATE TABLE a (x);\n${"INSERT INTO a VALUES (1);\n".repeat(1200)}INSERT INTO a VALUES (;\nINSERT INTO a VALUES (2);\n`;
    const res = await post(name, broken);
    expect(res.status).toBe(400);
    const problem = (await problemOf(res)) as unknown as {
      code: string;
      detail: string;
      statementsApplied: number;
    };
    expect(problem.code).toBe("SQL_SYNTAX_ERROR");
    expect(problem.detail).toContain("nothing was created");
    expect((await rt().call("GET", `/admin/databases/${name}`)).status).toBe(404);

    const unclosed = await post(name, "CREATE TABLE a (x); INSERT INTO a VALUES ('never closed);");
    expect(unclosed.status).toBe(400);
    expect((await rt().call("GET", `/admin/databases/${name}`)).status).toBe(404);

    expect((await post(name, "CREATE TABLE a (x);", "text/plain")).status).toBe(415);

    // An existing database is never touched.
    const existing = uniqueName("existing");
    expect((await rt().call("POST", "/admin/databases", { body: { name: existing } })).status).toBe(
      201,
    );
    await rt().call("POST", `/api/db/${existing}/query`, {
      body: { sql: "CREATE TABLE keep (v)" },
    });
    const clash = await post(existing, "CREATE TABLE other (v);");
    expect(clash.status).toBe(409);
    const tables = (await (await rt().call("GET", `/api/db/${existing}/tables`)).json()) as {
      tables: Array<{ name: string }>;
    };
    expect(tables.tables.map((t) => t.name)).toEqual(["keep"]);

    // A read-only database token may export, not import.
    const token = (
      (await (
        await rt().call("POST", `/admin/databases/${existing}/tokens`, {
          body: { access: "read-only" },
        })
      ).json()) as { token: string }
    ).token;
    const readOnly = await fetch(`${rt().url}/api/db/${existing}/export`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(readOnly.status).toBe(200);
    expect(await readOnly.text()).toContain("CREATE TABLE keep (v);");
  });
});

test("export as a SQLite file: a consistent copy sqlite3 opens, taken while writes go on", async () => {
  const rt = stack.runtimes.node;
  const name = uniqueName("file-export");
  expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  await seed(`${rt.url}/db/${name}/`, stack.adminToken, 2000);
  // Writers go on while the copy is taken; the copy holds whole transactions only.
  const writer = createClient({ url: `${rt.url}/db/${name}/`, authToken: stack.adminToken });
  let writing = true;
  const writes = (async () => {
    while (writing)
      await writer.batch(["INSERT INTO log VALUES ('a')", "INSERT INTO log VALUES ('b')"], "write");
  })();
  const res = await fetch(`${rt.url}/api/db/${name}/export?format=sqlite`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  writing = false;
  await writes;
  writer.close();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/vnd.sqlite3");
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(bytes.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");
  const file = join(dir, `${name}.db`);
  writeFileSync(file, bytes);
  const out = execFileSync(
    "sqlite3",
    [
      file,
      "PRAGMA integrity_check; SELECT count(*) FROM big; SELECT count(*) % 2 FROM log WHERE msg IN ('a', 'b'); SELECT rowid FROM docs WHERE docs MATCH 'fox';",
    ],
    { encoding: "utf8" },
  );
  expect(out.trim().split("\n")).toEqual(["ok", "2000", "0", "10"]);
});
