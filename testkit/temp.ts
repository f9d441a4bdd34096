import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new empty directory under the system temporary directory: `dbforge-<purpose>-XXXXXX` (0700). */
export function makeTempDir(purpose: string): string {
  return mkdtempSync(join(tmpdir(), `dbforge-${purpose}-`));
}

/** Removes a directory and everything in it; a missing directory is fine. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
