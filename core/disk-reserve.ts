/**
 * A file of zeros kept on the same file system as a database, to give back when the disk is
 * full: deletes need a little space to record themselves (SQLite's WAL, the registry's row),
 * and a full disk must never make freeing space impossible. Released on the first "disk
 * full" of a statement that frees space, re-made once there is room again.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

const CHUNK = 64 * 1024;
/** How often a missing reserve is tried again. */
const RETRY_MS = 10_000;

export class DiskReserve {
  private lastAttempt = 0;
  /**
   * Whether the reserve file is there. The file is this process's own (one worker per database,
   * one control plane per data directory), so after the first look it is known without asking
   * the file system: `ensure` runs after every write and must cost nothing.
   */
  private present: boolean;

  constructor(
    readonly path: string,
    readonly bytes: number,
  ) {
    this.present = existsSync(path);
  }

  /** Makes the reserve if it is missing and there is room (at most every 10 s); never throws. */
  ensure(now = Date.now()): void {
    if (this.bytes <= 0 || this.present || now - this.lastAttempt < RETRY_MS) return;
    this.lastAttempt = now;
    const partial = `${this.path}.partial`;
    try {
      const fd = openSync(partial, "w", 0o600);
      try {
        const zeros = Buffer.alloc(CHUNK);
        for (let written = 0; written < this.bytes; written += CHUNK) {
          writeSync(fd, zeros, 0, Math.min(CHUNK, this.bytes - written));
        }
      } finally {
        closeSync(fd);
      }
      // Whole or not at all: a half reserve would promise space it does not hold.
      rmSync(this.path, { force: true });
      renameSync(partial, this.path);
      this.present = true;
    } catch {
      rmSync(partial, { force: true });
    }
  }

  /** Gives the space back; true if there was a reserve to give. */
  release(): boolean {
    if (!this.present && !existsSync(this.path)) return false;
    rmSync(this.path, { force: true });
    this.present = false;
    return true;
  }
}

/** Whether `err` says the disk (or a quota) is full, from the file system or from SQLite. */
export function isDiskFull(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const message = err instanceof Error ? err.message : String(err);
  return (
    code === "ENOSPC" ||
    code === "EDQUOT" ||
    code.startsWith("SQLITE_FULL") ||
    /ENOSPC|no space left on device|database or disk is full/i.test(message)
  );
}
