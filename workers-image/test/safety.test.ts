/**
 * A worker touches only its own file, bounds runaway queries and oversized responses, and keeps
 * serving afterwards. Runaway statements end differently on the two engines (README "Supported
 * platforms"): the pre-release interrupts them with SQLITE_INTERRUPT; on the stable engine, which
 * cannot interrupt a statement, a watchdog ends the worker and it is started again.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { testEngine } from "../../testkit/engine";
import { codeOf, libsqlErrorOf } from "../../testkit/libsql";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

const QUERY_TIMEOUT_MS = 700;
const interrupts = testEngine().interruptsQueries;

let worker: WorkerProcess;
let client: Client;
const dataDir = makeTempDir("safety");

/** (Re)starts the worker on the test's data directory. */
async function startWorker(): Promise<void> {
  worker = await startWorkerProcess({
    dataDir,
    env: {
      DBFORGE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      SQLD_MAX_RESPONSE_SIZE: "200KB",
      DBFORGE_MAX_BODY_BYTES: "1MB",
    },
  });
  client = createClient({ url: worker.url });
}

beforeAll(async () => {
  await startWorker();
  await client.execute("CREATE TABLE t (v TEXT)");
  await client.execute("INSERT INTO t VALUES ('still here')");
});
afterAll(async () => {
  client.close();
  await worker.stop();
  removeDir(dataDir);
});

const outside = () => join(worker.dataDir, "outside.db");

test("ATTACH is refused with a clear error and creates no file", async () => {
  const err = await libsqlErrorOf(client.execute(`ATTACH '${outside()}' AS other`));
  expect(err.code).toBe("SQLITE_AUTH");
  expect(err.message).toMatch(/ATTACH is disabled/);
  expect(await codeOf(client.execute("ATTACH ':memory:' AS m"))).toBe("SQLITE_AUTH");
  expect(existsSync(outside())).toBe(false);
});

test("VACUUM INTO is refused, plain VACUUM works", async () => {
  const err = await libsqlErrorOf(client.execute(`VACUUM INTO '${outside()}'`));
  expect(err.code).toBe("SQLITE_AUTH");
  expect(err.message).toMatch(/VACUUM INTO is disabled/);
  expect(existsSync(outside())).toBe(false);
  await client.execute("VACUUM");
});

test("load_extension is refused", async () => {
  const code = await codeOf(
    client.execute("SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')"),
  );
  expect(code).toBe("SQLITE_AUTH");
  await expect(client.execute("SELECT load_extension('x')")).rejects.toThrow(
    /not authorized to use function: load_extension \(loads native code/,
  );
});

test("server-managed pragmas are refused", async () => {
  for (const pragma of ["locking_mode = EXCLUSIVE", "writable_schema = ON", "query_only = 1"]) {
    expect(await codeOf(client.execute(`PRAGMA ${pragma}`))).toBe("SQLITE_AUTH");
  }
});

test("only the worker's own files exist in its data directory", () => {
  expect(readdirSync(join(worker.dataDir, "data.sqld/dbs/default")).sort()).toEqual([
    "data",
    "data-shm",
    "data-wal",
  ]);
});

const RUNAWAY_COUNT =
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
const RUNAWAY_INSERT =
  "INSERT INTO sink WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";

test.runIf(interrupts)(
  "a runaway query times out and the database serves the next request",
  async () => {
    const started = Date.now();
    const err = await libsqlErrorOf(client.execute(RUNAWAY_COUNT));
    const elapsed = Date.now() - started;
    expect(err.code).toBe("SQLITE_INTERRUPT");
    expect(err.message).toMatch(/query timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(QUERY_TIMEOUT_MS + 3000);
    const rs = await client.execute("SELECT v FROM t");
    expect(rs.rows[0]?.v).toBe("still here");
  },
);

test.runIf(interrupts)(
  "a runaway write times out, leaves nothing behind and releases the write lock",
  async () => {
    await client.execute("CREATE TABLE sink (x INTEGER)");
    const code = await codeOf(client.execute(RUNAWAY_INSERT));
    expect(code).toBe("SQLITE_INTERRUPT");
    expect((await client.execute("SELECT count(*) AS n FROM sink")).rows[0]?.n).toBe(0);
    await client.execute("INSERT INTO sink VALUES (1)");
  },
);

/**
 * The stable engine, on purpose different: the statement cannot be interrupted, so the watchdog
 * ends the worker just past the timeout (the client sees its connection close, and every open
 * transaction of the database is rolled back); started again, it has every acknowledged write
 * and nothing of the runaway one.
 */
test.runIf(!interrupts)(
  "a runaway statement ends the worker just past the timeout; restarted, nothing is lost",
  async () => {
    await client.execute("CREATE TABLE sink (x INTEGER)");
    await client.execute("INSERT INTO sink VALUES (1)");
    for (const sql of [RUNAWAY_COUNT, RUNAWAY_INSERT]) {
      const exited = new Promise<string | null>((done) =>
        worker.process.once("exit", (_code, signal) => done(signal)),
      );
      const started = Date.now();
      const failure = await client.execute(sql).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(failure, sql).toBeInstanceOf(Error);
      expect(elapsed).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(QUERY_TIMEOUT_MS + 3000);
      expect(await exited).toBe("SIGKILL");
      expect(worker.output.join("\n")).toMatch(/query timeout: a statement ran past its deadline/);
      client.close();
      await startWorker();
      expect((await client.execute("SELECT v FROM t")).rows[0]?.v).toBe("still here");
      expect((await client.execute("SELECT count(*) AS n FROM sink")).rows[0]?.n).toBe(1);
    }
    // The write lock is free again.
    await client.execute("INSERT INTO sink VALUES (2)");
  },
);

test("responses over SQLD_MAX_RESPONSE_SIZE fail with RESPONSE_TOO_LARGE", async () => {
  const code = await codeOf(
    client.execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000) SELECT x, randomblob(100) FROM c",
    ),
  );
  expect(code).toBe("RESPONSE_TOO_LARGE");
  // Under the limit is fine.
  const rs = await client.execute(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) SELECT x FROM c",
  );
  expect(rs.rows).toHaveLength(100);
});

test("a write whose RETURNING rows are too large is rolled back and frees the write lock", async () => {
  await client.execute("CREATE TABLE returned (x INTEGER, pad BLOB)");
  const other = createClient({ url: worker.url });
  try {
    const code = await codeOf(
      client.execute(
        "INSERT INTO returned SELECT value, randomblob(100) FROM generate_series(1, 5000) RETURNING *",
      ),
    );
    expect(code).toBe("RESPONSE_TOO_LARGE");
    // Another client writes at once (no SQLITE_BUSY after the lock wait), and sees nothing of
    // the failed insert.
    const started = Date.now();
    await other.execute("INSERT INTO returned VALUES (-1, NULL)");
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await other.execute("SELECT count(*) AS n FROM returned")).rows[0]?.n).toBe(1);
  } finally {
    other.close();
  }
});

test("request bodies over the limit get 413, and the worker stays up", async () => {
  const big = "x".repeat(1_100_000);
  const res = await fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: `SELECT '${big}'` } }] }),
  });
  expect(res.status).toBe(413);
  expect((await fetch(`${worker.url}/health`)).status).toBe(200);
});
