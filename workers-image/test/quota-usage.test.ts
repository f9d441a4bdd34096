/**
 * The worker's share of operations, on both engines: DBFORGE_MAX_DB_BYTES caps the database
 * file (SQLITE_FULL naming the quota, nothing of the refused statement kept, deletes and VACUUM
 * still work), and the usage counters it writes to its data directory equal the work done,
 * including what it served right before a graceful stop.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, expect, test } from "vitest";
import { USAGE_FILE } from "../../core/usage-file";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess | undefined;
afterEach(async () => {
  await worker?.stop();
  if (worker) removeDir(worker.dataDir);
  worker = undefined;
});

test("past DBFORGE_MAX_DB_BYTES writes fail with SQLITE_FULL naming the quota; deletes and VACUUM work", async () => {
  worker = await startWorkerProcess({ env: { DBFORGE_MAX_DB_BYTES: "256KiB" } });
  const client = createClient({ url: worker.url });
  await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  let rows = 0;
  let failure: { code?: string; message: string } | undefined;
  while (!failure && rows < 200) {
    try {
      await client.execute("INSERT INTO t (b) VALUES (randomblob(8000))");
      rows++;
    } catch (err) {
      failure = err as { code?: string; message: string };
    }
  }
  expect(failure?.code).toBe("SQLITE_FULL");
  expect(failure?.message).toMatch(/database quota of 262144 bytes/);
  expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(rows);
  // A batch that would cross the quota is rolled back whole.
  await expect(
    client.batch(
      ["INSERT INTO t (b) VALUES (x'00')", "INSERT INTO t (b) VALUES (randomblob(200000))"],
      "write",
    ),
  ).rejects.toMatchObject({ code: "SQLITE_FULL" });
  expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(rows);
  await client.execute("DELETE FROM t");
  await client.execute("VACUUM");
  await client.execute("INSERT INTO t (b) VALUES (randomblob(8000))");
  client.close();
});

test("usage counters equal the work done and are written at shutdown", async () => {
  worker = await startWorkerProcess({ env: { DBFORGE_USAGE_FLUSH_MS: "60000" } });
  const client = createClient({ url: worker.url });
  await client.execute("CREATE TABLE t (x)");
  await client.batch(
    [
      { sql: "INSERT INTO t VALUES (?), (?), (?)", args: [1, 2, 3] },
      "UPDATE t SET x = x + 1 WHERE x > 1",
    ],
    "write",
  );
  await client.execute("SELECT * FROM t");
  await client.execute("SELECT * FROM t WHERE x = 99");
  await client.execute("SELECT * FROM missing").catch(() => undefined);
  await client.executeMultiple("INSERT INTO t VALUES (10); INSERT INTO t VALUES (11)");
  client.close();
  const dataDir = worker.dataDir;
  await worker.stop();
  const usage = JSON.parse(readFileSync(join(dataDir, "data.sqld", USAGE_FILE), "utf8"));
  // The batch client.batch sends adds BEGIN and COMMIT (2 statements, no rows).
  expect(usage).toMatchObject({
    statements: 1 + 4 + 1 + 1 + 1 + 2,
    rowsRead: 3,
    rowsWritten: 3 + 2 + 2,
    errors: 1,
  });
  expect(typeof usage.boot).toBe("string");
});
