/**
 * What runs, read from the operating system (Linux /proc) rather than from DB-Forge's answers:
 * the worker processes of one control plane, and the registry as it is on disk.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql-stable";

/** The control plane's instance id: derived from its data directory (see control-plane service). */
export const instanceOf = (dataDir: string): string =>
  createHash("sha256").update(dataDir).digest("hex").slice(0, 10);

/** Containers (ids, running or not) of the control plane of `dataDir`; of one database with `name`. */
export function containersOf(dataDir: string, name?: string): string[] {
  const filters = ["--filter", `label=dev.dbforge.instance=${instanceOf(dataDir)}`];
  if (name) filters.push("--filter", `label=dev.dbforge.database=${name}`);
  const out = execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" }).trim();
  return out ? out.split("\n") : [];
}

/**
 * Removes every container of the control plane of `dataDir`: they outlive a docker-driver
 * control plane by design, so a test's go with it.
 */
export function removeContainersOf(dataDir: string): void {
  const ids = containersOf(dataDir);
  if (ids.length > 0) execFileSync("docker", ["rm", "-f", ...ids]);
}

interface ProcessEntry {
  pid: number;
  name: string | undefined;
  slot: string | undefined;
}

/** Whether `pid` is a live process: in the table and not a zombie (exited, not yet reaped). */
export function isLive(pid: number | string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes whose environment names the control plane of `dataDir`. */
function instanceProcesses(dataDir: string): ProcessEntry[] {
  const instance = `DBFORGE_INSTANCE=${instanceOf(dataDir)}`;
  const found: ProcessEntry[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!isLive(entry)) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!environ.includes(instance)) continue;
      const value = (prefix: string) =>
        environ.find((e) => e.startsWith(prefix))?.slice(prefix.length);
      found.push({
        pid: Number(entry),
        name: value("DBFORGE_WORKER_NAME="),
        slot: value("DBFORGE_POOL_SLOT="),
      });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Pool slot → database, from the control plane's pid files (a claimed pooled worker's name). */
function claimedSlots(dataDir: string): Map<string, string> {
  const dir = join(dataDir, ".control-plane/workers");
  const slots = new Map<string, string>();
  if (!existsSync(dir)) return slots;
  for (const file of readdirSync(dir)) {
    try {
      const { slot } = JSON.parse(readFileSync(join(dir, file), "utf8")) as { slot?: string };
      if (slot) slots.set(slot, file.replace(/\.json$/, ""));
    } catch {
      // being written
    }
  }
  return slots;
}

/**
 * Live (non-zombie) worker processes of the control plane of `dataDir`, by database name:
 * named in their environment, or pooled workers given a database (by their pid file). Pooled
 * workers still waiting for a database are not database workers: see poolProcesses.
 */
export function workerProcesses(dataDir: string): Map<string, number[]> {
  const slots = claimedSlots(dataDir);
  const found = new Map<string, number[]>();
  for (const { pid, name, slot } of instanceProcesses(dataDir)) {
    const database = name ?? (slot ? slots.get(slot) : undefined) ?? (slot ? undefined : "?");
    if (database === undefined) continue;
    found.set(database, [...(found.get(database) ?? []), pid]);
  }
  return found;
}

/** Pooled workers of the control plane of `dataDir` not (yet) given a database. */
export function poolProcesses(dataDir: string): number[] {
  const slots = claimedSlots(dataDir);
  return instanceProcesses(dataDir)
    .filter((p) => p.slot !== undefined && p.name === undefined && !slots.has(p.slot))
    .map((p) => p.pid);
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
