import { analyzeSqlCached, isExplain, type StatementInfo } from "../../../core/sql/analyze";
import { sqlHash } from "../../../core/sql-hash";
import type { Connection, SqlValue, StatementResult } from "../engine/connection";
import type { Database } from "../engine/database";
import { SqlError, StmtErrorCode } from "../engine/errors";
import type { ResponseBudget } from "../engine/limits";
import { log, logEnabled } from "../log";
import { evalCond } from "./batch";
import { encodeCols, encodeRow, encodeStmtResult } from "./encode";
import { ProtocolError } from "./errors";
import type * as proto from "./proto";
import type { SqlStore } from "./sql-store";

/** Receives the outcome of each batch step, in order. */
interface BatchSink {
  ok(step: number, result: StatementResult): void;
  error(step: number, error: SqlError): void;
  skipped(step: number): void;
}

/**
 * One Hrana stream, executing requests strictly in order. It holds a connection only while a
 * request runs or while it needs that very connection afterwards (an open transaction, a temp
 * table, anything that leaves state on it); between requests a connection in autocommit goes
 * back to the pool, so an open stream costs a few objects, not a SQLite connection. The last
 * insert rowid results report is the stream's own, carried from connection to connection.
 * Transports (HTTP pipelines, WebSocket) decode requests, resolve auth and call in here; SQL
 * errors come out as SqlError.
 */
export class HranaStream {
  private conn: Connection | undefined;
  private lastInsertRowid = 0n;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Whether the current request's credentials only allow reading. */
  readOnly = false;

  /**
   * `ownsStore`: the store is this stream's alone (HTTP) and is cleared when it closes; a
   * WebSocket's streams share their connection's store, which the session clears.
   */
  constructor(
    private readonly db: Database,
    private readonly store: SqlStore,
    private readonly ownsStore = false,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests queued or running. */
  private pending = 0;

  /** Runs `op` after every request queued before it: a stream executes one request at a time. */
  enqueue<T>(op: () => Promise<T>): Promise<T> {
    this.pending++;
    const done = () => {
      this.pending--;
    };
    // Nothing queued (the usual case): start at once rather than a tick later.
    const result = this.pending === 1 ? startNow(op) : this.queue.then(op);
    const settled = result.then(done, done);
    this.queue = settled;
    return result;
  }

  /** Whether the stream keeps a connection between requests (an open transaction, or state). */
  get holdsConnection(): boolean {
    return this.conn !== undefined;
  }

  /** Handles a stream request; SqlError and ResponseError are the request's error result. */
  async handle(req: proto.StreamRequest, budget: ResponseBudget): Promise<proto.StreamResponse> {
    try {
      return await this.handleOne(req, budget);
    } finally {
      this.releaseIfIdle();
    }
  }

  /** Gives the connection back to the pool if the stream does not need it until its next request. */
  private releaseIfIdle(): void {
    const { conn } = this;
    if (!conn || this.closed || !conn.isReusable) return;
    this.lastInsertRowid = conn.lastRowid;
    this.conn = undefined;
    this.db.release(conn);
  }

  private async handleOne(
    req: proto.StreamRequest,
    budget: ResponseBudget,
  ): Promise<proto.StreamResponse> {
    if (this.closed) throw new ProtocolError("Stream for this baton was closed");
    switch (req.type) {
      case "close":
        this.close();
        return { type: "close" };
      case "execute":
        return { type: "execute", result: await this.execute(req.stmt, budget) };
      case "batch":
        return { type: "batch", result: await this.batch(req.batch, budget) };
      case "sequence":
        await this.sequence(this.store.resolve(req.source), budget);
        return { type: "sequence" };
      case "describe":
        return { type: "describe", result: this.describe(this.store.resolve(req.source)) };
      case "store_sql":
        this.store.store(req.sqlId, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        this.store.close(req.sqlId);
        return { type: "close_sql" };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: this.conn?.isAutocommit ?? true };
    }
  }

  async execute(stmt: proto.Stmt, budget: ResponseBudget): Promise<proto.StmtResult> {
    const conn = this.connection();
    this.db.checkNotTimedOut(conn);
    return encodeStmtResult(await this.runStmt(conn, stmt, budget));
  }

  async batch(batch: proto.Batch, budget: ResponseBudget): Promise<proto.BatchResult> {
    const stepResults: Array<proto.StmtResult | null> = [];
    const stepErrors: Array<proto.Error | null> = [];
    await this.runBatch(batch, budget, {
      ok: (_, result) => {
        stepResults.push(encodeStmtResult(result));
        stepErrors.push(null);
      },
      error: (_, error) => {
        stepResults.push(null);
        stepErrors.push(errorOf(error));
      },
      skipped: () => {
        stepResults.push(null);
        stepErrors.push(null);
      },
    });
    return { step_results: stepResults, step_errors: stepErrors };
  }

  /** A Hrana 3 cursor: the batch's results as a flat list of entries. */
  async cursor(batch: proto.Batch, budget: ResponseBudget): Promise<proto.CursorEntry[]> {
    const entries: proto.CursorEntry[] = [];
    try {
      await this.runBatch(batch, budget, {
        ok: (step, result) => {
          entries.push({ type: "step_begin", step, cols: encodeCols(result.columns) });
          for (const row of result.rows) entries.push({ type: "row", row: encodeRow(row) });
          entries.push({
            type: "step_end",
            affected_row_count: result.affectedRowCount,
            last_insert_rowid: result.lastInsertRowid.toString(),
          });
        },
        error: (step, error) => entries.push({ type: "step_error", step, error: errorOf(error) }),
        skipped: () => {},
      });
    } catch (err) {
      if (!(err instanceof SqlError)) throw err;
      entries.push({ type: "error", error: errorOf(err) });
    }
    return entries;
  }

  /** Several statements separated by semicolons, no rows, stopping at the first error. */
  async sequence(sql: string, budget: ResponseBudget): Promise<void> {
    const conn = this.connection();
    this.db.checkNotTimedOut(conn);
    for (const info of analyzeSqlCached(sql)) {
      try {
        const result = await this.db.run(
          conn,
          () => conn.execute(info, [], false, budget),
          conn.freesSpace(info),
        );
        this.db.usage.statement(result.rows.length, result.affectedRowCount);
      } catch (err) {
        this.db.usage.failed();
        throw err;
      }
    }
  }

  describe(sql: string): proto.DescribeResult {
    const conn = this.connection();
    const info = singleStatement(sql);
    const params = Array.from({ length: info.params.count }, (_, i) => ({
      name: info.params.names.get(i + 1) ?? null,
    }));
    return {
      params,
      cols: conn.describeColumns(info),
      is_explain: isExplain(info),
      is_readonly: conn.isReadonlyStatement(info),
    };
  }

  /**
   * Ends the stream: requests not yet started fail, the one in flight (if any) finishes, then
   * the connection goes back to the pool and an open transaction is rolled back. To close
   * after queued requests instead, enqueue the close.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Requests still queued fail on `closed` before they could resolve a text.
    if (this.ownsStore) this.store.clear();
    const release = () => {
      if (this.conn) this.db.release(this.conn);
      this.conn = undefined;
    };
    // Nothing in flight (an idle stream expiring): no request to wait for.
    if (this.pending === 0) release();
    else void this.queue.then(release);
  }

  private connection(): Connection {
    if (this.closed) throw new ProtocolError("Stream for this baton was closed");
    this.conn ??= this.db.acquire(this.readOnly, this.lastInsertRowid);
    this.conn.setReadOnly(this.readOnly);
    return this.conn;
  }

  private async runStmt(
    conn: Connection,
    stmt: proto.Stmt,
    budget: ResponseBudget,
  ): Promise<StatementResult> {
    const usage = this.db.usage;
    try {
      const info = singleStatement(this.store.resolve(stmt.source));
      const args = bindArgs(info, stmt);
      const result = await this.db.run(
        conn,
        () => {
          // The stream may have been closed (client gone) while this statement waited for the lock.
          if (this.closed)
            throw new SqlError("SQLITE_ABORT", "SQLite error: the stream was closed");
          return conn.execute(info, args, stmt.wantRows, budget);
        },
        conn.freesSpace(info),
      );
      usage.statement(result.rows.length, result.affectedRowCount);
      if (logEnabled("debug")) logStatement(this.sqlOf(stmt), "ok", result);
      return result;
    } catch (err) {
      usage.failed();
      if (logEnabled("debug"))
        logStatement(this.sqlOf(stmt), (err as { code?: string }).code ?? "error");
      throw err;
    }
  }

  /** The statement's SQL text, if it can be had (a stored id may be gone). */
  private sqlOf(stmt: proto.Stmt): string | undefined {
    try {
      return this.store.resolve(stmt.source);
    } catch {
      return undefined;
    }
  }

  private async runBatch(
    batch: proto.Batch,
    budget: ResponseBudget,
    sink: BatchSink,
  ): Promise<void> {
    const conn = this.connection();
    const timedOut = conn.takeForcedRollback();
    const succeeded: boolean[] = [];
    for (const [i, step] of batch.steps.entries()) {
      if (step.condition && !evalCond(step.condition, succeeded, conn.isAutocommit)) {
        succeeded.push(false);
        sink.skipped(i);
        continue;
      }
      try {
        if (timedOut) throw new SqlError(StmtErrorCode.transactionTimeout, "Transaction timed out");
        sink.ok(i, await this.runStmt(conn, step.stmt, budget));
        succeeded.push(true);
      } catch (err) {
        // sqld stops the whole batch when the response grows too large.
        if (!(err instanceof SqlError) || err.code === StmtErrorCode.responseTooLarge) throw err;
        sink.error(i, err);
        succeeded.push(false);
      }
    }
  }
}

/** A statement at debug level: its SQL's hash, never its text or values. */
function logStatement(sql: string | undefined, outcome: string, result?: StatementResult): void {
  log("debug", "statement", {
    ...(sql === undefined ? {} : { sqlHash: sqlHash(sql) }),
    outcome,
    ...(result
      ? {
          durationMs: result.durationMs,
          rows: result.rows.length,
          rowsWritten: result.affectedRowCount,
        }
      : {}),
  });
}

function startNow<T>(op: () => Promise<T>): Promise<T> {
  try {
    return op();
  } catch (err) {
    return Promise.reject(err);
  }
}

export function errorOf(err: SqlError | { code: string; message: string }): proto.Error {
  return { message: err.message, code: err.code };
}

/** A Stmt holds exactly one statement (sqld: SQL_NO_STATEMENT / SQL_MANY_STATEMENTS). */
function singleStatement(sql: string): StatementInfo {
  const statements = analyzeSqlCached(sql);
  const [first] = statements;
  if (!first)
    throw new SqlError(StmtErrorCode.noStatement, "SQL string does not contain any statement");
  if (statements.length > 1) {
    throw new SqlError(StmtErrorCode.manyStatements, "SQL string contains more than one statement");
  }
  return first;
}

/**
 * Positional arguments bind parameters 1..n in order. Named arguments bind by name, with or
 * without the `:`/`@`/`$` prefix; parameters left unbound are NULL, as in SQLite.
 */
function bindArgs(info: StatementInfo, stmt: proto.Stmt): SqlValue[] {
  if (stmt.namedArgs.length === 0) {
    if (stmt.args.length > info.params.count) {
      throw new SqlError(
        StmtErrorCode.argsInvalid,
        `Arguments do not match SQL parameters: the statement has ${info.params.count} parameters, but ${stmt.args.length} arguments were given`,
      );
    }
    return stmt.args;
  }
  if (stmt.args.length > 0) {
    throw new SqlError(
      StmtErrorCode.argsBoth,
      "Specifying both positional and named arguments is not supported",
    );
  }
  const named = new Map(stmt.namedArgs.map((arg) => [arg.name, arg.value]));
  const values: SqlValue[] = new Array(info.params.count).fill(null);
  for (const [index, name] of info.params.names) {
    const value = named.get(name) ?? named.get(name.slice(1));
    if (value !== undefined) values[index - 1] = value;
  }
  return values;
}
