import { z } from "@hono/zod-openapi";
import type { ResultSet } from "./hrana/client";
import { type JsonValue, toJsonValue } from "./values";

const JsonValueSchema = z.union([
  z.null(),
  z.string(),
  z.number(),
  z.object({ type: z.literal("blob"), base64: z.string() }),
]);

/** The duplicate-column rule, as the API documents it (query, batch, rows list). */
export const DUPLICATE_COLUMNS_RULE =
  'In object rows, a column name that repeats (`SELECT 1 AS x, 2 AS x`, a join of two tables with an `id`) keeps its name for its first column; later ones are keyed `name:1`, `name:2`, … (skipping any that is itself a column name), so no value is dropped. `columns` lists the names as SQLite gives them; `rowMode: "array"` returns rows as arrays in that order.';

export const RowModeSchema = z.enum(["object", "array"]).openapi({
  default: "object",
  description:
    "Rows as objects keyed by column name (a repeated name gets `name:1`, `name:2`, … for its later columns), or as arrays in the order of `columns`",
});

export type RowMode = z.infer<typeof RowModeSchema>;

export const QueryResultSchema = z
  .object({
    columns: z.array(z.string()),
    columnTypes: z
      .array(z.string())
      .openapi({ description: "Declared column types ('' for expressions)" }),
    rows: z.array(z.union([z.record(z.string(), JsonValueSchema), z.array(JsonValueSchema)])),
    rowsAffected: z.number().int(),
    lastInsertRowid: z
      .union([z.number(), z.string(), z.null()])
      .openapi({ description: "A number, or a decimal string beyond ±2^53" }),
  })
  .openapi("QueryResult");

export type QueryResult = z.infer<typeof QueryResultSchema>;

export type ObjectRow = Record<string, JsonValue>;

/**
 * The object key of each column, by DUPLICATE_COLUMNS_RULE: the first column of a name keeps
 * it; a later one gets `name:N`, the smallest N ≥ 1 not already a key and not the name of any
 * column of the result (so a real column called `x:1` keeps its name wherever it comes).
 * Invariant: the keys are pairwise distinct, so an object row holds every value.
 */
export function objectKeys(columns: readonly string[]): string[] {
  const taken = new Set(columns);
  const seen = new Set<string>();
  const next = new Map<string, number>();
  return columns.map((column) => {
    if (!seen.has(column)) {
      seen.add(column);
      return column;
    }
    let n = next.get(column) ?? 1;
    while (taken.has(`${column}:${n}`)) n++;
    next.set(column, n + 1);
    const key = `${column}:${n}`;
    taken.add(key);
    return key;
  });
}

/** Rows as arrays of JSON values, in the order of `columns`. */
export function toArrayRows(rs: ResultSet): JsonValue[][] {
  return rs.rows.map((row) => rs.columns.map((_, i) => toJsonValue(row[i] ?? null)));
}

/**
 * Array rows as objects keyed by objectKeys(columns). Built with Object.fromEntries, which
 * defines own properties: a column named `__proto__` is a key like any other, not the
 * object's prototype.
 */
export function toObjectRows(
  columns: readonly string[],
  rows: readonly JsonValue[][],
): ObjectRow[] {
  const keys = objectKeys(columns);
  return rows.map((values) => Object.fromEntries(keys.map((key, i) => [key, values[i] ?? null])));
}

export function toQueryResult(rs: ResultSet, rowMode: RowMode = "object"): QueryResult {
  const { columns } = rs;
  const arrays = toArrayRows(rs);
  return {
    columns,
    columnTypes: rs.columnTypes,
    rows: rowMode === "array" ? arrays : toObjectRows(columns, arrays),
    rowsAffected: rs.rowsAffected,
    lastInsertRowid:
      rs.lastInsertRowid === undefined
        ? null
        : (toJsonValue(rs.lastInsertRowid) as number | string),
  };
}
