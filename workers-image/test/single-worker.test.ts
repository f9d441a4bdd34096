/**
 * Exactly one worker per database, enforced by the worker: a second worker pointed at a live
 * database's directory exits at once with a clear error and touches nothing; once the first
 * is gone (even by kill -9), a new one starts.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import { WORKER_BUNDLE } from "../../testkit/paths";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess } from "../../testkit/worker";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** Runs a second worker on `dbPath` to completion (it must not keep running). */
function secondWorker(dbPath: string) {
  return spawnSync(process.execPath, [WORKER_BUNDLE], {
    env: { PATH: process.env.PATH, SQLD_HTTP_LISTEN_ADDR: "127.0.0.1:0", SQLD_DB_PATH: dbPath },
    encoding: "utf8",
    timeout: 10_000,
  });
}

test("a second worker on a live database exits at once and changes nothing", async () => {
  const first = await startWorkerProcess();
  dirs.push(first.dataDir);
  const dbPath = join(first.dataDir, "data.sqld");
  const client = createClient({ url: first.url });
  await client.execute("CREATE TABLE t (v TEXT)");
  await client.execute("INSERT INTO t VALUES ('kept')");
  const dataFile = join(dbPath, "dbs/default/data");
  const before = { files: readdirSync(join(dbPath, "dbs/default")), size: statSync(dataFile).size };

  const started = Date.now();
  const second = secondWorker(dbPath);
  expect(second.status).toBe(1);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(`${second.stdout}${second.stderr}`).toMatch(
    /another worker is already serving this database/,
  );
  expect(second.stdout).not.toMatch(/"msg":"listening"/);

  expect(readdirSync(join(dbPath, "dbs/default"))).toEqual(before.files);
  expect(statSync(dataFile).size).toBe(before.size);
  expect((await client.execute("SELECT v FROM t")).rows[0]?.v).toBe("kept");
  client.close();

  // The lock dies with its process, however it ends.
  await first.kill();
  const third = await startWorkerProcess({ dataDir: first.dataDir });
  const again = createClient({ url: third.url });
  expect((await again.execute("SELECT v FROM t")).rows[0]?.v).toBe("kept");
  again.close();
  await third.stop();
  expect(readFileSync(join(dbPath, "worker.lock")).length).toBeGreaterThanOrEqual(0);
});
