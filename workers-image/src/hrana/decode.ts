/**
 * Decoding of Hrana JSON requests into the internal request types, validating as it goes.
 * Anything malformed is a ProtocolError naming the offending field.
 */
import type { SqlValue } from "../engine/connection";
import { ProtocolError } from "./errors";
import type {
  Batch,
  BatchCond,
  ClientMsg,
  CursorRequest,
  PipelineRequest,
  SqlSource,
  Stmt,
  StreamRequest,
  Version,
  WsRequest,
} from "./proto";

type Json = Record<string, unknown>;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const INTEGER = /^[+-]?\d{1,20}$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function object(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw ProtocolError.json(`${path}: expected an object`);
  }
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw ProtocolError.json(`${path}: expected an array`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string") throw ProtocolError.json(`${path}: expected a string`);
  return value;
}

function int32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) > 2 ** 31) {
    throw ProtocolError.json(`${path}: expected a 32-bit integer`);
  }
  return value;
}

function uint32(value: unknown, path: string): number {
  const n = int32(value, path);
  if (n < 0) throw ProtocolError.json(`${path}: expected a non-negative integer`);
  return n;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : string(value, path);
}

function type(json: Json, path: string): string {
  return string(json.type, `${path}.type`);
}

export function decodeValue(raw: unknown, path: string): SqlValue {
  const json = object(raw, path);
  switch (type(json, path)) {
    case "null":
      return null;
    case "integer": {
      const value = json.value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value !== "string" || !INTEGER.test(value)) {
        throw ProtocolError.json(`${path}.value: expected an integer as a decimal string`);
      }
      const n = BigInt(value);
      if (n < I64_MIN || n > I64_MAX) {
        throw ProtocolError.json(`${path}.value: integer out of the 64-bit range`);
      }
      return n;
    }
    case "float":
      if (typeof json.value !== "number") {
        throw ProtocolError.json(`${path}.value: expected a number`);
      }
      return json.value;
    case "text":
      return string(json.value, `${path}.value`);
    case "blob": {
      const base64 = string(json.base64, `${path}.base64`);
      if (!BASE64.test(base64)) throw ProtocolError.json(`${path}.base64: invalid base64`);
      return Buffer.from(base64, "base64");
    }
    default:
      throw new ProtocolError("Value type not recognized");
  }
}

function decodeSqlSource(json: Json, path: string, version: Version): SqlSource {
  const sql = optionalString(json.sql, `${path}.sql`);
  const sqlId = json.sql_id === undefined || json.sql_id === null ? undefined : json.sql_id;
  if (sqlId !== undefined && version < 2) throw ProtocolError.notSupported("`sql_id`", 2);
  if (sql !== undefined && sqlId !== undefined) {
    throw new ProtocolError("Either `sql` or `sql_id` are required, but not both");
  }
  if (sql !== undefined) return { sql };
  if (sqlId !== undefined) return { sqlId: int32(sqlId, `${path}.sql_id`) };
  throw new ProtocolError("Either `sql` or `sql_id` are required");
}

export function decodeStmt(raw: unknown, path: string, version: Version): Stmt {
  const json = object(raw, path);
  const args = json.args == null ? [] : array(json.args, `${path}.args`);
  const named = json.named_args == null ? [] : array(json.named_args, `${path}.named_args`);
  const wantRows = json.want_rows;
  if (wantRows !== undefined && wantRows !== null && typeof wantRows !== "boolean") {
    throw ProtocolError.json(`${path}.want_rows: expected a boolean`);
  }
  return {
    source: decodeSqlSource(json, path, version),
    args: args.map((arg, i) => decodeValue(arg, `${path}.args[${i}]`)),
    namedArgs: named.map((arg, i) => {
      const p = `${path}.named_args[${i}]`;
      const a = object(arg, p);
      return { name: string(a.name, `${p}.name`), value: decodeValue(a.value, `${p}.value`) };
    }),
    wantRows: wantRows !== false,
  };
}

function decodeCond(raw: unknown, path: string, stepIndex: number, version: Version): BatchCond {
  const json = object(raw, path);
  const stepRef = (): number => {
    const step = uint32(json.step, `${path}.step`);
    // A condition may only look at steps that have already run.
    if (step >= stepIndex)
      throw new ProtocolError("Invalid reference to step in a batch condition");
    return step;
  };
  const conds = (): BatchCond[] =>
    array(json.conds, `${path}.conds`).map((c, i) =>
      decodeCond(c, `${path}.conds[${i}]`, stepIndex, version),
    );
  switch (type(json, path)) {
    case "ok":
      return { type: "ok", step: stepRef() };
    case "error":
      return { type: "error", step: stepRef() };
    case "not":
      return { type: "not", cond: decodeCond(json.cond, `${path}.cond`, stepIndex, version) };
    case "and":
      return { type: "and", conds: conds() };
    case "or":
      return { type: "or", conds: conds() };
    case "is_autocommit":
      if (version < 3) throw ProtocolError.notSupported("BatchCond of type `is_autocommit`", 3);
      return { type: "is_autocommit" };
    default:
      throw new ProtocolError("BatchCond type not recognized");
  }
}

export function decodeBatch(raw: unknown, path: string, version: Version): Batch {
  const json = object(raw, path);
  return {
    steps: array(json.steps, `${path}.steps`).map((rawStep, i) => {
      const p = `${path}.steps[${i}]`;
      const step = object(rawStep, p);
      return {
        condition:
          step.condition == null
            ? undefined
            : decodeCond(step.condition, `${p}.condition`, i, version),
        stmt: decodeStmt(step.stmt, `${p}.stmt`, version),
      };
    }),
  };
}

/** Requests valid both in HTTP pipelines and (with a stream_id) on WebSockets. */
function decodeStreamOp(json: Json, path: string, version: Version): StreamRequest | undefined {
  const kind = type(json, path);
  if (["sequence", "describe", "store_sql", "close_sql"].includes(kind) && version < 2) {
    throw ProtocolError.notSupported(`The \`${kind}\` request`, 2);
  }
  switch (kind) {
    case "execute":
      return { type: "execute", stmt: decodeStmt(json.stmt, `${path}.stmt`, version) };
    case "batch":
      return { type: "batch", batch: decodeBatch(json.batch, `${path}.batch`, version) };
    case "sequence":
      return { type: "sequence", source: decodeSqlSource(json, path, version) };
    case "describe":
      return { type: "describe", source: decodeSqlSource(json, path, version) };
    case "store_sql":
      return {
        type: "store_sql",
        sqlId: int32(json.sql_id, `${path}.sql_id`),
        sql: string(json.sql, `${path}.sql`),
      };
    case "close_sql":
      return { type: "close_sql", sqlId: int32(json.sql_id, `${path}.sql_id`) };
    case "get_autocommit":
      if (version < 3) throw ProtocolError.notSupported("The `get_autocommit` request", 3);
      return { type: "get_autocommit" };
    default:
      return undefined;
  }
}

export function decodePipeline(raw: unknown, version: Version): PipelineRequest {
  const json = object(raw, "body");
  return {
    baton: optionalString(json.baton, "body.baton"),
    requests: array(json.requests, "body.requests").map((rawReq, i) => {
      const path = `body.requests[${i}]`;
      const req = object(rawReq, path);
      if (type(req, path) === "close") return { type: "close" };
      const op = decodeStreamOp(req, path, version);
      if (!op) throw new ProtocolError("StreamRequest type not recognized");
      return op;
    }),
  };
}

export function decodeCursorRequest(raw: unknown, version: Version): CursorRequest {
  const json = object(raw, "body");
  return {
    baton: optionalString(json.baton, "body.baton"),
    batch: decodeBatch(json.batch, "body.batch", version),
  };
}

function decodeWsRequest(raw: unknown, version: Version): WsRequest {
  const path = "request";
  const json = object(raw, path);
  const kind = type(json, path);
  const streamId = () => int32(json.stream_id, `${path}.stream_id`);
  const cursorId = () => int32(json.cursor_id, `${path}.cursor_id`);
  if (kind.endsWith("_cursor") && version < 3) {
    throw ProtocolError.notSupported(`The \`${kind}\` request`, 3);
  }
  switch (kind) {
    case "open_stream":
      return { type: "open_stream", streamId: streamId() };
    case "close_stream":
      return { type: "close_stream", streamId: streamId() };
    case "open_cursor":
      return {
        type: "open_cursor",
        streamId: streamId(),
        cursorId: cursorId(),
        batch: decodeBatch(json.batch, `${path}.batch`, version),
      };
    case "close_cursor":
      return { type: "close_cursor", cursorId: cursorId() };
    case "fetch_cursor":
      return {
        type: "fetch_cursor",
        cursorId: cursorId(),
        maxCount: uint32(json.max_count, `${path}.max_count`),
      };
  }
  const op = decodeStreamOp(json, path, version);
  if (!op) throw new ProtocolError("Request type not recognized");
  if (op.type === "store_sql" || op.type === "close_sql") return op;
  if (op.type === "close") throw new ProtocolError("Request type not recognized");
  return { ...op, streamId: streamId() };
}

export function decodeClientMsg(text: string, version: Version): ClientMsg {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw ProtocolError.json((err as Error).message);
  }
  const json = object(raw, "message");
  switch (type(json, "message")) {
    case "hello":
      return { type: "hello", jwt: optionalString(json.jwt, "message.jwt") ?? null };
    case "request":
      return {
        type: "request",
        requestId: int32(json.request_id, "message.request_id"),
        request: decodeWsRequest(json.request, version),
      };
    default:
      throw new ProtocolError("ClientMsg type not recognized");
  }
}
