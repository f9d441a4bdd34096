/**
 * A pool of pre-started workers, whatever runs them (child processes, containers): a few are
 * kept started, each with its code and engine loaded and no database, so that a start takes one
 * instead of waiting for node to load. The pool only keeps the count: how a member is started,
 * discarded and noticed gone is the launcher's business (./process-pool.ts, ./docker-pool.ts).
 * Each member serves one database in its life: once taken it is never given out again.
 */

export interface PoolLauncher<T> {
  /** Starts one member and resolves once it is loaded and waiting for a database. */
  launch(): Promise<T>;
  /** Ends a member that was never taken (it holds no database). */
  discard(member: T): void;
  /** Calls `gone` once if the member ends on its own while it waits in the pool. */
  watch(member: T, gone: () => void): void;
  /** Ends a launch still in progress (the pool is closing). */
  abortLaunch(): void;
  /** The member was taken: it is no longer the pool's to watch. */
  taken?(member: T): void;
}

/** What every member of a pool was started with: a database needing anything else gets none. */
export interface PoolShape {
  memoryMb: number;
  env: Record<string, string>;
}

/** Whether a pooled worker can serve a database: the same memory cap and worker environment. */
export function fitsPool(
  pool: PoolShape,
  spec: { memoryMb: number; env: Record<string, string> },
): boolean {
  if (spec.memoryMb !== pool.memoryMb) return false;
  const keys = new Set([...Object.keys(pool.env), ...Object.keys(spec.env)]);
  return [...keys].every((key) => pool.env[key] === spec.env[key]);
}

/** How long after a take the pool starts a replacement. */
const REFILL_DELAY_MS = 250;

/** After a failed start, the pool waits this long before it tries again (then doubles, to 30 s). */
const RETRY_MS = 1000;

export class Pool<T> {
  private readonly ready: T[] = [];
  private starting = 0;
  private closed = false;
  private retryMs = RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly size: number,
    private readonly launcher: PoolLauncher<T>,
    /** Says why a start failed (the pool retries later). */
    private readonly onFailure: (err: Error) => void,
  ) {}

  /**
   * A loaded member for a start, if one is ready. The pool is topped up in the background, a
   * moment later: starting node takes a CPU for a while, which the taken worker needs now.
   */
  take(): T | undefined {
    const member = this.ready.shift();
    if (member !== undefined) this.launcher.taken?.(member);
    setTimeout(() => this.refill(), REFILL_DELAY_MS).unref();
    return member;
  }

  /** Starts members until the pool is full, one at a time (each costs a CPU for a while). */
  refill(): void {
    if (this.closed || this.retryTimer || this.starting > 0) return;
    if (this.ready.length >= this.size) return;
    this.starting++;
    this.launcher.launch().then(
      (member) => {
        this.starting--;
        this.retryMs = RETRY_MS;
        if (this.closed) this.launcher.discard(member);
        else {
          this.ready.push(member);
          this.launcher.watch(member, () => this.forget(member));
        }
        this.refill();
      },
      (err: Error) => {
        this.starting--;
        if (this.closed) return;
        this.onFailure(err);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.refill();
        }, this.retryMs);
        this.retryTimer.unref();
        this.retryMs = Math.min(this.retryMs * 2, 30_000);
      },
    );
  }

  /** Ends the members waiting in the pool (they hold nothing); no more are started. */
  close(): T[] {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.launcher.abortLaunch();
    const waiting = this.ready.splice(0);
    for (const member of waiting) this.launcher.discard(member);
    return waiting;
  }

  private forget(member: T): void {
    const at = this.ready.indexOf(member);
    if (at < 0) return;
    this.ready.splice(at, 1);
    this.refill();
  }
}
