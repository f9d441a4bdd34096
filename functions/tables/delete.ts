import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, createFunctionApp, type FunctionsEnv } from "../lib/context";
import { withDatabase } from "../lib/database";
import { ApiError } from "../lib/errors";
import { DATA_ERRORS, DatabaseNameParam, problems, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";

export const route = createRoute({
  method: "delete",
  path: "/api/db/{name}/tables/{table}",
  summary: "Drop a table (or view)",
  tags: ["Tables"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam, table: TableNameParam }) },
  responses: { 204: { description: "Dropped" }, ...problems(...DATA_ERRORS) },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  await withDatabase(c, name, async ({ client }) => {
    const rs = await client.execute({
      sql: "SELECT type FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')",
      args: [table],
    });
    const type = rs.rows[0]?.type;
    if (!type) throw new ApiError("TABLE_NOT_FOUND", `No table named "${table}"`);
    await client.execute(`DROP ${type === "view" ? "VIEW" : "TABLE"} ${quoteIdent(table)}`);
  });
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);
