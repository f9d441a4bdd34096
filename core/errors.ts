/**
 * The one error type of DB-Forge's HTTP APIs (functions and control plane). Every failure a
 * client can see has a stable `code` from this closed set, mapped to one HTTP status, and is
 * rendered as RFC 9457 problem details by the app factory; routes only throw.
 */

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, title: "The request is invalid" },
  INVALID_NAME: { status: 400, title: "The name is not allowed" },
  SQL_ERROR: { status: 400, title: "The SQL statement failed" },
  SQL_SYNTAX_ERROR: { status: 400, title: "The SQL statement could not be parsed" },
  INVALID_DATABASE_FILE: { status: 400, title: "The file is not a usable SQLite database" },
  UNAUTHORIZED: { status: 401, title: "Missing or invalid credentials" },
  FORBIDDEN: { status: 403, title: "The credentials do not allow this" },
  READ_ONLY: { status: 403, title: "The token only allows reading" },
  NOT_FOUND: { status: 404, title: "No such route" },
  DATABASE_NOT_FOUND: { status: 404, title: "No such database" },
  BACKUP_NOT_FOUND: { status: 404, title: "No such backup" },
  TABLE_NOT_FOUND: { status: 404, title: "No such table" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  DATABASE_EXISTS: { status: 409, title: "The database already exists" },
  TABLE_EXISTS: { status: 409, title: "The table already exists" },
  BACKUP_IN_USE: {
    status: 409,
    title: "The database's changes are archived against this backup; take a new one first",
  },
  CONSTRAINT_VIOLATION: { status: 409, title: "A constraint was violated" },
  TRANSACTION_CONFLICT: { status: 409, title: "The transaction conflicted with another" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  RESPONSE_TOO_LARGE: { status: 413, title: "The result is too large" },
  MEMORY_LIMIT_EXCEEDED: {
    status: 413,
    title: "The statement needs more memory than the database's limit",
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  BACKUP_KEY_MISMATCH: {
    status: 422,
    title: "The backup was encrypted with another key than the server's",
  },
  BACKUP_CORRUPT: { status: 422, title: "The backup is damaged" },
  RESTORE_POINT_UNAVAILABLE: {
    status: 422,
    title: "No backup or archived WAL covers that point in time",
  },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL_ERROR: { status: 500, title: "Internal error" },
  DOCKER_UNAVAILABLE: { status: 503, title: "The Docker engine is not reachable" },
  WORKER_IMAGE_MISSING: { status: 503, title: "The worker image is not available" },
  WORKER_START_FAILED: { status: 503, title: "The database worker failed to start" },
  WORKER_UNAVAILABLE: { status: 503, title: "The database worker is not reachable" },
  PORT_EXHAUSTED: { status: 503, title: "No free port for a database worker" },
  QUERY_TIMEOUT: { status: 504, title: "The query ran past the time limit" },
  DISK_FULL: { status: 507, title: "Not enough disk space" },
  QUOTA_EXCEEDED: { status: 507, title: "The database has reached its quota" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A failure in DB-Forge's own terms: a stable code from the table above and what happened,
 * without anything HTTP. Services, drivers and the engine throw these; the HTTP layer renders
 * them (toApiError in core/app.ts) at one boundary.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Human-readable detail for this occurrence. */
    message: string = ERROR_CODES[code].title,
    /** Extra members of the problem document (e.g. validation issues). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** A DomainError as an HTTP answer: its status, and response headers that belong to it. */
export class ApiError extends DomainError {
  readonly status: number;

  constructor(
    code: ErrorCode,
    message: string = ERROR_CODES[code].title,
    extra: Record<string, unknown> = {},
    /** Response headers that belong to this error (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, extra);
    this.name = "ApiError";
    this.status = ERROR_CODES[code].status;
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Response header carrying an error's code beside its problem document (metrics, logs, proxies). */
export const ERROR_CODE_HEADER = "DBForge-Error-Code";

/** RFC 9457 problem details, with DB-Forge's stable `code` as an extension member. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function toProblem(
  err: ApiError,
  context: { instance?: string; requestId?: string } = {},
): Problem {
  return {
    ...err.extra,
    type: `https://db-forge.dev/problems/${err.code.toLowerCase().replaceAll("_", "-")}`,
    title: ERROR_CODES[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...context,
  };
}
