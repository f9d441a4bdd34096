import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

const ListResponse = z.object({ databases: z.array(DatabaseSchema) }).openapi("DatabaseList");

export const route = createRoute({
  ...manifestRoute("databases/list"),
  summary: "List databases",
  tags: ["Databases"],
  security: bearerSecurity,
  responses: {
    200: {
      description: "Every database",
      content: { "application/json": { schema: ListResponse } },
    },
    ...problems(401, 403, 429, 503),
  },
});

export type ListDatabasesResponse = z.infer<typeof ListResponse>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { databases } = await c.get("controlPlane").listDatabases(bearerOf(c));
  return c.json({ databases: databases.map((d) => publicDatabase(c, d)) }, 200);
};

export default createFunctionApp().openapi(route, handler);
