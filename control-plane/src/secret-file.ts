import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Writes a secret readable by its owner only (0600), creating the directory (0700). */
export function writeSecretFile(path: string, contents: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, contents, { mode: 0o600, flag: "wx" });
}
