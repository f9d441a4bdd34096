/**
 * Clients that never close their streams (tursodb's clients send no `close`) or that open
 * transactions and walk away cannot exhaust a worker: open streams and SQLite connections are
 * bounded, the oldest unused stream expires (its baton answers STREAM_EXPIRED), and a new
 * transaction past the connection cap gets a clear SQLITE_BUSY, never a 500.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

const MAX_STREAMS = 64;
const MAX_CONNECTIONS = 6;

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess({
    env: {
      DBFORGE_MAX_STREAMS: String(MAX_STREAMS),
      DBFORGE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
  });
  await pipeline([exec("CREATE TABLE t (x INTEGER)"), { type: "close" }]);
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

const exec = (sql: string) => ({ type: "execute", stmt: { sql } });
/** One statement text with an argument: unique SQL texts would measure statement garbage instead. */
const select = (n: number) => ({
  type: "execute",
  stmt: { sql: "SELECT ?", args: [{ type: "integer", value: String(n) }] },
});

async function pipeline(requests: unknown[], baton?: string): Promise<any> {
  const res = await fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    body: JSON.stringify({ baton, requests }),
  });
  return { status: res.status, body: await res.json() };
}

const rssMb = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker.process.pid}/status`, "utf8"))?.[1]) /
  1024;

test("streams that are never closed stay bounded; the oldest expire", async () => {
  const before = rssMb();
  let early = "";
  for (let round = 0; round < 40; round++) {
    const batch = await Promise.all(
      Array.from({ length: 100 }, (_, i) => pipeline([select(round * 100 + i)])),
    );
    for (const { status, body } of batch) {
      expect(status).toBe(200);
      expect(body.results[0].type).toBe("ok");
    }
    if (round === 35) early = batch[0]?.body.baton;
  }
  // 4,000 streams later the worker has grown by little, and a baton of 500 streams ago has
  // expired (its tombstone says so; much older ones are forgotten: an invalid baton).
  expect(rssMb() - before).toBeLessThan(40);
  const stale = await pipeline([exec("SELECT 1")], early);
  expect(stale.status).toBe(400);
  expect(stale.body.code).toBe("STREAM_EXPIRED");
  // A recent stream still works.
  const recent = await pipeline([exec("SELECT 2")]);
  const next = await pipeline([exec("SELECT 3"), { type: "close" }], recent.body.baton);
  expect(next.body.results[0].type).toBe("ok");
});

test("open transactions are capped with a clear error; closing one makes room", async () => {
  const held: string[] = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) {
    const { status, body } = await pipeline([exec("BEGIN"), exec("SELECT count(*) FROM t")]);
    expect(status).toBe(200);
    expect(body.results[1].type, JSON.stringify(body)).toBe("ok");
    held.push(body.baton);
  }
  const refused = await pipeline([exec("BEGIN"), exec("SELECT 1"), { type: "close" }]);
  expect(refused.status).toBe(200);
  const error = refused.body.results.find((r: { type: string }) => r.type === "error")?.error;
  expect(error?.code).toBe("SQLITE_BUSY");
  expect(error?.message).toMatch(/too many open transactions on this database \(6\)/);
  // Transactions held open do not expire early to make room: they are someone's work.
  for (let i = 0; i < 200; i++) await pipeline([exec("SELECT 1")]);
  const still = await pipeline([exec("SELECT 1")], held[0]);
  expect(still.body.results[0].type).toBe("ok");
  // Closing one frees its connection.
  await pipeline([exec("ROLLBACK"), { type: "close" }], still.body.baton);
  const admitted = await pipeline([
    exec("BEGIN"),
    exec("SELECT 1"),
    exec("ROLLBACK"),
    { type: "close" },
  ]);
  expect(admitted.body.results.every((r: { type: string }) => r.type === "ok")).toBe(true);
  for (const baton of held.slice(1)) await pipeline([{ type: "close" }], baton);
});
