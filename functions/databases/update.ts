import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { UpdateDatabaseSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/update"),
  summary: "Change a database's quota",
  description:
    "Past its quota a database refuses writes with QUOTA_EXCEEDED (507); deletes, DROP and VACUUM still work. A running worker restarts to apply a new quota (open transactions are rolled back). `null` returns to the server's default (DBFORGE_DEFAULT_QUOTA). A quota below the current size stops growth without touching data.",
  tags: ["Databases"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: UpdateDatabaseSchema } } },
  },
  responses: {
    200: {
      description: "The database with its new settings",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const info = await c.get("controlPlane").updateDatabase(bearerOf(c), name, c.req.valid("json"));
  return c.json(publicDatabase(c, info), 200);
};

export default createFunctionApp().openapi(route, handler);
