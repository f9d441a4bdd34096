/**
 * How the control plane runs database workers. Two implementations: local child processes
 * (the embedded default) and Docker containers (dockerode). Drivers only run workers; the
 * DatabaseManager decides when.
 */

/** Label (Docker) / environment variable (process) prefix that marks what DB-Forge manages. */
export const LABEL_PREFIX = "dev.dbforge";
export const LABELS = {
  managed: `${LABEL_PREFIX}.managed`,
  instance: `${LABEL_PREFIX}.instance`,
  database: `${LABEL_PREFIX}.database`,
} as const;

export interface WorkerSpec {
  name: string;
  /** The database's directory on this machine (db-data/<name>). */
  dataDir: string;
  /** The database's Ed25519 public key, for SQLD_AUTH_JWT_KEY. */
  jwtPublicKey: string;
  /** Passed as SQLD_IDLE_SHUTDOWN_TIMEOUT_S: the worker exits (status 0) when idle. */
  idleShutdownS: number;
  /** Extra worker environment (DBFORGE_* tunables). */
  env: Record<string, string>;
  /** The database's own unprivileged uid (gid alike) when DB-Forge runs as root; else null. */
  uid: number | null;
  /** Memory cap of the worker, MiB: SQLite's heap limit, the JS heap and the OS limit. */
  memoryMb: number;
  /** The database's quota in bytes (DBFORGE_MAX_DB_BYTES: the worker caps the file's pages). */
  quotaBytes: number;
}

/**
 * The worker environment that enforces a memory cap from inside: SQLite's hard heap limit
 * (DBFORGE_MEMORY_LIMIT, see the worker) and V8's old-space limit. The rest of the cap is the
 * process's baseline (the node binary, libraries, buffers); an OS limit backs both up.
 */
export function memoryEnv(memoryMb: number): Record<string, string> {
  const v8HeapMb = Math.max(32, Math.round(memoryMb * 0.35));
  return {
    DBFORGE_MEMORY_LIMIT: `${memoryMb}MiB`,
    // A 1 MiB young generation: a worker's requests allocate little and briefly, and V8's
    // default (growing to 16 MiB per semi-space under load) is memory every database pays.
    // One V8 helper thread instead of four, and one thread for libSQL's tokio runtime (which a
    // local file does not use) instead of one per core: each thread is a stack and kernel
    // memory every database pays too (16 threads a worker before, 11 now). Throughput measured
    // the same (bench/worker-throughput.ts). `gc` for a pooled worker, which collects what its
    // rehearsal left before it waits (workers-image/src/main.ts); no tenant runs JavaScript.
    NODE_OPTIONS: `--max-old-space-size=${v8HeapMb} --max-semi-space-size=1 --v8-pool-size=1 --expose-gc`,
    TOKIO_WORKER_THREADS: "1",
  };
}

export interface StartedWorker {
  /** Container id or process id. */
  id: string;
  /** Hrana base URL reachable from the control plane and the functions. */
  url: string;
}

export type WorkerStatus =
  /**
   * `suspended`: the process runs but is stopped (SIGSTOP, a paused container) and cannot
   * answer: the health loop probes it at once rather than at its next probe interval.
   */
  | { state: "running"; id: string; url: string; suspended?: boolean }
  /** `idle`: it stopped itself after SQLD_IDLE_SHUTDOWN_TIMEOUT_S (exit status 0). */
  | { state: "exited"; idle: boolean; detail: string }
  | { state: "missing" };

export interface WorkerDriver {
  readonly kind: "process" | "docker";
  /** Fails with a clear ApiError when the driver cannot work (no engine, no image). */
  check(): Promise<void>;
  /** Starts the database's worker (replacing any stopped one) and waits until it is healthy. */
  start(spec: WorkerSpec): Promise<StartedWorker>;
  status(name: string): Promise<WorkerStatus>;
  /** Graceful stop (SIGTERM); idempotent. Keeps what `start` would reuse. */
  stop(name: string): Promise<void>;
  /** Stops and forgets the worker (container, pid file); idempotent. Data is not touched. */
  remove(name: string): Promise<void>;
  /** Names of every database with a worker (running or not) owned by this control plane. */
  list(): Promise<string[]>;
  /**
   * Names of the databases whose workers run (not suspended), in one call: where `status` of
   * each costs more (Docker: an inspect per container, a list for all). The health round then
   * asks `status` only of the others, and of those it probes.
   */
  running?(): Promise<Set<string>>;
  /** Subscribes to workers that exit on their own (crash or idle), where the driver can tell. */
  onExit(listener: (name: string) => void): void;
  /** Releases what the driver holds for itself (pre-started workers); workers are stop()'s. */
  close?(): void | Promise<void>;
}

/** Where a worker's SQLite data lives inside its data directory (the sqld image's layout). */
export const SQLD_DB_DIR = "iku.db";

export async function waitForHealth(
  url: string,
  timeoutMs: number,
  isDead: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !isDead()) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
