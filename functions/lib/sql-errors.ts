import { ApiError, type ErrorCode } from "../../core/errors";
import { isQuotaMessage } from "../../core/quota";

/**
 * Codes reported by workers (Hrana) and the status the REST API gives them. The code comes
 * from the worker's answer, so it is looked up with Object.hasOwn: a code like "constructor"
 * must not find Object.prototype's members.
 */
const BY_CODE: Readonly<Record<string, ErrorCode>> = {
  SQL_PARSE_ERROR: "SQL_SYNTAX_ERROR",
  SQL_NO_STATEMENT: "BAD_REQUEST",
  SQL_MANY_STATEMENTS: "BAD_REQUEST",
  ARGS_INVALID: "BAD_REQUEST",
  ARGS_BOTH_POSITIONAL_AND_NAMED: "BAD_REQUEST",
  SQLITE_CONSTRAINT: "CONSTRAINT_VIOLATION",
  SQLITE_READONLY: "READ_ONLY",
  SQLITE_AUTH: "FORBIDDEN",
  SQLITE_INTERRUPT: "QUERY_TIMEOUT",
  SQLITE_BUSY: "TRANSACTION_CONFLICT",
  TRANSACTION_TIMEOUT: "TRANSACTION_CONFLICT",
  SQLITE_FULL: "DISK_FULL",
  SQLITE_TOOBIG: "PAYLOAD_TOO_LARGE",
  SQLITE_NOMEM: "MEMORY_LIMIT_EXCEEDED",
  SQLITE_MISMATCH: "BAD_REQUEST",
  SQLITE_RANGE: "BAD_REQUEST",
  RESPONSE_TOO_LARGE: "RESPONSE_TOO_LARGE",
  AUTH_JWT_INVALID: "UNAUTHORIZED",
  AUTH_JWT_EXPIRED: "UNAUTHORIZED",
  AUTH_HEADER_NOT_FOUND: "UNAUTHORIZED",
  AUTH_FORBIDDEN: "FORBIDDEN",
};

const NO_SUCH_TABLE = /no such table: (\S+)/;

/** Turns an error from a worker (./hrana/client.ts) into the REST API's error. */
export function toApiSqlError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const code =
    typeof (err as { code?: unknown } | null)?.code === "string"
      ? (err as { code: string }).code
      : "";
  const message = err instanceof Error ? err.message : String(err);
  // LibsqlError messages start with "CODE: "; the rest is the worker's message.
  const detail = message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
  if (code === "SQLITE_FULL" && isQuotaMessage(detail))
    return new ApiError("QUOTA_EXCEEDED", detail, { sqlCode: code });
  const mapped = Object.hasOwn(BY_CODE, code) ? BY_CODE[code] : undefined;
  if (mapped) return new ApiError(mapped, detail, { sqlCode: code });
  if (code === "SQLITE_ERROR") {
    const table = NO_SUCH_TABLE.exec(detail);
    if (table) return new ApiError("TABLE_NOT_FOUND", detail, { sqlCode: code, table: table[1] });
    return new ApiError("SQL_ERROR", detail, { sqlCode: code });
  }
  if (code.startsWith("SQLITE_")) return new ApiError("SQL_ERROR", detail, { sqlCode: code });
  return new ApiError("WORKER_UNAVAILABLE", `The database worker could not be reached: ${detail}`);
}

/**
 * How a request to a worker failed at the connection level:
 * - "refused": it never reached the worker (Node: ECONNREFUSED), so sending it again is safe;
 * - "lost": the runtime cannot tell a refused connection from one that broke mid-request
 *   (workerd says "Network connection lost." for both);
 * - "broken": it broke after the request was sent (Node: ECONNRESET, EPIPE; undici:
 *   UND_ERR_SOCKET, "other side closed"), so the worker may have run it: not sent again;
 * - undefined: not a connection failure.
 */
/** Node's and undici's codes for a connection that broke after the request was sent. */
const BROKEN_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

export function connectionFailure(err: unknown): "refused" | "lost" | "broken" | undefined {
  let lost = false;
  let broken = false;
  for (
    let e: unknown = err, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : "";
    if (
      code === "ECONNREFUSED" ||
      /ECONNREFUSED|connect\(\) failed|Connection refused/i.test(message)
    )
      return "refused";
    if (/Network connection lost/i.test(message)) lost = true;
    if (BROKEN_CODES.has(String(code))) broken = true;
  }
  return lost ? "lost" : broken ? "broken" : undefined;
}
