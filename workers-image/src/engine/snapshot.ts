import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { openNative } from "../../../core/sqlite/index";

const SNAPSHOT_PREFIX = "snapshot-";

/**
 * A consistent copy of the database file, made online with VACUUM INTO from one read
 * transaction (writers go on; the copy is compact and in rollback-journal mode, as a .db file
 * others open is expected to be). Written next to the database (the worker's own directory),
 * streamed, and removed once streamed or abandoned.
 */
export function snapshotFile(
  dbFile: string,
  directory: string,
): { path: string; size: number; remove(): void } {
  const path = join(directory, `${SNAPSHOT_PREFIX}${randomBytes(8).toString("hex")}.db`);
  const db = openNative(dbFile, 600_000);
  try {
    db.exec(`VACUUM INTO '${path.replaceAll("'", "''")}'`);
  } catch (err) {
    rmSync(path, { force: true });
    throw err;
  } finally {
    db.close();
  }
  return {
    path,
    size: statSync(path).size,
    remove: () => rmSync(path, { force: true }),
  };
}

/** Removes copies a worker killed mid-snapshot left in `directory` (at start, none is in use). */
export function removeStraySnapshots(directory: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names)
    if (/^snapshot-[0-9a-f]{16}\.db$/.test(name)) rmSync(join(directory, name), { force: true });
}
