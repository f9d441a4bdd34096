import { type Dirent, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDiskFull } from "../../core/disk-reserve";
import { DomainError } from "../../core/errors";

/**
 * DISK_FULL for "no space" errors: from the file system (ENOSPC), from SQLite (the registry:
 * SQLITE_FULL) or reported by a worker that could not start. Undefined for anything else.
 */
export function diskError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err.code === "DISK_FULL" ? err : undefined;
  if (!isDiskFull(err)) return undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new DomainError("DISK_FULL", `Not enough disk space: ${message.split("\n")[0]}`);
}

/** Total size in bytes of the files under `dir` (0 if it does not exist). */
export function directorySize(dir: string): number {
  let total = 0;
  // The worker creates and removes files meanwhile (SQLite's -wal and -shm at every checkpoint
  // and close): one gone between the listing and its stat counts nothing, it is not an error.
  for (const entry of entriesOf(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += sizeOf(path);
  }
  return total;
}

function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return [];
    throw err;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    if (isGone(err)) return 0;
    throw err;
  }
}

const isGone = (err: unknown) => (err as { code?: string }).code === "ENOENT";
