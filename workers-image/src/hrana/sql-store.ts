import { ProtocolError, ResponseError } from "./errors";
import type { SqlSource } from "./proto";

/**
 * What a stored text costs the worker's heap beyond its characters: the Map entry, the string's
 * header and its id. A guess on the safe side; it keeps a flood of tiny texts bounded too.
 */
const ENTRY_BYTES = 128;

/** What one text costs: JavaScript strings take up to 2 bytes per UTF-16 code unit. */
const costOf = (sql: string) => 2 * sql.length + ENTRY_BYTES;

/**
 * The memory every SQL store of the worker may hold together. sqld's limits are per stream (50
 * texts of 5 KB over HTTP) and per WebSocket (150 texts of any size), which leaves a worker
 * unbounded: 4,096 open HTTP streams full of texts are 1 GB, a WebSocket's 150 texts as many as
 * its messages carry. Past the budget store_sql fails (SQL_STORE_TOO_MANY) and the worker
 * serves on; closing texts, streams or sockets gives their share back.
 */
export class StoredSqlBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Takes `bytes`, or throws the client's error when they do not fit. */
  take(bytes: number): void {
    if (bytes > this.maxBytes) {
      throw new ResponseError(
        "SQL_STORE_TOO_LARGE",
        `The statement is too large to be stored: it needs ${bytes} bytes of the server's ${this.maxBytes} for stored SQL`,
      );
    }
    if (this.used + bytes > this.maxBytes) {
      throw new ResponseError(
        "SQL_STORE_TOO_MANY",
        `The server's stored SQL texts already fill ${this.used} of its ${this.maxBytes} bytes; close some (close_sql) or the streams that hold them`,
      );
    }
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/**
 * SQL texts stored with store_sql and referenced by id. Scope: one stream over HTTP, the whole
 * connection over a WebSocket. Limits are sqld's, within the worker's budget. Whoever owns the
 * store calls clear() when its scope ends, or the budget stays taken.
 */
export class SqlStore {
  /** Made on the first text: most streams store none, and every HTTP request makes a stream. */
  private texts: Map<number, string> | undefined;

  constructor(
    private readonly budget: StoredSqlBudget,
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  store(id: number, sql: string): void {
    this.texts ??= new Map();
    if (this.texts.has(id)) throw new ProtocolError(`SQL text ${id} already exists`);
    if (this.texts.size >= this.maxCount) {
      throw new ResponseError(
        "SQL_STORE_TOO_MANY",
        `The server already stores ${this.texts.size} SQL texts, it cannot store more`,
      );
    }
    const bytes = Buffer.byteLength(sql);
    if (bytes > this.maxBytes) {
      throw new ResponseError(
        "SQL_STORE_TOO_LARGE",
        `The statement is too large to be stored: ${bytes}/${this.maxBytes} bytes`,
      );
    }
    this.budget.take(costOf(sql));
    this.texts.set(id, sql);
  }

  /** Closing an unknown id is not an error. */
  close(id: number): void {
    const sql = this.texts?.get(id);
    if (sql === undefined) return;
    this.texts?.delete(id);
    this.budget.give(costOf(sql));
  }

  /** Forgets every text (the stream or socket is gone) and gives their budget back. */
  clear(): void {
    if (!this.texts) return;
    for (const sql of this.texts.values()) this.budget.give(costOf(sql));
    this.texts = undefined;
  }

  resolve(source: SqlSource): string {
    if ("sql" in source) return source.sql;
    const sql = this.texts?.get(source.sqlId);
    if (sql === undefined) throw new ProtocolError(`SQL text ${source.sqlId} not found`);
    return sql;
  }
}

/** sqld: 50 texts of at most 5 KB per HTTP stream. */
export const httpSqlStore = (budget: StoredSqlBudget): SqlStore => new SqlStore(budget, 50, 5000);
/** sqld: 150 texts per WebSocket connection, without a size limit (the budget is one). */
export const wsSqlStore = (budget: StoredSqlBudget): SqlStore =>
  new SqlStore(budget, 150, Number.POSITIVE_INFINITY);
