/**
 * Query timeouts where the engine cannot interrupt a statement (the stable engine): statements
 * run on the main thread and block it, so a watchdog thread watches a deadline in shared memory
 * that the main thread sets around every statement. A statement still running a grace period
 * past its deadline ends the process (SIGKILL): the control plane restarts the worker, SQLite's
 * WAL rolls the statement back, every acknowledged write stays. The client of that statement
 * sees its connection close instead of SQLITE_INTERRUPT (README "Supported platforms").
 */
import type { Worker } from "node:worker_threads";

/** How long past the deadline the watchdog waits before it ends the process. */
export const WATCHDOG_GRACE_MS = 250;

// A thread's process.stderr goes through the main thread, which is blocked: write to fd 2.
const WATCHER = `
const { writeSync } = require("node:fs");
const { workerData } = require("node:worker_threads");
const deadline = new Float64Array(workerData.deadline);
const grace = workerData.grace;
setInterval(() => {
  const at = deadline[0];
  if (at > 0 && Date.now() > at + grace) {
    writeSync(2, JSON.stringify({ msg: "query timeout: a statement ran past its deadline and cannot be interrupted on this engine; restarting", deadline: new Date(at).toISOString() }) + "\\n");
    process.kill(process.pid, "SIGKILL");
  }
}, 50);
`;

export class QueryWatchdog {
  private readonly deadline = new Float64Array(new SharedArrayBuffer(8));
  private readonly thread: Worker;

  constructor() {
    // Loaded here, not imported: only the stable engine needs it, and every worker would keep
    // node:worker_threads in memory otherwise (density, bench/density.ts).
    const { Worker } = process.getBuiltinModule("node:worker_threads");
    this.thread = new Worker(WATCHER, {
      eval: true,
      workerData: { deadline: this.deadline.buffer, grace: WATCHDOG_GRACE_MS },
    });
    // The watchdog never keeps the process alive by itself.
    this.thread.unref();
  }

  /** Runs `statement` under a deadline `timeoutMs` away. */
  run<T>(timeoutMs: number, statement: () => T): T {
    const outer = this.deadline[0] ?? 0;
    if (outer === 0) this.deadline[0] = Date.now() + timeoutMs;
    try {
      return statement();
    } finally {
      if (outer === 0) this.deadline[0] = 0;
    }
  }

  stop(): void {
    void this.thread.terminate();
  }
}
