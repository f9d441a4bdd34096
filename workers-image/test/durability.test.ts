/**
 * Acknowledged writes survive kill -9; SIGTERM drains in-flight work, rolls back open
 * transactions, checkpoints and exits 0.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import Database from "libsql-stable";
import { expect, test } from "vitest";
import { removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { startWorkerProcess } from "../../testkit/worker";

const dbFile = (dataDir: string) => join(dataDir, "data.sqld/dbs/default/data");

test("kill -9 loses no acknowledged write", async () => {
  const worker = await startWorkerProcess();
  try {
    const client = createClient({ url: worker.url });
    await client.execute("CREATE TABLE acked (id INTEGER PRIMARY KEY)");
    const acknowledged: number[] = [];
    // Writers keep going while the worker is killed; only what was acknowledged must survive.
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const id = w * 1_000_000 + i;
        try {
          await client.execute({ sql: "INSERT INTO acked VALUES (?)", args: [id] });
          acknowledged.push(id);
        } catch {
          return;
        }
      }
    });
    await sleep(400);
    await worker.kill();
    stop = true;
    await Promise.all(writers);
    client.close();
    expect(acknowledged.length).toBeGreaterThan(20);

    const restarted = await startWorkerProcess({ dataDir: worker.dataDir });
    try {
      const after = createClient({ url: restarted.url });
      const rs = await after.execute("SELECT id FROM acked");
      const stored = new Set(rs.rows.map((r) => Number(r.id)));
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      after.close();
    } finally {
      await restarted.stop();
    }
  } finally {
    removeDir(worker.dataDir);
  }
});

test("SIGTERM finishes in-flight requests, rolls back open transactions, checkpoints, exits 0", async () => {
  const worker = await startWorkerProcess();
  try {
    const client = createClient({ url: worker.url });
    await client.execute("CREATE TABLE t (v TEXT)");
    await client.execute("INSERT INTO t VALUES ('committed')");
    const open = await client.transaction("write");
    await open.execute("INSERT INTO t VALUES ('uncommitted')");

    // A slow statement is running when the signal arrives.
    const slow = client.execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) AS n FROM c",
    );
    await sleep(50);
    const exitCode = worker.stop();
    const result = await slow;
    expect(result.rows[0]?.n).toBe(3000000);
    expect(await exitCode).toBe(0);
    client.close();

    // Everything is in the database file itself: the WAL was checkpointed and truncated.
    const walSize = (() => {
      try {
        return statSync(`${dbFile(worker.dataDir)}-wal`).size;
      } catch {
        return 0;
      }
    })();
    expect(walSize).toBe(0);
    const db = new Database(dbFile(worker.dataDir), {});
    expect(db.prepare("SELECT v FROM t").all()).toEqual([{ v: "committed" }]);
    db.close();
  } finally {
    removeDir(worker.dataDir);
  }
});

test("a stopping worker reports unhealthy and refuses new streams, then restarts cleanly", async () => {
  const worker = await startWorkerProcess({ env: { DBFORGE_SHUTDOWN_GRACE_MS: "3000" } });
  try {
    const client = createClient({ url: worker.url });
    await client.execute("CREATE TABLE t (v INTEGER)");
    const slow = client.execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) SELECT count(*) FROM c",
    );
    await sleep(30);
    const stopped = worker.stop();
    await slow;
    expect(await stopped).toBe(0);
    await expect(fetch(`${worker.url}/health`)).rejects.toThrow();
    client.close();

    const again = await startWorkerProcess({ dataDir: worker.dataDir });
    const c2 = createClient({ url: again.url });
    await c2.execute("INSERT INTO t VALUES (1)");
    c2.close();
    expect(await again.stop()).toBe(0);
  } finally {
    removeDir(worker.dataDir);
  }
});

test("SQLD_IDLE_SHUTDOWN_TIMEOUT_S: exits 0 once idle, not while a WebSocket client is connected", async () => {
  const worker = await startWorkerProcess({ env: { SQLD_IDLE_SHUTDOWN_TIMEOUT_S: "0.6" } });
  try {
    const exited = new Promise<number | null>((resolve) => worker.process.once("exit", resolve));
    const ws = createClient({ url: worker.wsUrl });
    await ws.execute("CREATE TABLE t (v INTEGER)");
    await sleep(1500);
    expect(worker.process.exitCode).toBeNull();
    await ws.execute("INSERT INTO t VALUES (1)");
    ws.close();
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(worker.output.some((line) => line.includes('"idle shutdown"'))).toBe(true);

    const again = await startWorkerProcess({ dataDir: worker.dataDir });
    const http = createClient({ url: again.url });
    expect((await http.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(1);
    http.close();
    await again.stop();
  } finally {
    removeDir(worker.dataDir);
  }
});

test("idle time counts from the end of the last request: a statement longer than the idle timeout is not followed by an immediate stop", async () => {
  const worker = await startWorkerProcess({ env: { SQLD_IDLE_SHUTDOWN_TIMEOUT_S: "1" } });
  const http = createClient({ url: worker.url });
  try {
    const exited = new Promise<number | null>((resolve) => worker.process.once("exit", resolve));
    // One statement longer than the idle timeout (grown until it is: machines differ), during
    // which the worker's idle timer cannot run.
    const count = (n: number) =>
      `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${n}) SELECT max(x) FROM c`;
    let rows = 500_000;
    let took = 0;
    for (let attempt = 0; attempt < 6 && took <= 1200; attempt++) {
      const started = Date.now();
      await http.execute(count(rows));
      took = Date.now() - started;
      rows = Math.round(rows * Math.min(8, 1800 / Math.max(took, 1)));
    }
    const answered = Date.now();
    expect(took).toBeGreaterThan(1200);
    await sleep(500);
    expect(worker.process.exitCode, "stopped right after its answer").toBeNull();
    // It does stop once idle for the timeout after that answer.
    expect(await exited).toBe(0);
    expect(Date.now() - answered).toBeGreaterThanOrEqual(1000);
  } finally {
    http.close();
    removeDir(worker.dataDir);
  }
});
