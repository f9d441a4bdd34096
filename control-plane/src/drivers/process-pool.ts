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
  constructor(options: WorkerPoolOptions) {
    super(options.size, new ProcessLauncher(options), (err) =>
      console.error(JSON.stringify({ msg: "worker pool: start failed", error: err.message })),
    );
  }
}

class ProcessLauncher implements PoolLauncher<PooledWorker> {
  /** The worker being started, killed if the pool closes meanwhile. */
  private loading: ChildProcess | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  discard(worker: PooledWorker): void {
    worker.child.kill("SIGKILL");
    rmSync(worker.logPath, { force: true });
  }

  watch(worker: PooledWorker, gone: () => void): void {
    worker.child.once("exit", () => {
      // Still the pool's log only if it was never claimed (a claim renames it).
      rmSync(worker.logPath, { force: true });
      gone();
    });
  }

  abortLaunch(): void {
    this.loading?.kill("SIGKILL");
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
