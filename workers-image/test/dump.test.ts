/**
 * sqld's GET /dump on both engines: a consistent SQL dump that stock sqlite3 loads, with
 * virtual tables as CREATE VIRTUAL TABLE and their rows (no shadow tables), exact values, and
 * authentication like every other route.
 */
import { execFileSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { createClient } from "@libsql/client";
import { request } from "undici";
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { startWorkerProcess, testKeys, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess;
const keys = testKeys();
beforeAll(async () => {
  worker = await startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: keys.publicPem } });
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

test("GET /dump: a dump sqlite3 loads, virtual tables by their rows, values exact", async () => {
  const token = keys.token({ a: "ro" });
  const full = keys.token({ a: "rw" });
  const db = createClient({ url: worker.url, authToken: full });
  await db.batch(
    [
      "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, b BLOB, s TEXT)",
      "INSERT INTO t (i, r, b, s) VALUES (9223372036854775807, 0.1, x'00ff10', 'it''s ✓')",
      "INSERT INTO t (i, r, b, s) VALUES (-9223372036854775808, 1e-300, NULL, NULL)",
      "CREATE VIRTUAL TABLE f USING fts5(body)",
      "INSERT INTO f (rowid, body) VALUES (7, 'hello dump')",
      "CREATE VIRTUAL TABLE rt USING rtree(id, x0, x1)",
      "INSERT INTO rt VALUES (3, 1.5, 2.5)",
      "CREATE VIEW v AS SELECT i FROM t",
    ],
    "write",
  );
  db.close();
  expect((await fetch(`${worker.url}/dump`)).status).toBe(401);
  const res = await fetch(`${worker.url}/dump`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const dump = await res.text();
  expect(dump).toContain(
    'INSERT INTO "t"(rowid, "id", "i", "r", "b", "s") VALUES(1,1,9223372036854775807,0.1,X\'00ff10\',\'it\'\'s ✓\');',
  );
  expect(dump).toContain('INSERT INTO "f"(rowid, "body") VALUES(7,\'hello dump\');');
  expect(dump).toContain('INSERT INTO "rt"("id", "x0", "x1") VALUES(3,1.5,2.5);');
  expect(dump).not.toMatch(/f_data|f_idx|rt_node/);
  const file = join(worker.dataDir, "dump.sql");
  writeFileSync(file, dump);
  const out = execFileSync(
    "sqlite3",
    [
      ":memory:",
      `.read ${file}`,
      "SELECT i, typeof(r) FROM t ORDER BY id; SELECT rowid FROM f WHERE f MATCH 'dump'; SELECT count(*) FROM v;",
    ],
    { encoding: "utf8" },
  );
  expect(out.trim().split("\n")).toEqual([
    "9223372036854775807|real",
    "-9223372036854775808|real",
    "7",
    "2",
  ]);
});

test("GET /dbforge/v1/snapshot: a consistent copy of the file, removed after it is sent", async () => {
  expect((await fetch(`${worker.url}/dbforge/v1/snapshot`)).status).toBe(401);
  const res = await fetch(`${worker.url}/dbforge/v1/snapshot`, {
    headers: { Authorization: `Bearer ${keys.token({ a: "ro" })}` },
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(Number(res.headers.get("content-length"))).toBe(bytes.length);
  const file = join(worker.dataDir, "copy.db");
  writeFileSync(file, bytes);
  const out = execFileSync("sqlite3", [file, "PRAGMA integrity_check; SELECT count(*) FROM t;"], {
    encoding: "utf8",
  });
  expect(out.trim().split("\n")).toEqual(["ok", "2"]);
  // Removed once sent: the client can have every byte a moment before the server is done.
  const left = () =>
    readdirSync(join(worker.dataDir, "data.sqld", "dbs", "default")).filter((f) =>
      f.startsWith("snapshot-"),
    );
  await expect.poll(left, { timeout: 5000, interval: 50 }).toEqual([]);
});

/** A database file whose table `big` (~16 MB) has a garbage leaf page about 60 % of the way. */
function corruptDatabase(dir: string): void {
  const file = join(dir, "data.sqld", "dbs", "default", "data");
  mkdirSync(dirname(file), { recursive: true });
  execFileSync("sqlite3", [
    file,
    "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000) INSERT INTO big (v) SELECT hex(randomblob(1000)) FROM c;",
  ]);
  const pages = statSync(file).size / 4096;
  const fd = openSync(file, "r+");
  writeSync(fd, Buffer.alloc(4096, 0xff), 0, 4096, Math.floor(pages * 0.6) * 4096);
  closeSync(fd);
}

test.each([
  ["plain", undefined],
  ["gzip", "gzip"],
])("a dump that fails midway is cut off (%s), never ended as if whole", async (_, encoding) => {
  const dir = makeTempDir("dump-corrupt");
  corruptDatabase(dir);
  const corrupt = await startWorkerProcess({ dataDir: dir });
  try {
    const res = await request(`${corrupt.url}/dump`, {
      headers: encoding ? { "accept-encoding": encoding } : {},
    });
    expect(res.statusCode).toBe(200);
    let received = 0;
    const read = (async () => {
      for await (const chunk of res.body) received += chunk.length;
    })();
    await expect(read).rejects.toThrow();
    // Megabytes went out before the bad page was reached: a complete-looking prefix.
    expect(received).toBeGreaterThan(encoding ? 100_000 : 4_000_000);
    expect(corrupt.output.join("\n")).toContain("dump failed midway");
    expect((await request(`${corrupt.url}/health`)).statusCode).toBe(200);
  } finally {
    await corrupt.stop();
    removeDir(dir);
  }
});
