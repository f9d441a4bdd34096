import { randomBytes } from "node:crypto";
import type { ColumnInfo, SqlValue, StatementResult } from "../engine/connection";
import type { Col, PipelineRespBody, StmtResult, StreamResult, Value } from "./proto";

/**
 * JSON has no infinities, but SQLite REALs can be ±Inf and JavaScript's JSON.parse reads 1e999
 * as Infinity. Non-finite floats are serialized as a unique placeholder string that
 * `serialize` then replaces with the bare number literal.
 */
const NONFINITE_TAG = `\u0000nonfinite-${randomBytes(8).toString("hex")}:`;
const POS_INF = `${NONFINITE_TAG}+`;
const NEG_INF = `${NONFINITE_TAG}-`;

export function encodeValue(value: SqlValue): Value {
  switch (typeof value) {
    case "bigint":
      return { type: "integer", value: value.toString() };
    case "number":
      if (Number.isFinite(value)) return { type: "float", value };
      return { type: "float", value: (value > 0 ? POS_INF : NEG_INF) as unknown as number };
    case "string":
      return { type: "text", value };
    default:
      if (value === null) return { type: "null" };
      return {
        type: "blob",
        base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
      };
  }
}

export function encodeCols(columns: ColumnInfo[]): Col[] {
  return columns.map((c) => ({ name: c.name, decltype: c.decltype }));
}

export function encodeRow(row: SqlValue[]): Value[] {
  return row.map(encodeValue);
}

export function encodeStmtResult(result: StatementResult): StmtResult {
  return {
    cols: encodeCols(result.columns),
    rows: result.rows.map(encodeRow),
    affected_row_count: result.affectedRowCount,
    last_insert_rowid: result.lastInsertRowid.toString(),
    rows_read: result.rows.length,
    rows_written: result.affectedRowCount,
    query_duration_ms: result.durationMs,
  };
}

/** JSON.stringify that keeps ±Infinity floats (see NONFINITE_TAG). */
export function serialize(body: unknown): string {
  const json = JSON.stringify(body);
  if (!json.includes("nonfinite-")) return json;
  const escapedTag = JSON.stringify(NONFINITE_TAG).slice(1, -1);
  return json.replaceAll(`"${escapedTag}+"`, "1e999").replaceAll(`"${escapedTag}-"`, "-1e999");
}

/**
 * `serialize` of a pipeline response, byte for byte, written by hand where results are
 * executes: Node 20's JSON.stringify spends ~4 µs on a one-row answer, more than the point
 * select itself; this takes about a third of that (the largest cost of a point select in the
 * worker's own code: bench/README.md). Every other result goes through `serialize`.
 * encode.test.ts checks the two agree on every kind of value.
 */
export function serializePipeline(body: PipelineRespBody): string {
  let out = `{"baton":${body.baton === null ? "null" : jsonString(body.baton)},"base_url":${
    body.base_url === null ? "null" : jsonString(body.base_url)
  },"results":[`;
  for (let i = 0; i < body.results.length; i++) {
    if (i > 0) out += ",";
    out += streamResultJson(body.results[i] as StreamResult);
  }
  return `${out}]}`;
}

const CLOSE_OK = '{"type":"ok","response":{"type":"close"}}';

function streamResultJson(result: StreamResult): string {
  if (result.type === "ok") {
    const { response } = result;
    if (response.type === "execute") {
      return `{"type":"ok","response":{"type":"execute","result":${stmtResultJson(response.result)}}}`;
    }
    if (response.type === "close") return CLOSE_OK;
  }
  return serialize(result);
}

/** The fields in encodeStmtResult's order, which is JSON.stringify's. */
function stmtResultJson(result: StmtResult): string {
  let cols = "";
  for (let i = 0; i < result.cols.length; i++) {
    const col = result.cols[i] as Col;
    cols += `${i > 0 ? "," : ""}{"name":${nullableString(col.name)}${
      col.decltype === undefined ? "" : `,"decltype":${nullableString(col.decltype)}`
    }}`;
  }
  let rows = "";
  for (let r = 0; r < result.rows.length; r++) {
    const row = result.rows[r] as Value[];
    let cells = "";
    for (let c = 0; c < row.length; c++)
      cells += `${c > 0 ? "," : ""}${valueJson(row[c] as Value)}`;
    rows += `${r > 0 ? ",[" : "["}${cells}]`;
  }
  return `{"cols":[${cols}],"rows":[${rows}],"affected_row_count":${number(
    result.affected_row_count,
  )},"last_insert_rowid":${nullableString(result.last_insert_rowid)},"rows_read":${number(
    result.rows_read,
  )},"rows_written":${number(result.rows_written)},"query_duration_ms":${number(
    result.query_duration_ms,
  )}}`;
}

function valueJson(value: Value): string {
  switch (value.type) {
    case "integer":
      return `{"type":"integer","value":${jsonString(value.value)}}`;
    case "text":
      return `{"type":"text","value":${jsonString(value.value)}}`;
    case "float": {
      // A non-finite float is its placeholder string here (see NONFINITE_TAG).
      const v = value.value as number | string;
      if (typeof v === "number") return `{"type":"float","value":${number(v)}}`;
      return `{"type":"float","value":${v === POS_INF ? "1e999" : v === NEG_INF ? "-1e999" : jsonString(v)}}`;
    }
    case "null":
      return '{"type":"null"}';
    default:
      return serialize(value);
  }
}

/** JSON.stringify's text of a number: finite ones as JavaScript prints them, others null. */
const number = (n: number): string => (Number.isFinite(n) ? `${n}` : "null");

const nullableString = (s: string | null): string => (s === null ? "null" : jsonString(s));

/** Characters JSON.stringify writes as they are: no quote, backslash, control or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it excludes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** JSON.stringify of a string; short plain ones (most names and values) without the call. */
function jsonString(s: string): string {
  return s.length <= 256 && PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}
