import { existsSync, readdirSync, statSync } from "node:fs";
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
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
