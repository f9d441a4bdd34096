/**
 * Workers in the process table (Linux /proc): a worker is recognised by its environment
 * (DBFORGE_WORKER_NAME, DBFORGE_INSTANCE), which plays the role of Docker labels, so a
 * recycled pid is never mistaken for a worker and workers whose pid file is gone are still
 * found. Elsewhere (no /proc) only pid files identify workers.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Whether this system has Linux's /proc (macOS and Windows do not). */
export const HAS_PROC = existsSync("/proc/self/environ");

/**
 * A process's state letter in /proc/PID/stat (R, S, D, T, t, Z, …), undefined once it is gone.
 * Without /proc a live process is "?": nothing more can be told.
 */
type ProcessState = string | undefined;

function processState(pid: number): ProcessState {
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return "?";
    } catch {
      return undefined;
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.charAt(stat.lastIndexOf(")") + 2);
  } catch {
    return undefined;
  }
}

const isLiveState = (state: ProcessState) => state !== undefined && state !== "Z";

/** Stopped by a signal (SIGSTOP, SIGTSTP) or a tracer. */
const isSuspendedState = (state: ProcessState) => state === "T" || state === "t";

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  return isLiveState(processState(pid));
}

/**
 * What a worker's environment says about it: its control plane, and its database's name, or
 * (a pooled worker, started before it had a database) its pool slot, which the pid file of the
 * database it was given names.
 */
interface WorkerIdentity {
  instance: string;
  name?: string;
  slot?: string;
}

function workerIdentity(pid: number): WorkerIdentity | undefined {
  try {
    let name: string | undefined;
    let instance: string | undefined;
    let slot: string | undefined;
    for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      if (entry.startsWith("DBFORGE_WORKER_NAME=")) name = entry.slice(20);
      else if (entry.startsWith("DBFORGE_INSTANCE=")) instance = entry.slice(17);
      else if (entry.startsWith("DBFORGE_POOL_SLOT=")) slot = entry.slice(18);
    }
    if (!instance || (!name && !slot)) return undefined;
    return { instance, ...(name ? { name } : {}), ...(slot ? { slot } : {}) };
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/**
 * Whether `pid` is a live worker of this control plane serving database `name` (named so in its
 * environment, or the pooled worker of `slot`, from the database's pid file), and then whether
 * it runs or is suspended: one read of its state for both.
 */
export function workerState(
  pid: number,
  name: string,
  instance: string,
  slot?: string,
): "running" | "suspended" | undefined {
  const state = processState(pid);
  if (!isLiveState(state)) return undefined;
  if (HAS_PROC) {
    const identity = workerIdentity(pid);
    if (identity?.instance !== instance) return undefined;
    if (identity.name !== name && (slot === undefined || identity.slot !== slot)) return undefined;
  }
  return isSuspendedState(state) ? "suspended" : "running";
}

export interface ScannedWorkers {
  /** Workers started for a database, by its name. */
  byName: Map<string, number[]>;
  /** Pooled workers, by slot: claimed ones serve the database whose pid file names the slot. */
  bySlot: Map<string, number[]>;
}

/** Every live worker process of this control plane. */
export function scanWorkers(instance: string): ScannedWorkers {
  const found: ScannedWorkers = { byName: new Map(), bySlot: new Map() };
  if (!HAS_PROC) return found;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const identity = workerIdentity(pid);
    if (identity?.instance !== instance || !alive(pid)) continue;
    const [map, key] = identity.name
      ? [found.byName, identity.name]
      : [found.bySlot, identity.slot as string];
    map.set(key, [...(map.get(key) ?? []), pid]);
  }
  return found;
}
