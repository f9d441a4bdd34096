import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/get"),
  summary: "Show a database: status, size, activity, libSQL URL",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    200: {
      description: "The database",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(401, 403, 404, 429, 503),
  },
});

export type GetDatabaseResponse = z.infer<typeof DatabaseSchema>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const info = await c.get("controlPlane").getDatabase(bearerOf(c), c.req.valid("param").name);
  return c.json(publicDatabase(c, info), 200);
};

export default createFunctionApp().openapi(route, handler);
