import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../../functions/lib/errors";

/** DISK_FULL for "no space" errors from the file system, undefined for anything else. */
export function diskError(err: unknown): ApiError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ApiError("DISK_FULL", `Not enough disk space: ${(err as Error).message}`);
  }
  return undefined;
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
