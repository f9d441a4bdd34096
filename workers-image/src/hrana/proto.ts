/**
 * Hrana JSON wire types (protocol versions 1-3), as the server sends them. See
 * tursodatabase/libsql docs/HRANA_3_SPEC.md. Requests are decoded into the internal types at
 * the end of this file by ./decode.ts.
 */
import type { SqlValue } from "../engine/connection";

export type Version = 1 | 2 | 3;

export type Value =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

export interface Error {
  message: string;
  code?: string | null;
}

export interface Col {
  name: string | null;
  decltype?: string | null;
}

export interface StmtResult {
  cols: Col[];
  rows: Value[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

export interface BatchResult {
  step_results: Array<StmtResult | null>;
  step_errors: Array<Error | null>;
}

export interface DescribeResult {
  params: Array<{ name: string | null }>;
  cols: Array<{ name: string; decltype: string | null }>;
  is_explain: boolean;
  is_readonly: boolean;
}

export type CursorEntry =
  | { type: "step_begin"; step: number; cols: Col[] }
  | { type: "step_end"; affected_row_count: number; last_insert_rowid: string | null }
  | { type: "step_error"; step: number; error: Error }
  | { type: "row"; row: Value[] }
  | { type: "error"; error: Error };

/** Responses to stream requests; `type` always echoes the request's type. */
export type StreamResponse =
  | { type: "close" }
  | { type: "execute"; result: StmtResult }
  | { type: "batch"; result: BatchResult }
  | { type: "sequence" }
  | { type: "describe"; result: DescribeResult }
  | { type: "store_sql" }
  | { type: "close_sql" }
  | { type: "get_autocommit"; is_autocommit: boolean };

export type StreamResult =
  | { type: "ok"; response: StreamResponse }
  | { type: "error"; error: Error };

export interface PipelineRespBody {
  baton: string | null;
  base_url: string | null;
  results: StreamResult[];
}

/** WebSocket responses add stream and cursor management to the stream responses. */
export type WsResponse =
  | Exclude<StreamResponse, { type: "close" }>
  | { type: "open_stream" }
  | { type: "close_stream" }
  | { type: "open_cursor" }
  | { type: "close_cursor" }
  | { type: "fetch_cursor"; entries: CursorEntry[]; done: boolean };

export type ServerMsg =
  | { type: "hello_ok" }
  | { type: "hello_error"; error: Error }
  | { type: "response_ok"; request_id: number; response: WsResponse }
  | { type: "response_error"; request_id: number; error: Error };

// ---- Decoded requests (internal) ----

/** Where a statement's SQL comes from: inline text or an id stored with store_sql. */
export type SqlSource = { sql: string } | { sqlId: number };

export interface Stmt {
  source: SqlSource;
  args: SqlValue[];
  namedArgs: Array<{ name: string; value: SqlValue }>;
  wantRows: boolean;
}

export type BatchCond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: BatchCond }
  | { type: "and"; conds: BatchCond[] }
  | { type: "or"; conds: BatchCond[] }
  | { type: "is_autocommit" };

export interface Batch {
  steps: Array<{ condition: BatchCond | undefined; stmt: Stmt }>;
}

/** Requests that run on a stream, shared by HTTP pipelines and WebSocket. */
export type StreamRequest =
  | { type: "close" }
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: Batch }
  | { type: "sequence"; source: SqlSource }
  | { type: "describe"; source: SqlSource }
  | { type: "store_sql"; sqlId: number; sql: string }
  | { type: "close_sql"; sqlId: number }
  | { type: "get_autocommit" };

export interface PipelineRequest {
  baton: string | undefined;
  requests: StreamRequest[];
}

export interface CursorRequest {
  baton: string | undefined;
  batch: Batch;
}

export type WsRequest =
  | { type: "open_stream"; streamId: number }
  | { type: "close_stream"; streamId: number }
  | { type: "execute"; streamId: number; stmt: Stmt }
  | { type: "batch"; streamId: number; batch: Batch }
  | { type: "sequence"; streamId: number; source: SqlSource }
  | { type: "describe"; streamId: number; source: SqlSource }
  | { type: "store_sql"; sqlId: number; sql: string }
  | { type: "close_sql"; sqlId: number }
  | { type: "get_autocommit"; streamId: number }
  | { type: "open_cursor"; streamId: number; cursorId: number; batch: Batch }
  | { type: "close_cursor"; cursorId: number }
  | { type: "fetch_cursor"; cursorId: number; maxCount: number };

export type ClientMsg =
  | { type: "hello"; jwt: string | null }
  | { type: "request"; requestId: number; request: WsRequest };
