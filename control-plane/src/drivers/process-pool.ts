/**
 * Pre-started workers for the process driver: starting node and loading the worker takes
 * 100–250 ms on a small machine, most of a cold start. A few workers are kept started, each
 * with its code and engine loaded and no database; a start takes one (see ProcessDriver.claim),
 * which then opens its database and listens within milliseconds, and another is started in the
 * background. Each pooled worker serves one database in its life, gets the database's user and
 * lock only when claimed (so isolation is the same as for any worker), and exits on its own if
 * the control plane goes away before claiming it (it waits on the IPC channel).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";

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

/** How long after a take the pool starts a replacement. */
const REFILL_DELAY_MS = 250;

/** After a failed start, the pool waits this long before it tries again (then doubles, to 30 s). */
const RETRY_MS = 1000;

export class WorkerPool {
  private readonly ready: PooledWorker[] = [];
  private starting = 0;
  private closed = false;
  private retryMs = RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The worker being started, killed if the pool closes meanwhile. */
  private loading: ChildProcess | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  /**
   * A loaded worker for a start, if one is ready. The pool is topped up in the background, a
   * moment later: starting node takes a CPU for a while, which the claimed worker needs now.
   */
  take(): PooledWorker | undefined {
    const worker = this.ready.shift();
    setTimeout(() => this.refill(), REFILL_DELAY_MS).unref();
    return worker;
  }

  /** Slots of the workers waiting in the pool. */
  get idleSlots(): Set<string> {
    return new Set(this.ready.map((w) => w.slot));
  }

  /** Starts workers until the pool is full, one at a time (each costs a CPU for ~0.2 s). */
  refill(): void {
    if (this.closed || this.retryTimer || this.starting > 0) return;
    if (this.ready.length >= this.options.size) return;
    this.starting++;
    this.startOne().then(
      (worker) => {
        this.starting--;
        this.retryMs = RETRY_MS;
        if (this.closed) worker.child.kill("SIGKILL");
        else {
          this.ready.push(worker);
          worker.child.once("exit", () => this.forget(worker));
        }
        this.refill();
      },
      (err: Error) => {
        this.starting--;
        if (this.closed) return;
        console.error(JSON.stringify({ msg: "worker pool: start failed", error: err.message }));
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.refill();
        }, this.retryMs);
        this.retryTimer.unref();
        this.retryMs = Math.min(this.retryMs * 2, 30_000);
      },
    );
  }

  /** Kills the workers waiting in the pool (they hold nothing); no more are started. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.loading?.kill("SIGKILL");
    for (const worker of this.ready.splice(0)) {
      worker.child.kill("SIGKILL");
      rmSync(worker.logPath, { force: true });
    }
  }

  private forget(worker: PooledWorker): void {
    const at = this.ready.indexOf(worker);
    if (at >= 0) this.ready.splice(at, 1);
    rmSync(worker.logPath, { force: true });
    this.refill();
  }

  private startOne(): Promise<PooledWorker> {
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
