import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { FILTER_DESCRIPTION } from "../lib/filters";
import { columnIdent, FilteredWriteQuery, RowSchema, tableForRows, writeFilter } from "../lib/rows";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";
import { toInValue } from "../lib/values";
import { manifestRoute } from "../route-table";

const UpdateBody = z.union([z.object({ set: RowSchema }), RowSchema]).openapi("UpdateRowsRequest", {
  description: 'The new values: {"set": {...}} or the values object itself',
});

export const route = createRoute({
  ...manifestRoute("rows/update"),
  summary: "Update the rows matching the filters",
  description: `${FILTER_DESCRIPTION} Without any filter the request is refused unless ?all=true.`,
  tags: ["Rows"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam, table: TableNameParam }),
    query: FilteredWriteQuery,
    body: { required: true, content: { "application/json": { schema: UpdateBody } } },
  },
  responses: {
    200: {
      description: "Updated",
      content: { "application/json": { schema: z.object({ rowsAffected: z.number().int() }) } },
    },
    ...problems(...DATA_ERRORS, 507),
  },
});

export type UpdateRowsRequest = z.infer<typeof UpdateBody>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  const body = c.req.valid("json");
  const values = (
    typeof body.set === "object" &&
    body.set !== null &&
    !Array.isArray(body.set) &&
    Object.keys(body).length === 1
      ? body.set
      : body
  ) as z.infer<typeof RowSchema>;
  if (Object.keys(values).length === 0)
    throw new ApiError("BAD_REQUEST", "Nothing to update: give at least one column");
  const rowsAffected = await withDatabase(callerOf(c), name, async ({ client }) => {
    const info = await tableForRows(client, table, true);
    const where = writeFilter(c.req.queries(), info, "update");
    const assignments = Object.keys(values).map((k) => `${columnIdent(info, k)} = ?`);
    const rs = await client.execute({
      sql: `UPDATE ${quoteIdent(info.name)} SET ${assignments.join(", ")}${where.sql}`,
      args: [...Object.values(values).map(toInValue), ...where.args],
    });
    return rs.rowsAffected;
  });
  return c.json({ rowsAffected }, 200);
};

export default createFunctionApp().openapi(route, handler);
