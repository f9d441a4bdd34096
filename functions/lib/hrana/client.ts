/**
 * The REST routes' client of a database's worker: Hrana pipelines over HTTP, one request per
 * call (`execute`, or `batch` in one transaction), with the same semantics as @libsql/client's
 * `execute` and `batch` (integers as bigint, BEGIN/COMMIT/ROLLBACK steps guarded by conditions,
 * the first failing step's error thrown).
 *
 * Why not @libsql/client/web itself: in the Node host it spends about 870 µs of CPU per
 * `execute` (its stream machinery on top of WHATWG fetch), this client about 80 µs on the same
 * transport (bench/functions-throughput); the REST API's throughput is bounded by it. Clients of
 * the libSQL proxy (/db/{name}/) still are @libsql/client: the proxy passes Hrana through.
 */
import { base64ToBytes, bytesToBase64 } from "../base64";
import type { WorkerTransport } from "./transport";

/** A value bound to a statement. */
export type InValue = null | string | number | bigint | boolean | Uint8Array | ArrayBuffer;
/** A value in a result: integers as bigint, blobs as ArrayBuffer. */
export type Value = null | string | number | bigint | ArrayBuffer;

export type InStatement = string | { sql: string; args?: InValue[] | Record<string, InValue> };

export type TransactionMode = "write" | "read" | "deferred";

export interface ResultSet {
  columns: string[];
  /** Declared types ('' for expressions). */
  columnTypes: string[];
  /** Rows as arrays, in the order of `columns`. */
  rows: Value[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

/** An error the worker reported (a statement's, or the request's own), with its code. */
export class HranaError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, when the request itself failed. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "HranaError";
  }
}

export interface HranaClient {
  execute(statement: InStatement): Promise<ResultSet>;
  batch(statements: InStatement[], mode?: TransactionMode): Promise<ResultSet[]>;
}

/** The rows of a result as objects; a repeated column name keeps its first value. */
export function rowObjects(rs: ResultSet): Array<Record<string, Value>> {
  return rs.rows.map((row) => {
    const object: Record<string, Value> = Object.create(null);
    rs.columns.forEach((column, i) => {
      if (!(column in object)) object[column] = row[i] ?? null;
    });
    return object;
  });
}

export function hranaClient(transport: WorkerTransport, url: string, token: string): HranaClient {
  const pipeline = async (requests: unknown[]): Promise<ProtoResult[]> => {
    const { status, text } = await transport.text(`${url}/v3/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ baton: null, requests: [...requests, { type: "close" }] }),
    });
    if (status !== 200) throw requestError(status, text);
    const body = JSON.parse(text) as { results: ProtoResult[] };
    return body.results;
  };
  return {
    async execute(statement) {
      const [result] = await pipeline([{ type: "execute", stmt: toProtoStmt(statement) }]);
      return resultSet(okResponse(result).result as ProtoStmtResult);
    },
    async batch(statements, mode = "deferred") {
      const [result] = await pipeline([
        { type: "batch", batch: { steps: transactionSteps(statements, mode) } },
      ]);
      const { step_results: results, step_errors: errors } = okResponse(result)
        .result as ProtoBatchResult;
      // BEGIN, the statements, COMMIT, ROLLBACK: the first failure is the batch's.
      for (let step = 0; step <= statements.length + 1; step++) {
        const error = errors[step];
        if (error) throw new HranaError(error.code ?? "UNKNOWN", error.message);
      }
      return statements.map((_, i) => {
        const result = results[i + 1];
        if (!result) throw new HranaError("UNKNOWN", "a statement of the batch did not run");
        return resultSet(result);
      });
    },
  };
}

/**
 * @libsql/client's transaction: BEGIN, each statement if the previous step succeeded and the
 * transaction is still open, COMMIT if the last one succeeded, ROLLBACK unless COMMIT did.
 */
function transactionSteps(statements: InStatement[], mode: TransactionMode): unknown[] {
  const begin = {
    write: "BEGIN IMMEDIATE",
    read: "BEGIN TRANSACTION READONLY",
    deferred: "BEGIN DEFERRED",
  }[mode];
  const ok = (step: number) => ({ type: "ok", step });
  const open = { type: "not", cond: { type: "is_autocommit" } };
  const steps: unknown[] = [{ stmt: { sql: begin, want_rows: false } }];
  statements.forEach((statement, i) => {
    steps.push({ condition: { type: "and", conds: [ok(i), open] }, stmt: toProtoStmt(statement) });
  });
  const last = statements.length;
  steps.push({
    condition: { type: "and", conds: [ok(last), open] },
    stmt: { sql: "COMMIT", want_rows: false },
  });
  steps.push({
    condition: { type: "not", cond: ok(last + 1) },
    stmt: { sql: "ROLLBACK", want_rows: false },
  });
  return steps;
}

interface ProtoValue {
  type: "null" | "integer" | "float" | "text" | "blob";
  value?: string | number;
  base64?: string;
}

interface ProtoStmtResult {
  cols: Array<{ name: string | null; decltype: string | null }>;
  rows: ProtoValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

interface ProtoBatchResult {
  step_results: Array<ProtoStmtResult | null>;
  step_errors: Array<{ message: string; code?: string } | null>;
}

type ProtoResult =
  | { type: "ok"; response: { type: string; result?: unknown } }
  | { type: "error"; error: { message: string; code?: string } };

function okResponse(result: ProtoResult | undefined): { result?: unknown } {
  if (!result) throw new HranaError("UNKNOWN", "the worker answered without a result");
  if (result.type === "error") {
    throw new HranaError(result.error.code ?? "UNKNOWN", result.error.message);
  }
  return result.response;
}

/** The worker refused the request itself: JSON `{message, code}`, or a protocol error as text. */
function requestError(status: number, text: string): HranaError {
  try {
    const body = JSON.parse(text) as { message?: unknown; code?: unknown };
    if (typeof body.message === "string") {
      return new HranaError(
        typeof body.code === "string" ? body.code : "HRANA_ERROR",
        body.message,
        status,
      );
    }
  } catch {
    // not JSON
  }
  return new HranaError("HRANA_PROTOCOL_ERROR", text || `HTTP ${status}`, status);
}

function toProtoStmt(statement: InStatement): unknown {
  if (typeof statement === "string") return { sql: statement, want_rows: true };
  const { sql, args } = statement;
  if (args === undefined) return { sql, want_rows: true };
  if (Array.isArray(args)) return { sql, args: args.map(toProtoValue), want_rows: true };
  return {
    sql,
    named_args: Object.entries(args).map(([name, value]) => ({ name, value: toProtoValue(value) })),
    want_rows: true,
  };
}

function toProtoValue(value: InValue): ProtoValue {
  if (value === null) return { type: "null" };
  switch (typeof value) {
    case "string":
      return { type: "text", value };
    case "bigint":
      return { type: "integer", value: value.toString() };
    case "number":
      return { type: "float", value };
    case "boolean":
      return { type: "integer", value: value ? "1" : "0" };
    default: {
      const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
      return { type: "blob", base64: bytesToBase64(bytes) };
    }
  }
}

function resultSet(result: ProtoStmtResult): ResultSet {
  return {
    columns: result.cols.map((c) => c.name ?? ""),
    columnTypes: result.cols.map((c) => c.decltype ?? ""),
    rows: result.rows.map((row) => row.map(fromProtoValue)),
    rowsAffected: result.affected_row_count,
    lastInsertRowid:
      result.last_insert_rowid === null ? undefined : BigInt(result.last_insert_rowid),
  };
}

function fromProtoValue(value: ProtoValue): Value {
  switch (value.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(value.value as string);
    case "float":
      return Number(value.value);
    case "text":
      return value.value as string;
    case "blob":
      return base64ToBytes(value.base64 ?? "").buffer as ArrayBuffer;
  }
}
