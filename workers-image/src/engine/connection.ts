import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { isPureQuery, leavesConnectionState, type StatementInfo } from "../../../core/sql/analyze";
import {
  type NativeDatabase,
  type NativeStatement,
  type NativeValue,
  openNative,
} from "../../../core/sqlite";
import type { Sandbox } from "../sandbox/authorizer";
import { checkPragma } from "../sandbox/pragma";
import { refusalMessage } from "../sandbox/refusal";
import { screenStatement } from "../sandbox/screen";
import { toSqlError } from "./errors";
import { type ResponseBudget, valueSize } from "./limits";
import { atMostOneRow } from "./single-row";
import type { QueryWatchdog } from "./watchdog";

export type SqlValue = NativeValue;

export interface ColumnInfo {
  name: string;
  decltype: string | null;
}

export interface StatementResult {
  columns: ColumnInfo[];
  rows: SqlValue[][];
  affectedRowCount: number;
  lastInsertRowid: bigint;
  durationMs: number;
}

const STATEMENT_CACHE_SIZE = 128;
/**
 * Statements longer than this are prepared each time, and the cache holds at most
 * STATEMENT_CACHE_CHARS of SQL text: bulk INSERTs with their values inlined are rarely sent
 * twice, and 128 of them per connection held a worker's whole heap (it ran out and crashed).
 */
const STATEMENT_CACHE_MAX_SQL = 8 * 1024;
const STATEMENT_CACHE_CHARS = 256 * 1024;

/** Free disk space above which a SQLITE_FULL cannot be the disk's (see quotaReached). */
const DISK_HEADROOM_BYTES = 64 * 1024 * 1024;

/**
 * What every connection of one database shares. `schema.generation` counts the schema changes
 * that became visible to new transactions: a statement in autocommit that changed the schema,
 * the end of a transaction that did. What connections cache of a prepared statement is good for
 * the generation it was read at (SQLite re-prepares a statement after a schema change, and
 * `SELECT *` may then have other columns). Every change goes through this process: one worker
 * per database.
 */
export interface ConnectionSettings {
  queryTimeoutMs: number;
  synchronous: string;
  sandbox: Sandbox;
  /** Where the engine cannot interrupt statements: ends the process past the timeout. */
  watchdog?: QueryWatchdog;
  schema: { generation: number };
  /** The database's quota in bytes (PRAGMA max_page_count), if it has one. */
  maxDbBytes?: number;
  /** The WAL is archived (./wal-archiver.ts): no automatic checkpoints, none by clients. */
  walArchived?: boolean;
}

/** A prepared statement and what is known of it, good for one schema generation. */
interface Prepared {
  statement: NativeStatement;
  /** Whether it returns rows at all: a statement's kind never changes. */
  returnsRows: boolean;
  columns: ColumnInfo[];
  /** A query the binding's one-row call can serve (see ./single-row.ts); decided on its second run. */
  oneRow: boolean;
  /** The schema generation `columns` and `oneRow` were read at (see Connection.snapshot). */
  stamp: number;
  /** Runs so far. */
  runs: number;
  /** The connection's use count when it last ran: the least recently used is evicted. */
  lastUse: number;
}

/** No generation: a connection inside its own schema change, which nothing else sees yet. */
const UNCACHEABLE = -1;

/** Statements that may change the schema (also by ending a transaction that changed it). */
const SCHEMA_KEYWORDS = new Set(["CREATE", "DROP", "ALTER"]);

/** Statements that only ever free space in the database. */
const FREEING_KEYWORDS = new Set(["DELETE", "DROP", "VACUUM"]);
/** Statements that neither free nor take space themselves. */
const NEUTRAL_KEYWORDS = new Set([
  "SELECT",
  "VALUES",
  "EXPLAIN",
  "BEGIN",
  "SAVEPOINT",
  "RELEASE",
  "COMMIT",
  "END",
  "ROLLBACK",
]);
const COMMITTING_KEYWORDS = new Set(["COMMIT", "END", "RELEASE"]);

const INSERTING_KEYWORDS = new Set(["INSERT", "REPLACE", "WITH"]);

/** One SQLite connection to the worker's database file, used by one Hrana stream at a time. */
export class Connection {
  private readonly db: NativeDatabase;
  /**
   * Prepared statements by SQL text. A hit only stamps `lastUse` (moving the entry to the
   * end of the Map on every run made V8 rebuild its table every few requests).
   */
  private readonly statements = new Map<string, Prepared>();
  private uses = 0;
  /** The length of all SQL texts in `statements`. */
  private cachedChars = 0;
  /** Whether the open transaction ran a schema statement (its end changes the schema again). */
  private schemaChangeInTransaction = false;
  /**
   * The schema generation this connection's statements see: taken when a statement starts in
   * autocommit (its snapshot, or that of the transaction it begins, is at least that recent;
   * a later commit moves the generation on, so nothing read in an older snapshot is trusted
   * afterwards), UNCACHEABLE inside a transaction that changed the schema itself.
   */
  private snapshot = UNCACHEABLE;
  /** Read-only connections (tokens with `a: "ro"`) fail every write with SQLITE_READONLY. */
  private readOnlyMode = false;
  /** See trackReadOnlyTransaction. */
  private readOnlyTransaction = false;
  /** PRAGMA query_only as last set. */
  private queryOnly = false;
  /** Set once a statement changed connection state that must not leak to another stream. */
  private tainted = false;
  /** sqld reports the connection's last insert rowid with every result. */
  private lastInsertRowid = 0n;
  /**
   * When this connection's transaction (probably) took the write lock. An approximation: any
   * statement other than a pure query inside a transaction counts.
   */
  writeLockSince: number | undefined;
  /** Set when another writer rolled this connection's transaction back after TXN_TIMEOUT. */
  private forcedRollback = false;
  /** Whether the open transaction has only freed space so far (see freesSpace). */
  private transactionOnlyFrees = false;

  readonly queryTimeoutMs: number;
  private readonly sandbox: Sandbox;
  /** PRAGMA max_page_count as set from the quota; undefined without one. */
  private maxPages: number | undefined;

  constructor(
    private readonly path: string,
    private readonly settings: ConnectionSettings,
  ) {
    this.queryTimeoutMs = settings.queryTimeoutMs;
    this.sandbox = settings.sandbox;
    this.db = openNative(path, settings.queryTimeoutMs);
    // Set before the sandbox is installed: clients can neither read nor change the last two.
    // trusted_schema=OFF: views, triggers, CHECK and DEFAULT expressions may only call
    // innocuous functions, so a trigger planted by one token cannot run a dangerous function
    // under another. cell_size_check: extra checks against corrupt (e.g. imported) files.
    this.db.exec(
      `PRAGMA synchronous = ${settings.synchronous}; PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON`,
    );
    if (settings.walArchived) this.db.exec("PRAGMA wal_autocheckpoint = 0");
    if (settings.maxDbBytes !== undefined) {
      // A managed pragma: clients can read it, not change it. SQLite never sets it below the
      // file's current size, so a lowered quota stops growth without breaking the file.
      const pageSize = Number(this.db.prepare("PRAGMA page_size").raw(true).get()?.[0]) || 4096;
      this.maxPages = Math.max(1, Math.floor(settings.maxDbBytes / pageSize));
      this.db.exec(`PRAGMA max_page_count = ${this.maxPages}`);
    }
    this.db.authorizer(settings.sandbox.authorizer);
  }

  /**
   * Whether no transaction is open, as last asked of SQLite: only statements and ROLLBACK on
   * this connection (all of them run here) change it, so it is asked again only after one.
   */
  private autocommit: boolean | undefined;

  get isAutocommit(): boolean {
    this.autocommit ??= !this.db.inTransaction;
    return this.autocommit;
  }

  /** Whether the connection can serve another stream (no transaction, no leftover state). */
  get isReusable(): boolean {
    return this.isAutocommit && !this.tainted;
  }

  /** Called when a stream takes the connection: results start from a fresh connection's view. */
  resetForNewStream(lastInsertRowid = 0n): void {
    this.lastInsertRowid = lastInsertRowid;
  }

  /** What results report as the last insert rowid (the stream's, carried across connections). */
  get lastRowid(): bigint {
    return this.lastInsertRowid;
  }

  get readOnly(): boolean {
    return this.readOnlyMode;
  }

  /** Inside `BEGIN TRANSACTION READONLY` (libSQL's read-only transaction), until it ends. */
  get inReadOnlyTransaction(): boolean {
    return this.readOnlyTransaction;
  }

  setReadOnly(readOnly: boolean): void {
    if (readOnly === this.readOnlyMode) return;
    this.readOnlyMode = readOnly;
    this.applyQueryOnly();
  }

  /** query_only as the token's access and the transaction's kind want it. */
  private applyQueryOnly(): void {
    const on = this.readOnlyMode || this.readOnlyTransaction;
    if (on === this.queryOnly) return;
    // query_only is denied to clients by the sandbox, so lift it for this one statement.
    this.db.authorizer(null);
    try {
      this.db.exec(`PRAGMA query_only = ${on ? 1 : 0}`);
    } finally {
      this.db.authorizer(this.sandbox.authorizer);
    }
    this.queryOnly = on;
  }

  /**
   * `BEGIN TRANSACTION READONLY` is SQLite's plain BEGIN (READONLY is taken for the
   * transaction's name): the connection itself refuses writes until the transaction ends, as
   * sqld does.
   */
  private trackReadOnlyTransaction(stmt: StatementInfo): void {
    if (this.readOnlyTransaction) {
      if (this.isAutocommit) {
        this.readOnlyTransaction = false;
        this.applyQueryOnly();
      }
    } else if (isReadOnlyBegin(stmt) && !this.isAutocommit) {
      this.readOnlyTransaction = true;
      this.applyQueryOnly();
    }
  }

  /**
   * Rolls back a transaction that held the write lock too long while another writer waited.
   * The stream learns about it on its next request (see takeForcedRollback).
   */
  forceRollback(): void {
    this.rollback();
    this.forcedRollback = true;
  }

  /** True once after forceRollback(): that request fails with TRANSACTION_TIMEOUT. */
  takeForcedRollback(): boolean {
    const forced = this.forcedRollback;
    this.forcedRollback = false;
    return forced;
  }

  /**
   * Whether `stmt` only frees space: DELETE, DROP, VACUUM, or committing a transaction that did
   * nothing else. Such a statement may use the disk reserve when the disk is full.
   */
  freesSpace(stmt: StatementInfo): boolean {
    const first = stmt.keywords[0] ?? "";
    if (FREEING_KEYWORDS.has(first)) return true;
    return COMMITTING_KEYWORDS.has(first) && !this.isAutocommit && this.transactionOnlyFrees;
  }

  execute(
    stmt: StatementInfo,
    args: SqlValue[],
    wantRows: boolean,
    budget: ResponseBudget,
  ): StatementResult {
    const started = performance.now();
    const first = stmt.keywords[0] ?? "";
    if (this.isAutocommit) this.transactionOnlyFrees = true;
    if (!FREEING_KEYWORDS.has(first) && !NEUTRAL_KEYWORDS.has(first)) {
      this.transactionOnlyFrees = false;
    }
    if (this.isAutocommit) this.snapshot = this.settings.schema.generation;
    try {
      this.screen(stmt);
      const run = () => this.executeChecked(stmt, args, wantRows, budget, started);
      const { watchdog } = this.settings;
      return watchdog ? watchdog.run(this.queryTimeoutMs, run) : run();
    } catch (err) {
      throw toSqlError(err, stmt, this);
    } finally {
      this.trackSchema(first);
      this.trackWriteLock(stmt);
      this.trackReadOnlyTransaction(stmt);
    }
  }

  /** Moves the schema generation on when `first` (a statement's first keyword) changed the schema. */
  private trackSchema(first: string): void {
    if (SCHEMA_KEYWORDS.has(first)) {
      if (this.isAutocommit) this.settings.schema.generation++;
      else {
        this.schemaChangeInTransaction = true;
        this.snapshot = UNCACHEABLE;
      }
    } else if (this.schemaChangeInTransaction && this.isAutocommit) {
      this.transactionEnded();
    }
  }

  /** The open transaction ended (committed or rolled back); its schema changes took effect or were undone. */
  private transactionEnded(): void {
    if (!this.schemaChangeInTransaction) return;
    this.schemaChangeInTransaction = false;
    this.snapshot = UNCACHEABLE;
    this.settings.schema.generation++;
  }

  /** The statement itself, once the sandbox let it through. */
  private executeChecked(
    stmt: StatementInfo,
    args: SqlValue[],
    wantRows: boolean,
    budget: ResponseBudget,
    started: number,
  ): StatementResult {
    const cached = this.prepare(stmt.sql);
    const { statement: prepared } = cached;
    const stale = cached.stamp !== this.snapshot || this.snapshot === UNCACHEABLE;
    // The one-row check costs an EXPLAIN: only for statements that run more than once.
    if (stale) cached.oneRow = false;
    if ((stale || cached.runs === 1) && cached.runs > 0 && cached.returnsRows) {
      cached.oneRow = this.servesOneRow(stmt);
    }
    cached.runs++;
    this.autocommit = undefined;
    let rows: SqlValue[][] = [];
    let affectedRowCount: number;
    let insertedRowid: bigint | undefined;
    if (!cached.returnsRows || !wantRows) {
      const run = prepared.run(args);
      affectedRowCount = run.changes;
      if (run.changes > 0) insertedRowid = this.exactRowid(run.lastInsertRowid);
    } else if (isPureQuery(stmt)) {
      rows = cached.oneRow ? firstRow(prepared, args, budget) : collectRows(prepared, args, budget);
      affectedRowCount = 0;
    } else {
      // INSERT ... RETURNING, PRAGMA, WITH ...: the binding gives no change count for
      // statements that return rows, so measure it on the connection.
      const before = this.totalChanges();
      rows = collectRows(prepared, args, budget);
      affectedRowCount = Number(this.totalChanges() - before);
      if (affectedRowCount > 0) insertedRowid = this.queryLastInsertRowid();
    }
    // Read after the run: SQLite re-prepares a statement on its first step after a schema
    // change, and until then reports the old columns.
    if (stale) {
      cached.columns = columnsOf(prepared);
      cached.stamp = this.snapshot;
    }
    if (insertedRowid !== undefined && INSERTING_KEYWORDS.has(stmt.keywords[0] ?? "")) {
      this.lastInsertRowid = insertedRowid;
    }
    if (leavesConnectionState(stmt)) this.tainted = true;
    return {
      columns: cached.columns,
      rows,
      affectedRowCount,
      lastInsertRowid: this.lastInsertRowid,
      durationMs: performance.now() - started,
    };
  }

  private trackWriteLock(stmt: StatementInfo): void {
    if (this.isAutocommit) this.writeLockSince = undefined;
    else if (this.writeLockSince === undefined && !isPureQuery(stmt)) {
      this.writeLockSince = performance.now();
    }
  }

  /** Column names and types without running the statement. */
  describeColumns(stmt: StatementInfo): ColumnInfo[] {
    try {
      this.screen(stmt);
      // Not run, so a statement prepared before a schema change cannot say: prepare it anew.
      const cached = this.prepare(stmt.sql);
      if (this.isAutocommit) this.snapshot = this.settings.schema.generation;
      if (cached.stamp === this.snapshot && this.snapshot !== UNCACHEABLE) return cached.columns;
      this.uncache(stmt.sql);
      return this.prepare(stmt.sql).columns;
    } catch (err) {
      throw toSqlError(err, stmt, this);
    }
  }

  /**
   * sqlite3_stmt_readonly(), read from the statement's bytecode: a statement writes when it
   * opens a write transaction or is VACUUM / a journal-mode change.
   */
  isReadonlyStatement(stmt: StatementInfo): boolean {
    if (stmt.keywords[0] === "EXPLAIN") return true;
    try {
      this.screen(stmt);
      for (const [, opcode, , p2] of this.explain(stmt.sql)) {
        if (opcode === "Transaction" && p2 !== 0n && p2 !== 0) return false;
        if (opcode === "Vacuum" || opcode === "JournalMode") return false;
      }
      return true;
    } catch (err) {
      throw toSqlError(err, stmt, this);
    }
  }

  /** Rolls back any open transaction; used when a stream ends or its transaction times out. */
  rollback(): void {
    this.writeLockSince = undefined;
    if (this.isAutocommit) return;
    try {
      this.autocommit = undefined;
      this.db.exec("ROLLBACK");
    } catch {
      // SQLite rolls back anyway when the connection closes; make sure it does.
      this.tainted = true;
    }
    this.transactionEnded();
    if (this.readOnlyTransaction) {
      this.readOnlyTransaction = false;
      this.applyQueryOnly();
    }
  }

  close(): void {
    this.statements.clear();
    this.cachedChars = 0;
    this.db.close();
    // Closing rolls back an open transaction, and its schema changes with it.
    this.transactionEnded();
  }

  /**
   * The sandbox's checks that come before SQLite prepares a statement: pragmas (they depend on
   * the connection's access), and the screen where the engine has no authorizer (once per SQL
   * text: a cached statement passed it).
   */
  private screen(stmt: StatementInfo): void {
    checkPragma(stmt, this.readOnlyMode, this.settings.walArchived);
    if (this.sandbox.screens && !this.statements.has(stmt.sql)) screenStatement(stmt, this.sandbox);
  }

  /**
   * Whether a SQLITE_FULL just now was the quota: the file is at its page limit, or the disk has
   * room to spare (a full disk leaves next to none, the failed write's WAL frames included).
   */
  quotaReached(): number | undefined {
    const quota = this.settings.maxDbBytes;
    if (quota === undefined || this.maxPages === undefined) return undefined;
    try {
      const pages = Number(this.db.prepare("PRAGMA page_count").raw(true).get()?.[0]);
      if (pages >= this.maxPages) return quota;
      const disk = statfsSync(dirname(this.path));
      return disk.bavail * disk.bsize > DISK_HEADROOM_BYTES ? quota : undefined;
    } catch {
      return undefined;
    }
  }

  /** What an authorizer refusal of `stmt` means, for the error message (see toSqlError). */
  describeRefusal(stmt: StatementInfo | undefined): string {
    return refusalMessage(stmt, this.sandbox.unreadableModules);
  }

  private prepare(sql: string): Prepared {
    const cached = this.statements.get(sql);
    if (cached) {
      cached.lastUse = ++this.uses;
      return cached;
    }
    const statement = this.db.prepare(sql);
    const columns = columnsOf(statement);
    if (columns.length > 0) statement.raw(true);
    // Unstamped: the first run reads what it needs (see executeChecked).
    const prepared: Prepared = {
      statement,
      returnsRows: columns.length > 0,
      columns,
      oneRow: false,
      stamp: UNCACHEABLE,
      runs: 0,
      lastUse: ++this.uses,
    };
    if (sql.length > STATEMENT_CACHE_MAX_SQL) return prepared;
    while (
      this.statements.size > 0 &&
      (this.statements.size >= STATEMENT_CACHE_SIZE ||
        this.cachedChars + sql.length > STATEMENT_CACHE_CHARS)
    ) {
      this.evictLeastRecentlyUsed();
    }
    this.statements.set(sql, prepared);
    this.cachedChars += sql.length;
    return prepared;
  }

  /** A walk of at most STATEMENT_CACHE_SIZE entries, only when a new statement is cached. */
  private evictLeastRecentlyUsed(): void {
    let oldest: string | undefined;
    let oldestUse = Number.POSITIVE_INFINITY;
    for (const [sql, prepared] of this.statements) {
      if (prepared.lastUse < oldestUse) {
        oldest = sql;
        oldestUse = prepared.lastUse;
      }
    }
    if (oldest !== undefined) this.uncache(oldest);
  }

  private uncache(sql: string): void {
    if (this.statements.delete(sql)) this.cachedChars -= sql.length;
  }

  /** Whether a query's program returns at most one row (./single-row.ts). */
  private servesOneRow(stmt: StatementInfo): boolean {
    // An EXPLAIN has no program of its own to read (EXPLAIN EXPLAIN is a syntax error).
    if (!isPureQuery(stmt) || stmt.keywords[0] === "EXPLAIN") return false;
    const program = this.explain(stmt.sql).map(([addr, opcode, , p2]) => ({
      addr: Number(addr),
      opcode: String(opcode),
      p2: Number(p2),
    }));
    return atMostOneRow(program);
  }

  /**
   * A statement's program (EXPLAIN), read to the end. The EXPLAIN statement is then reset with
   * one more (side-effect free) run: the stable binding otherwise keeps the connection on the
   * snapshot it read, so it would not see later commits.
   */
  private explain(sql: string): NativeValue[][] {
    const statement = this.db.prepare(`EXPLAIN ${sql}`).raw(true);
    const program = [...statement.iterate()];
    statement.get();
    return program;
  }

  private totalChanges(): bigint {
    return this.scalar("SELECT total_changes()");
  }

  private queryLastInsertRowid(): bigint {
    return this.scalar("SELECT last_insert_rowid()");
  }

  private exactRowid(rowid: number): bigint {
    return Number.isSafeInteger(rowid) ? BigInt(rowid) : this.queryLastInsertRowid();
  }

  private scalar(sql: string): bigint {
    const iterator = this.prepare(sql).statement.iterate();
    try {
      const first = iterator.next();
      return first.done ? 0n : BigInt(first.value[0] as bigint);
    } finally {
      iterator.return?.();
    }
  }
}

function columnsOf(prepared: NativeStatement): ColumnInfo[] {
  return prepared.columns().map((c) => ({ name: c.name, decltype: c.type }));
}

/** BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION] READONLY */
function isReadOnlyBegin(stmt: StatementInfo): boolean {
  return stmt.keywords[0] === "BEGIN" && stmt.keywords.slice(1, 4).includes("READONLY");
}

function firstRow(
  prepared: NativeStatement,
  args: SqlValue[],
  budget: ResponseBudget,
): SqlValue[][] {
  const row = prepared.get(args);
  if (!row) return [];
  let size = 0;
  for (const value of row) size += valueSize(value);
  budget.charge(size);
  return [row];
}

function collectRows(
  prepared: NativeStatement,
  args: SqlValue[],
  budget: ResponseBudget,
): SqlValue[][] {
  const rows: SqlValue[][] = [];
  const iterator = prepared.iterate(args);
  try {
    for (const row of iterator) {
      let size = 0;
      for (const value of row) size += valueSize(value);
      budget.charge(size);
      rows.push(row);
    }
  } finally {
    iterator.return?.();
  }
  return rows;
}
