/**
 * Exactly one worker per database, enforced by the worker itself: it holds an exclusive SQLite
 * lock on `worker.lock` in the database's data directory for as long as it lives. The lock is
 * the operating system's (fcntl on Unix, LockFileEx on Windows), so it dies with the process,
 * however the process ends; a second worker on the same directory fails to take it and exits
 * before touching the database. The control plane probes the same lock to find live workers
 * whatever its registry or pid files say.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type NativeDatabase, openNative } from "./sqlite";

export const WORKER_LOCK_FILE = "worker.lock";

export class WorkerLockedError extends Error {
  constructor(readonly path: string) {
    super(
      `another worker is already serving this database (it holds ${path}); refusing to start a second one`,
    );
    this.name = "WorkerLockedError";
  }
}

/** The held lock; released when the process exits (or by `release`). */
export interface WorkerLock {
  release(): void;
}

/** Keeps every held lock reachable: a collected connection would close and drop the lock. */
const held = new Set<NativeDatabase>();

/** Takes the lock on `dataDir` (sqld's data directory) or throws WorkerLockedError. */
export function acquireWorkerLock(dataDir: string): WorkerLock {
  const path = join(dataDir, WORKER_LOCK_FILE);
  const db = openNative(path, 5000);
  try {
    // No journal file, and locks are never given back while the connection lives.
    db.exec("PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if (String((err as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY")) {
      throw new WorkerLockedError(path);
    }
    throw err;
  }
  held.add(db);
  return {
    release() {
      if (!held.delete(db)) return;
      db.close();
    },
  };
}

/**
 * Whether a live process holds the lock of `dataDir`. Never creates the file (a file created by
 * the control plane could belong to the wrong user). Briefly takes the lock itself when it is
 * free: call it only while no worker of this database is being started.
 */
export function workerLockHeld(dataDir: string): boolean {
  const path = join(dataDir, WORKER_LOCK_FILE);
  if (!existsSync(path)) return false;
  try {
    acquireWorkerLock(dataDir).release();
    return false;
  } catch (err) {
    if (err instanceof WorkerLockedError) return true;
    throw err;
  }
}
