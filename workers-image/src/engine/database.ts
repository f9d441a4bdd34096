import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DiskReserve } from "../../../core/disk-reserve";
import { engine, openNative } from "../../../core/sqlite/index";
import { log } from "../log";
import { buildSandbox, type Sandbox } from "../sandbox/authorizer";
import { UsageMeter } from "../usage";
import { Connection, type ConnectionSettings } from "./connection";
import { SqlError, StmtErrorCode } from "./errors";
import { QueryWatchdog } from "./watchdog";

export interface DatabaseOptions {
  /** The SQLite database file. */
  path: string;
  /** A statement running longer is interrupted (SQLITE_INTERRUPT). */
  queryTimeoutMs: number;
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
  lockWaitTimeoutMs: number;
  /** A transaction holding the write lock this long is rolled back when another writer waits. */
  transactionTimeoutMs: number;
  /** PRAGMA synchronous for every connection. */
  synchronous: "FULL" | "NORMAL";
  /** Idle connections kept open for reuse. */
  poolSize: number;
  /**
   * Connections open at once, idle ones included. A stream holds one only while a request of
   * it runs or while it has a transaction open, so this bounds open transactions.
   */
  maxConnections: number;
  /**
   * SQLite's hard heap limit in bytes (process-wide): an allocation past it fails with
   * SQLITE_NOMEM instead of growing the process. Undefined: no limit.
   */
  heapLimitBytes?: number;
  /** Space kept back for statements that free space on a full disk (see core/disk-reserve). */
  diskReserve?: { path: string; bytes: number };
  /** The database's quota in bytes (PRAGMA max_page_count on every connection). */
  maxDbBytes?: number;
  /** The WAL is archived: connections never checkpoint (see ./wal-archiver.ts). */
  walArchived?: boolean;
}

let sandboxOfEngine: Sandbox | undefined;

/**
 * The sandbox for the engine in use, built once per process from the engine's own lists of
 * functions and modules (an in-memory database has the same ones as any file), so a module an
 * engine upgrade adds is refused until classified. A pooled worker builds it while it waits.
 */
export function engineSandbox(): Sandbox {
  if (sandboxOfEngine) return sandboxOfEngine;
  const probe = openNative(":memory:", 5000);
  try {
    const column = (sql: string) =>
      [...probe.prepare(sql).raw(true).iterate()].map((row) => String(row[0]));
    sandboxOfEngine = buildSandbox({
      modules: column("SELECT name FROM pragma_module_list"),
      functions: column("SELECT DISTINCT name FROM pragma_function_list"),
      authorizes: engine().authorizes,
    });
    return sandboxOfEngine;
  } finally {
    probe.close();
  }
}

/** Poll interval while waiting for the write lock, in case a holder outside this process frees it. */
const LOCK_POLL_MS = 25;

/**
 * The worker's one database file and its connections. Every Hrana stream gets its own connection
 * (so transactions span requests), all on the main thread: statements run synchronously and one
 * at a time, and a statement that finds the write lock taken waits asynchronously, so the
 * stream holding the lock can still be served and release it.
 */
export class Database {
  private readonly idle: Connection[] = [];
  private readonly active = new Set<Connection>();
  private lockWaiters: Array<() => void> = [];
  private closed = false;

  private readonly reserve: DiskReserve | undefined;
  /** Only for engines that cannot interrupt a statement (see ./watchdog.ts). */
  private readonly watchdog = engine().interruptsQueries ? undefined : new QueryWatchdog();

  private readonly connectionSettings: ConnectionSettings;
  /** Statements, rows and errors served (written out by the server, see ../usage.ts). */
  readonly usage = new UsageMeter();

  private constructor(
    readonly options: DatabaseOptions,
    sandbox: Sandbox,
  ) {
    this.connectionSettings = {
      queryTimeoutMs: options.queryTimeoutMs,
      synchronous: options.synchronous,
      sandbox,
      watchdog: this.watchdog,
      schema: { generation: 0 },
      ...(options.maxDbBytes === undefined ? {} : { maxDbBytes: options.maxDbBytes }),
      ...(options.walArchived ? { walArchived: true } : {}),
    };
    const { diskReserve } = options;
    this.reserve = diskReserve && new DiskReserve(diskReserve.path, diskReserve.bytes);
    this.reserve?.ensure();
  }

  static open(options: DatabaseOptions): Database {
    mkdirSync(dirname(options.path), { recursive: true });
    // WAL is a property of the file: set it once, before any pooled connection exists.
    const setup = openNative(options.path, options.queryTimeoutMs);
    try {
      if (options.heapLimitBytes !== undefined) {
        setup.exec(`PRAGMA hard_heap_limit = ${Math.floor(options.heapLimitBytes)}`);
      }
      setup.exec("PRAGMA journal_mode = WAL");
      return new Database(options, engineSandbox());
    } finally {
      setup.close();
    }
  }

  /**
   * A connection for a stream, pooled if one is idle (one of the same access first), with the
   * stream's last insert rowid. At most `maxConnections` exist: past that, a stream gets a
   * clear SQLITE_BUSY instead of making the process open connections until memory runs out.
   */
  acquire(readOnly: boolean, lastInsertRowid = 0n): Connection {
    if (this.closed) throw new Error("database is closed");
    let at = this.idle.length - 1;
    while (at >= 0 && this.idle[at]?.readOnly !== readOnly) at--;
    const conn = at >= 0 ? this.idle.splice(at, 1)[0] : (this.idle.pop() ?? this.openConnection());
    if (!conn) throw new Error("unreachable: no connection");
    conn.resetForNewStream(lastInsertRowid);
    conn.setReadOnly(readOnly);
    this.active.add(conn);
    return conn;
  }

  private openConnection(): Connection {
    if (this.active.size >= this.options.maxConnections) {
      throw new SqlError(
        "SQLITE_BUSY",
        `SQLite error: too many open transactions on this database (${this.options.maxConnections}); commit or roll back the ones you no longer need`,
        "SQLITE_BUSY",
      );
    }
    try {
      return new Connection(this.options.path, this.connectionSettings);
    } catch (err) {
      // The binding's message names the file's host path: log it, do not hand it out.
      log("error", "could not open a connection", { error: String(err) });
      throw new SqlError(
        "SQLITE_CANTOPEN",
        "SQLite error: could not open another connection to the database (the server is short of memory or file handles)",
        "SQLITE_CANTOPEN",
      );
    }
  }

  /** Opens one idle connection if there is none, so the next stream need not wait for it. */
  prewarm(): void {
    if (this.closed || this.idle.length > 0 || this.active.size > 0) return;
    try {
      this.idle.push(this.openConnection());
    } catch {
      // the first stream will try again, and report why
    }
  }

  /** Ends a stream's use of its connection; an open transaction is rolled back. */
  release(conn: Connection): void {
    if (!this.active.delete(conn)) return;
    const heldTransaction = !conn.isAutocommit;
    conn.rollback();
    if (conn.isReusable && this.idle.length < this.options.poolSize && !this.closed) {
      this.idle.push(conn);
    } else {
      conn.close();
    }
    if (heldTransaction) this.wakeLockWaiters();
  }

  /**
   * Runs `statement` on `conn`; if another connection holds the write lock (SQLITE_BUSY), waits
   * for it asynchronously and retries. A failed statement has no effect (SQLite rolls back the
   * statement), so retrying is safe. SQLITE_BUSY_SNAPSHOT is not retried: the transaction read
   * data that has changed since, and only the client can start over.
   */
  run<T>(conn: Connection, statement: () => T, freesSpace = false): T | Promise<T> {
    // The common case, synchronously: no promise, no tick. A statement that must wait for the
    // lock or get the disk reserve runs again on the slow path.
    const wasInTransaction = !conn.isAutocommit;
    try {
      const result = statement();
      if (!freesSpace) this.reserve?.ensure();
      return result;
    } catch (err) {
      const code = err instanceof SqlError ? err.code : undefined;
      const busy = err instanceof SqlError && err.extendedCode === "SQLITE_BUSY";
      if (busy || (freesSpace && code === "SQLITE_FULL")) {
        return this.runWaiting(conn, statement, freesSpace);
      }
      throw err;
    } finally {
      if (wasInTransaction && conn.isAutocommit) this.wakeLockWaiters();
    }
  }

  private async runWaiting<T>(
    conn: Connection,
    statement: () => T,
    freesSpace: boolean,
  ): Promise<T> {
    const started = performance.now();
    let reserveReleased = false;
    for (;;) {
      const wasInTransaction = !conn.isAutocommit;
      try {
        const result = statement();
        if (!freesSpace) this.reserve?.ensure();
        return result;
      } catch (err) {
        // A full disk must not make freeing space impossible: a statement that frees space
        // gets the reserve and one more try.
        if (
          freesSpace &&
          !reserveReleased &&
          err instanceof SqlError &&
          err.code === "SQLITE_FULL" &&
          this.reserve?.release()
        ) {
          reserveReleased = true;
          continue;
        }
        if (!(err instanceof SqlError) || err.extendedCode !== "SQLITE_BUSY") throw err;
        const waited = performance.now() - started;
        if (waited >= this.options.lockWaitTimeoutMs) {
          throw new SqlError(
            "SQLITE_BUSY",
            `SQLite error: database is locked (waited ${Math.round(waited)} ms for another transaction to finish)`,
            "SQLITE_BUSY",
          );
        }
        this.rollBackExpiredWriter(conn);
        await this.lockMaybeReleased(
          Math.min(LOCK_POLL_MS, this.options.lockWaitTimeoutMs - waited),
        );
      } finally {
        if (wasInTransaction && conn.isAutocommit) this.wakeLockWaiters();
      }
    }
  }

  /** TRANSACTION_TIMEOUT for the first request after this connection's forced rollback. */
  checkNotTimedOut(conn: Connection): void {
    if (conn.takeForcedRollback()) {
      throw new SqlError(StmtErrorCode.transactionTimeout, "Transaction timed out");
    }
  }

  /** Copies the WAL into the database file and truncates it (used on shutdown). */
  checkpoint(): void {
    const conn = openNative(this.options.path, this.options.queryTimeoutMs);
    try {
      conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      conn.close();
    }
  }

  /** Rolls back every open transaction and closes every connection. */
  close(): void {
    this.closed = true;
    this.watchdog?.stop();
    for (const conn of [...this.active]) this.release(conn);
    for (const conn of this.idle.splice(0)) conn.close();
  }

  get activeConnections(): number {
    return this.active.size;
  }

  /**
   * sqld's TXN_TIMEOUT: a writer kept waiting may take the lock from a transaction that has held
   * it longer than the timeout. Without this, one client that opens a transaction and goes away
   * (on a WebSocket, which never expires) would block every writer forever.
   */
  private rollBackExpiredWriter(waiting: Connection): void {
    const now = performance.now();
    for (const conn of this.active) {
      if (conn === waiting || conn.writeLockSince === undefined) continue;
      if (now - conn.writeLockSince >= this.options.transactionTimeoutMs) {
        conn.forceRollback();
        this.wakeLockWaiters();
      }
    }
  }

  private lockMaybeReleased(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, timeoutMs));
      this.lockWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeLockWaiters(): void {
    const waiters = this.lockWaiters;
    this.lockWaiters = [];
    for (const wake of waiters) wake();
  }
}
