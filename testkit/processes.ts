/**
 * What runs, read from the operating system (Linux /proc) rather than from DB-Forge's answers:
 * the worker processes of one control plane, and the registry as it is on disk.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql-stable";

/** The control plane's instance id: derived from its data directory (see control-plane service). */
export const instanceOf = (dataDir: string): string =>
  createHash("sha256").update(dataDir).digest("hex").slice(0, 10);

/** Live (non-zombie) worker processes of the control plane of `dataDir`, by database name. */
export function workerProcesses(dataDir: string): Map<string, number[]> {
  const instance = `DBFORGE_INSTANCE=${instanceOf(dataDir)}`;
  const found = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!environ.includes(instance)) continue;
      const name = environ.find((e) => e.startsWith("DBFORGE_WORKER_NAME="))?.slice(20) ?? "?";
      found.set(name, [...(found.get(name) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface RegistryRow {
  name: string;
  status: string;
  worker_id: string | null;
}

/** The registry's rows, read from its file (with no control plane running, or read-only). */
export function readRegistry(dataDir: string): RegistryRow[] {
  const path = join(dataDir, ".control-plane/registry.db");
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare("SELECT name, status, worker_id FROM databases ORDER BY name")
      .all() as RegistryRow[];
  } finally {
    db.close();
  }
}
