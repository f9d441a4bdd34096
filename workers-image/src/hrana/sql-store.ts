import { ProtocolError, ResponseError } from "./errors";
import type { SqlSource } from "./proto";

/**
 * SQL texts stored with store_sql and referenced by id. Scope: one stream over HTTP, the whole
 * connection over a WebSocket. Limits are sqld's.
 */
export class SqlStore {
  private readonly texts = new Map<number, string>();

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  store(id: number, sql: string): void {
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
    this.texts.set(id, sql);
  }

  /** Closing an unknown id is not an error. */
  close(id: number): void {
    this.texts.delete(id);
  }

  resolve(source: SqlSource): string {
    if ("sql" in source) return source.sql;
    const sql = this.texts.get(source.sqlId);
    if (sql === undefined) throw new ProtocolError(`SQL text ${source.sqlId} not found`);
    return sql;
  }
}

/** sqld: 50 texts of at most 5 KB per HTTP stream. */
export const httpSqlStore = (): SqlStore => new SqlStore(50, 5000);
/** sqld: 150 texts per WebSocket connection, without a size limit. */
export const wsSqlStore = (): SqlStore => new SqlStore(150, Number.POSITIVE_INFINITY);
