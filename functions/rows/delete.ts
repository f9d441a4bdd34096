import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { FILTER_DESCRIPTION } from "../lib/filters";
import { FilteredWriteQuery, tableForRows, writeFilter } from "../lib/rows";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("rows/delete"),
  summary: "Delete the rows matching the filters",
  description: `${FILTER_DESCRIPTION} Without any filter the request is refused unless ?all=true.`,
  tags: ["Rows"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam, table: TableNameParam }),
    query: FilteredWriteQuery,
  },
  responses: {
    200: {
      description: "Deleted",
      content: { "application/json": { schema: z.object({ rowsAffected: z.number().int() }) } },
    },
    ...problems(...DATA_ERRORS),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  const rowsAffected = await withDatabase(callerOf(c), name, async ({ client }) => {
    const info = await tableForRows(client, table, true);
    const where = writeFilter(c.req.queries(), info, "delete");
    const rs = await client.execute({
      sql: `DELETE FROM ${quoteIdent(info.name)}${where.sql}`,
      args: where.args,
    });
    return rs.rowsAffected;
  });
  return c.json({ rowsAffected }, 200);
};

export default createFunctionApp().openapi(route, handler);
