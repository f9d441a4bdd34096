import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { QueryResultSchema, toQueryResult } from "../lib/results";
import { columnIdent, RowSchema, tableForRows } from "../lib/rows";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";
import { toInValue } from "../lib/values";
import { manifestRoute } from "../route-table";

const InsertBody = z
  .union([
    RowSchema,
    z.array(RowSchema).min(1).max(10_000),
    z.object({ rows: z.array(RowSchema).min(1).max(10_000) }),
  ])
  .openapi("InsertRowsRequest", { description: 'One row, an array of rows, or {"rows": [...]}' });

const InsertResult = z
  .object({
    rowsAffected: z.number().int(),
    lastInsertRowid: z.union([z.number(), z.string(), z.null()]),
    rows: QueryResultSchema.shape.rows.openapi({
      description: "The inserted rows as stored (RETURNING *)",
    }),
  })
  .openapi("InsertRowsResult");

export const route = createRoute({
  ...manifestRoute("rows/insert"),
  summary: "Insert one or many rows (atomically)",
  tags: ["Rows"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam, table: TableNameParam }),
    body: { required: true, content: { "application/json": { schema: InsertBody } } },
  },
  responses: {
    201: { description: "Inserted", content: { "application/json": { schema: InsertResult } } },
    ...problems(...DATA_ERRORS, 507),
  },
});

export type InsertRowsRequest = z.infer<typeof InsertBody>;
export type InsertRowsResponse = z.infer<typeof InsertResult>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  const body = c.req.valid("json");
  const rows = Array.isArray(body)
    ? body
    : "rows" in body && Array.isArray(body.rows)
      ? body.rows
      : [body as z.infer<typeof RowSchema>];
  const result = await withDatabase(callerOf(c), name, async ({ client }) => {
    const info = await tableForRows(client, table, true);
    const statements = rows.map((row) => {
      const keys = Object.keys(row);
      const target = quoteIdent(info.name);
      if (keys.length === 0)
        return { sql: `INSERT INTO ${target} DEFAULT VALUES RETURNING *`, args: [] };
      const columns = keys.map((k) => columnIdent(info, k)).join(", ");
      return {
        sql: `INSERT INTO ${target} (${columns}) VALUES (${keys.map(() => "?").join(", ")}) RETURNING *`,
        args: keys.map((k) => toInValue(row[k] ?? null)),
      };
    });
    return client.batch(statements, "write");
  });
  const inserted = result.map((rs) => toQueryResult(rs));
  return c.json(
    {
      rowsAffected: inserted.reduce((n, r) => n + r.rowsAffected, 0),
      lastInsertRowid: inserted.at(-1)?.lastInsertRowid ?? null,
      rows: inserted.flatMap((r) => r.rows),
    },
    201,
  );
};

export default createFunctionApp().openapi(route, handler);
