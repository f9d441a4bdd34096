import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { rowObjects } from "../lib/hrana/client";
import { DATA_ERRORS } from "../lib/schemas";
import { USER_TABLES } from "../lib/sql";
import { manifestRoute } from "../route-table";

const TableList = z
  .object({
    tables: z.array(
      z.object({ name: z.string(), type: z.enum(["table", "view"]), columns: z.number().int() }),
    ),
  })
  .openapi("TableList");

export const route = createRoute({
  ...manifestRoute("tables/list"),
  summary: "List tables and views",
  tags: ["Tables"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    200: {
      description: "Tables and views (internal ones excluded)",
      content: { "application/json": { schema: TableList } },
    },
    ...problems(...DATA_ERRORS),
  },
});

export type ListTablesResponse = z.infer<typeof TableList>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const tables = await withDatabase(callerOf(c), c.req.valid("param").name, async ({ client }) => {
    const rs = await client.execute(
      `SELECT s.name, s.type, (SELECT count(*) FROM pragma_table_info(s.name)) AS columns FROM sqlite_schema s WHERE s.type IN ('table', 'view') AND ${USER_TABLES.replaceAll("name", "s.name")} ORDER BY s.name`,
    );
    return rowObjects(rs).map((r) => ({
      name: String(r.name),
      type: r.type === "view" ? ("view" as const) : ("table" as const),
      columns: Number(r.columns),
    }));
  });
  return c.json({ tables }, 200);
};

export default createFunctionApp().openapi(route, handler);
