import { QUOTA_MESSAGE_MARK } from "../../../core/quota";
import type { StatementInfo } from "../../../core/sql/analyze";
import { refusalReason } from "../sandbox/surface";

/**
 * An error in executing one SQL statement. `code` is what Hrana clients see as `error.code`:
 * SQLite's *base* result code name (SQLITE_CONSTRAINT, never SQLITE_CONSTRAINT_UNIQUE), as sqld
 * reports it, or one of sqld's statement error codes (SQL_PARSE_ERROR, ARGS_INVALID, ...).
 */
export class SqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** SQLite's extended result code name, when SQLite produced the error. */
    readonly extendedCode?: string,
  ) {
    super(message);
    this.name = "SqlError";
  }
}

/** Codes of errors that the server produces itself, not SQLite. Same names as sqld's. */
export const StmtErrorCode = {
  parse: "SQL_PARSE_ERROR",
  noStatement: "SQL_NO_STATEMENT",
  manyStatements: "SQL_MANY_STATEMENTS",
  argsInvalid: "ARGS_INVALID",
  argsBoth: "ARGS_BOTH_POSITIONAL_AND_NAMED",
  responseTooLarge: "RESPONSE_TOO_LARGE",
  transactionTimeout: "TRANSACTION_TIMEOUT",
} as const;

interface NativeSqliteError {
  code: string;
  message: string;
}

/** A SQLite error from either engine's binding: an Error with SQLite's result code name. */
function asNativeSqliteError(err: unknown): NativeSqliteError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("SQLITE_")) return { code, message: err.message };
  return undefined;
}

const SYNTAX_ERROR = /syntax error|unrecognized token|incomplete input/;

/** What the connection knows that makes an error message clearer. */
export interface ErrorContext {
  queryTimeoutMs: number;
  readOnly: boolean;
  inReadOnlyTransaction: boolean;
  /** The message for a statement the sandbox refused. */
  describeRefusal(stmt: StatementInfo | undefined): string;
  /** The database's quota in bytes when SQLITE_FULL came from it, not from a full disk. */
  quotaReached(): number | undefined;
}

/**
 * SQLite's own messages when the authorizer refuses a function, or when trusted_schema=OFF keeps
 * a view, trigger or schema expression from calling a function that is not innocuous.
 */
const FUNCTION_REFUSED = /^(?:not authorized to use function: (.+)|unsafe use of (.+)\(\))$/;

/**
 * The one place where errors thrown by the libsql engine become protocol-level statement errors.
 * `stmt` (when known) lets refusals name the statement that was refused.
 */
export function toSqlError(
  err: unknown,
  stmt: StatementInfo | undefined,
  ctx: ErrorContext,
): SqlError {
  if (err instanceof SqlError) return err;
  const native = asNativeSqliteError(err);
  if (!native) {
    const message = err instanceof Error ? err.message : String(err);
    // The binding reports bad parameter values as plain errors.
    if (/bind/i.test(message)) return new SqlError(StmtErrorCode.argsInvalid, message);
    return new SqlError("SQLITE_ERROR", `SQLite error: ${message}`);
  }
  const extended = native.code;
  const base = baseCodeName(extended);
  switch (base) {
    case "SQLITE_AUTH":
      return new SqlError(base, ctx.describeRefusal(stmt), extended);
    case "SQLITE_INTERRUPT":
      return new SqlError(
        base,
        `SQLite error: the statement ran longer than the query timeout (${ctx.queryTimeoutMs} ms) and was interrupted`,
        extended,
      );
    case "SQLITE_NOMEM":
      return new SqlError(
        base,
        "SQLite error: out of memory (the statement needs more memory than the database's limit allows)",
        extended,
      );
    case "SQLITE_FULL": {
      const quota = ctx.quotaReached();
      if (quota !== undefined) {
        return new SqlError(
          base,
          `SQLite error: ${native.message} (the ${QUOTA_MESSAGE_MARK} of ${quota} bytes is reached: delete rows, drop tables or VACUUM to free space)`,
          extended,
        );
      }
      break;
    }
    case "SQLITE_READONLY":
      if (ctx.readOnly) {
        return new SqlError(
          base,
          `SQLite error: ${native.message} (the token only grants read access)`,
          extended,
        );
      }
      if (ctx.inReadOnlyTransaction) {
        return new SqlError(
          base,
          `SQLite error: ${native.message} (the transaction is read-only: BEGIN TRANSACTION READONLY)`,
          extended,
        );
      }
      break;
    case "SQLITE_ERROR": {
      const refused = FUNCTION_REFUSED.exec(native.message);
      const refusedFunction = (refused?.[1] ?? refused?.[2])?.toLowerCase();
      if (refusedFunction) {
        return new SqlError(
          "SQLITE_AUTH",
          `SQLite error: not authorized to use function: ${refusedFunction} (${refusalReason("function", refusedFunction)})`,
          extended,
        );
      }
      if (SYNTAX_ERROR.test(native.message)) {
        return new SqlError(
          StmtErrorCode.parse,
          `SQL string could not be parsed: ${native.message}`,
          extended,
        );
      }
      break;
    }
  }
  return new SqlError(base, `SQLite error: ${native.message}`, extended);
}

/** SQLITE_CONSTRAINT_UNIQUE -> SQLITE_CONSTRAINT; SQLITE_BUSY_SNAPSHOT -> SQLITE_BUSY. */
export function baseCodeName(code: string): string {
  const second = code.indexOf("_", "SQLITE_".length);
  return second < 0 ? code : code.slice(0, second);
}
