/**
 * A worker's memory is capped: SQLite's share of DBFORGE_MEMORY_LIMIT is a hard heap limit and
 * the JavaScript heap is capped by NODE_OPTIONS (what the drivers pass). A statement that wants
 * more fails cleanly, the process stays under the cap, and the next query works.
 */
import { readFileSync } from "node:fs";
import { type Client, createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { libsqlErrorOf } from "../../testkit/libsql";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

const CAP_MB = 256;
const STABLE = process.env.DBFORGE_ENGINE === "stable";

let worker: WorkerProcess;
let client: Client;
beforeAll(async () => {
  worker = await startWorkerProcess({
    env: {
      DBFORGE_MEMORY_LIMIT: `${CAP_MB}MiB`,
      NODE_OPTIONS: `--max-old-space-size=${Math.round(CAP_MB * 0.35)}`,
      DBFORGE_QUERY_TIMEOUT_MS: "20000",
    },
  });
  client = createClient({ url: worker.url });
});
afterAll(async () => {
  client.close();
  await worker.stop();
  removeDir(worker.dataDir);
});

/** The worker's resident set, from /proc (Linux). */
function rssMb(): number {
  const status = readFileSync(`/proc/${worker.process.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

test.each([
  ["SELECT randomblob(1e9)", /SQLITE_NOMEM|SQLITE_TOOBIG/],
  ["SELECT length(randomblob(1e9))", /SQLITE_NOMEM|SQLITE_TOOBIG/],
  ["SELECT zeroblob(2e9)", /SQLITE_TOOBIG/],
  ["SELECT zeroblob(9e8)", /SQLITE_NOMEM|RESPONSE_TOO_LARGE/],
  [
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT length(group_concat(printf('%0100d', x))) FROM c",
    /SQLITE_NOMEM|SQLITE_TOOBIG/,
  ],
  ["SELECT randomblob(6e7)", /RESPONSE_TOO_LARGE/],
])("%s fails cleanly under the cap", async (sql, code) => {
  const err = await libsqlErrorOf(client.execute(sql), sql);
  expect(err.code).toMatch(code);
  expect(rssMb()).toBeLessThan(CAP_MB);
  const rs = await client.execute("SELECT 1 AS one");
  expect(rs.rows[0]?.one).toBe(1);
  expect(worker.process.exitCode).toBeNull();
});

test("a thousand different large statements (values inlined, as bulk INSERTs send them) do not fill the heap", async () => {
  // 1,000 texts of 120 KB: 120 MB, more than the 90 MB JavaScript heap. The statement caches
  // once kept every one of them, and the worker ran out of heap and crashed.
  const filler = "x".repeat(120 * 1024);
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < 1000) {
        const i = next++;
        try {
          const rs = await client.execute(`SELECT ${i} AS i, length('${filler}') AS n`);
          expect(rs.rows[0]?.i).toBe(i);
        } catch (err) {
          // The stable binding cannot finalize a statement: SQLite's memory of the ones dropped
          // stays until JavaScript's collector frees them, and meanwhile SQLite's own limit
          // may refuse a statement. That is a clean error, never the end of the worker.
          if (!STABLE) throw err;
          expect((err as { code?: string }).code).toBe("SQLITE_NOMEM");
          refused++;
        }
      }
    }),
  );
  expect(worker.process.exitCode).toBeNull();
  expect(rssMb()).toBeLessThan(CAP_MB);
  expect((await client.execute("SELECT 1 AS one")).rows[0]?.one).toBe(1);
  console.log(`${refused} of 1,000 refused with SQLITE_NOMEM`);
}, 120_000);
