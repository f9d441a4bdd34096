/**
 * The worker's WAL archive on its own (both engines): every commit is archived with its
 * instant, across a kill -9 and a restart, so that the base plus the archive replayed gives
 * the database exactly (and any instant gives exactly the commits up to it); tenants cannot
 * checkpoint while the WAL is archived; snapshot copies a killed worker left are removed.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import { openNative } from "../../core/sqlite/index";
import {
  BASE_FILE,
  listGenerations,
  listSegments,
  parseSegment,
  segmentName,
  WAL_ARCHIVE_DIR,
} from "../../core/wal-archive";
import { Replay } from "../../core/wal-replay";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

const dir = makeTempDir("wal-archive");
afterAll(() => removeDir(dir));

const ARCHIVING = { DBFORGE_WAL_ARCHIVE: "on", DBFORGE_WAL_SEGMENT_MS: "200" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clientOf(worker: WorkerProcess) {
  return createClient({ url: worker.url, intMode: "number" });
}

/** The database rebuilt from the archive's newest generation up to `until`. */
function replayed(until: number): string {
  const root = join(dir, "data.sqld", WAL_ARCHIVE_DIR);
  const generations = listGenerations(root);
  const generation = join(root, generations.at(-1) as string);
  const file = join(dir, `replayed-${until}.db`);
  copyFileSync(join(generation, BASE_FILE), file);
  const replay = new Replay(file, until, 1 << 30, 0);
  for (const seq of listSegments(generation)) {
    const parsed = parseSegment(readFileSync(join(generation, segmentName(seq))));
    if (!parsed || !replay.apply(parsed)) break;
  }
  replay.close();
  return file;
}

function rowsOf(file: string): number[] {
  const db = openNative(file, 5000);
  try {
    return [...db.prepare("SELECT i FROM t ORDER BY i").raw(true).iterate()].map((r) =>
      Number(r[0]),
    );
  } finally {
    db.close();
  }
}

test("every commit is archived with its instant, across a kill -9; replaying gives the database", async () => {
  let worker = await startWorkerProcess({ dataDir: dir, env: ARCHIVING });
  let db = clientOf(worker);
  await db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, pad BLOB)");
  const after: number[] = [];
  const write = async (i: number, pad = 10) => {
    await db.execute({ sql: "INSERT INTO t VALUES (?, randomblob(?))", args: [i, pad] });
    await sleep(60);
    after.push(Date.now());
    await sleep(60);
  };
  for (let i = 1; i <= 3; i++) await write(i);
  // Past 1000 frames: the archiver checkpoints, SQLite restarts the WAL.
  await write(4, 5_000_000);
  await write(5);

  // Tenants may not checkpoint (or turn automatic checkpoints back on) while archiving.
  for (const sql of [
    "PRAGMA wal_checkpoint",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA main.wal_checkpoint(PASSIVE)",
    "PRAGMA wal_autocheckpoint = 100",
  ]) {
    await expect(db.execute(sql), sql).rejects.toThrow(/managed by the server/);
  }
  expect((await db.execute("PRAGMA wal_autocheckpoint")).rows[0]?.[0]).toBe(0);
  db.close();

  await worker.kill();
  // A snapshot copy the killed worker left behind goes at the next start.
  const stray = join(dir, "data.sqld/dbs/default/snapshot-0123456789abcdef.db");
  writeFileSync(stray, "partial copy");
  worker = await startWorkerProcess({ dataDir: dir, env: ARCHIVING });
  expect(existsSync(stray)).toBe(false);
  db = clientOf(worker);
  await write(6);
  await write(7);
  db.close();
  expect(await worker.stop()).toBe(0);

  // One generation all along: the kill -9 was picked up where the WAL was.
  expect(listGenerations(join(dir, "data.sqld", WAL_ARCHIVE_DIR))).toHaveLength(1);
  expect(rowsOf(replayed(Number.MAX_SAFE_INTEGER))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  for (const [k, at] of after.entries()) {
    expect(rowsOf(replayed(at)), `after write ${k + 1}`).toEqual(
      Array.from({ length: k + 1 }, (_, j) => j + 1),
    );
  }
  // The replay matches the database itself, byte for byte in every row.
  const live = openNative(join(dir, "data.sqld/dbs/default/data"), 5000);
  const copy = openNative(replayed(Number.MAX_SAFE_INTEGER), 5000);
  const dump = (d: typeof live) =>
    JSON.stringify(
      [...d.prepare("SELECT i, hex(pad) FROM t ORDER BY i").raw(true).iterate()].map((r) =>
        r.map(String),
      ),
    );
  expect(dump(copy)).toBe(dump(live));
  expect(String(copy.prepare("PRAGMA integrity_check").raw(true).get()?.[0])).toBe("ok");
  live.close();
  copy.close();
  expect(
    readdirSync(join(dir, "data.sqld/dbs/default")).filter((f) => f.startsWith("snapshot-")),
  ).toEqual([]);
}, 60_000);
