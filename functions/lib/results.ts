import { z } from "@hono/zod-openapi";
import type { ResultSet } from "@libsql/client/web";
import { type JsonValue, toJsonValue } from "./values";

const JsonValueSchema = z.union([
  z.null(),
  z.string(),
  z.number(),
  z.object({ type: z.literal("blob"), base64: z.string() }),
]);

export const RowModeSchema = z.enum(["object", "array"]).openapi({
  default: "object",
  description:
    "Rows as objects keyed by column name (the first of duplicate names wins), or as arrays",
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

export function toQueryResult(rs: ResultSet, rowMode: RowMode = "object"): QueryResult {
  const { columns } = rs;
  const rows = rs.rows.map((row) => {
    const values: JsonValue[] = columns.map((_, i) => toJsonValue(row[i] ?? null));
    if (rowMode === "array") return values;
    const object: Record<string, JsonValue> = {};
    columns.forEach((column, i) => {
      if (!Object.hasOwn(object, column)) object[column] = values[i] ?? null;
    });
    return object;
  });
  return {
    columns,
    columnTypes: rs.columnTypes,
    rows,
    rowsAffected: rs.rowsAffected,
    lastInsertRowid:
      rs.lastInsertRowid === undefined
        ? null
        : (toJsonValue(rs.lastInsertRowid) as number | string),
  };
}
