import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { rowObjects } from "../lib/hrana/client";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("tables/delete"),
  summary: "Drop a table (or view)",
  tags: ["Tables"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam, table: TableNameParam }) },
  responses: { 204: { description: "Dropped" }, ...problems(...DATA_ERRORS) },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  await withDatabase(callerOf(c), name, async ({ client }) => {
    const rs = await client.execute({
      sql: "SELECT type FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')",
      args: [table],
    });
    const type = rowObjects(rs)[0]?.type;
    if (!type) throw new ApiError("TABLE_NOT_FOUND", `No table named "${table}"`);
    await client.execute(`DROP ${type === "view" ? "VIEW" : "TABLE"} ${quoteIdent(table)}`);
  });
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);
