import { z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { parseFilters, type Where } from "./filters";
import type { HranaClient } from "./hrana/client";
import { quoteIdent } from "./sql";
import { describeTable, type TableInfo } from "./tables";
import { SqlValueSchema } from "./values";

export const RowSchema = z
  .record(z.string(), SqlValueSchema)
  .openapi("Row", { description: "Column name → value" });

/** The table, which must be a real table (rows cannot be written to views here). */
export async function tableForRows(
  client: HranaClient,
  table: string,
  writable: boolean,
): Promise<TableInfo> {
  const info = await describeTable(client, table);
  if (writable && info.type === "view") throw new ApiError("BAD_REQUEST", `"${table}" is a view`);
  return info;
}

/** The quoted column named `name` (case-insensitive, as SQLite), or BAD_REQUEST. */
export function columnIdent(info: TableInfo, name: string): string {
  const column = info.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (!column) throw new ApiError("BAD_REQUEST", `Table "${info.name}" has no column "${name}"`);
  return quoteIdent(column.name);
}

/** Query parameters of the routes that change rows by filter: the filters, and `all`. */
export const FilteredWriteQuery = z
  .object({ all: z.enum(["true", "false"]).optional() })
  .passthrough();

/**
 * The WHERE clause of an UPDATE/DELETE from the query string's filters. Without any filter the
 * request is refused unless the caller asked for every row explicitly (`?all=true`).
 */
export function writeFilter(query: Record<string, string[]>, info: TableInfo, verb: string): Where {
  const where = parseFilters(query, WRITE_RESERVED, info.columns);
  if (!where.sql && query.all?.[0] !== "true") {
    throw new ApiError(
      "BAD_REQUEST",
      `Refusing to ${verb} every row without a filter; add ?all=true to really do it`,
    );
  }
  return where;
}

const WRITE_RESERVED = new Set(["all"]);
