/**
 * Pre-started workers for the process driver (see ./pool.ts): starting node and loading the
 * worker takes 100–250 ms on a small machine, most of a cold start. A start takes one (see
 * ProcessDriver.claim), which then opens its database and listens within milliseconds. Each
 * pooled worker gets the database's user and lock only when claimed (so isolation is the same
 * as for any worker), and exits on its own if the control plane goes away before claiming it
 * (it waits on the IPC channel).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";
import { Pool, type PoolLauncher } from "./pool";

/** How long a worker still loading when the pool closes has to exit on its own. */
const ABORT_GRACE_MS = 2000;
/** The longest a closing pool waits for the workers it ended. */
const SETTLE_MAX_MS = ABORT_GRACE_MS + 3000;

export interface PooledWorker {
  child: ChildProcess;
  /** DBFORGE_POOL_SLOT: how the process table tells this worker (see process-table.ts). */
  slot: string;
  /** Its output so far; the claim moves it to the database's log. */
  logPath: string;
}

export interface WorkerPoolOptions {
  size: number;
  /** The command (node, or prlimit then node) and its arguments. */
  command: string[];
  /** The environment every worker of the pool shares. */
  env: Record<string, string>;
  cwd: string;
  logPathOf(slot: string): string;
  /** How long a pooled worker may take to load. */
  readyTimeoutMs: number;
}

export class WorkerPool extends Pool<PooledWorker> {
  private readonly processes: ProcessLauncher;

  constructor(options: WorkerPoolOptions) {
    const launcher = new ProcessLauncher(options);
    super(options.size, launcher, (err) =>
      console.error(JSON.stringify({ msg: "worker pool: start failed", error: err.message })),
    );
    this.processes = launcher;
  }

  /** Closes the pool, and resolves once every worker it ended has exited. */
  async shut(): Promise<void> {
    this.close();
    await this.processes.settled();
  }
}

/** Resolves once `child` has exited (at once if it has, or never started). */
function exited(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

class ProcessLauncher implements PoolLauncher<PooledWorker> {
  /** The worker being started, killed if the pool closes meanwhile. */
  private loading: ChildProcess | undefined;
  /** The workers this launcher ended, until they have exited. */
  private readonly ending = new Set<Promise<void>>();

  constructor(private readonly options: WorkerPoolOptions) {}

  /**
   * Resolves once every worker ended so far has exited, or after SETTLE_MAX_MS: a process
   * stuck in the kernel (a hung disk) outlives even its SIGKILL, and must not hold a stop.
   */
  async settled(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.ending),
      new Promise((r) => {
        timer = setTimeout(r, SETTLE_MAX_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  discard(worker: PooledWorker): void {
    worker.child.kill("SIGKILL");
    void this.waitFor(worker.child);
    rmSync(worker.logPath, { force: true });
  }

  /** Keeps `child` among the workers being ended until it exits; resolves then. */
  private waitFor(child: ChildProcess): Promise<void> {
    // Pooled workers are unref'd (they must not keep a control plane alive); one being waited
    // for must, or a stopping process would exit in the middle of its stop, before the steps
    // after this one.
    child.ref();
    const gone = exited(child).then(() => {
      this.ending.delete(gone);
    });
    this.ending.add(gone);
    return gone;
  }

  watch(worker: PooledWorker, gone: () => void): void {
    worker.child.once("exit", () => {
      // Still the pool's log only if it was never claimed (a claim renames it).
      rmSync(worker.logPath, { force: true });
      gone();
    });
  }

  abortLaunch(): void {
    const loading = this.loading;
    if (!loading) return;
    // Let go of it rather than kill it: it exits on its own when its channel closes, and its
    // exit handlers remove what it made in the host's temporary directory while it rehearsed (a
    // SIGKILL mid-rehearsal left that directory behind). Killed if it does not go in time.
    if (loading.connected) loading.disconnect();
    const kill = setTimeout(() => loading.kill("SIGKILL"), ABORT_GRACE_MS);
    void this.waitFor(loading).then(() => clearTimeout(kill));
  }

  launch(): Promise<PooledWorker> {
    const slot = randomBytes(8).toString("hex");
    const logPath = this.options.logPathOf(slot);
    const [command, ...args] = this.options.command;
    const log = openSync(logPath, "a", 0o600);
    let child: ChildProcess;
    try {
      child = spawn(command as string, args, {
        detached: true,
        cwd: this.options.cwd,
        stdio: ["ignore", log, log, "ipc"],
        env: { ...this.options.env, DBFORGE_POOL_SLOT: slot },
      });
    } finally {
      closeSync(log);
    }
    // The IPC channel must not keep the control plane alive.
    child.unref();
    child.channel?.unref();
    this.loading = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error("did not load in time")),
        this.options.readyTimeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.loading = undefined;
        child.kill("SIGKILL");
        rmSync(logPath, { force: true });
        reject(err);
      };
      child.once("error", fail);
      child.once("exit", (code) => fail(new Error(`exited with ${code} while loading`)));
      child.once("message", (message: { type?: string }) => {
        if (message?.type !== "ready") return fail(new Error("sent something else than ready"));
        clearTimeout(timer);
        this.loading = undefined;
        child.removeAllListeners("exit");
        child.removeAllListeners("error");
        resolve({ child, slot, logPath });
      });
    });
  }
}
