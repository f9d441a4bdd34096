import { randomBytes } from "node:crypto";
import type { ColumnInfo, SqlValue, StatementResult } from "../engine/connection";
import type { Col, StmtResult, Value } from "./proto";

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
