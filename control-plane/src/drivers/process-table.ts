/**
 * Workers in the process table (Linux /proc): a worker is recognised by its environment
 * (DBFORGE_WORKER_NAME, DBFORGE_INSTANCE), which plays the role of Docker labels, so a
 * recycled pid is never mistaken for a worker and workers whose pid file is gone are still
 * found. Elsewhere (no /proc) only pid files identify workers.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Whether this system has Linux's /proc (macOS and Windows do not). */
export const HAS_PROC = existsSync("/proc/self/environ");

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!HAS_PROC) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

function workerIdentity(pid: number): { name: string; instance: string } | undefined {
  try {
    let name: string | undefined;
    let instance: string | undefined;
    for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      if (entry.startsWith("DBFORGE_WORKER_NAME=")) name = entry.slice(20);
      else if (entry.startsWith("DBFORGE_INSTANCE=")) instance = entry.slice(17);
    }
    return name && instance ? { name, instance } : undefined;
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/** Whether `pid` is a live worker of database `name` of this control plane. */
export function isWorker(pid: number, name: string, instance: string): boolean {
  if (!alive(pid)) return false;
  if (!HAS_PROC) return true;
  const identity = workerIdentity(pid);
  return identity?.name === name && identity.instance === instance;
}

/** Every live worker process of this control plane, by database name. */
export function scanWorkers(instance: string): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (!HAS_PROC) return found;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const identity = workerIdentity(pid);
    if (identity?.instance !== instance || !alive(pid)) continue;
    found.set(identity.name, [...(found.get(identity.name) ?? []), pid]);
  }
  return found;
}
