import { z } from "@hono/zod-openapi";
import type { Client } from "@libsql/client/web";
import { ApiError } from "./errors";
import { quoteIdent } from "./sql";
import { describeTable, type TableInfo } from "./tables";
import { SqlValueSchema } from "./values";

export const RowSchema = z
  .record(z.string(), SqlValueSchema)
  .openapi("Row", { description: "Column name → value" });

/** The table, which must be a real table (rows cannot be written to views here). */
export async function tableForRows(
  client: Client,
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

/** Refuses an unfiltered UPDATE/DELETE unless the caller asked for every row explicitly. */
export function requireFilterOrAll(where: string, all: boolean, verb: string): void {
  if (!where && !all) {
    throw new ApiError(
      "BAD_REQUEST",
      `Refusing to ${verb} every row without a filter; add ?all=true to really do it`,
    );
  }
}
