import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { ForkRequestSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/fork"),
  summary: "Fork (branch) a database",
  description:
    "A new database from a consistent snapshot of this one, taken online while writes go on (one read transaction: every transaction is in it wholly or not at all), or, with `timestamp`, as it was at that instant. The two are independent from then on. Needs data:read on the source and databases:create on the fork.",
  tags: ["Backups"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: ForkRequestSchema } } },
  },
  responses: {
    201: { description: "The fork", content: { "application/json": { schema: DatabaseSchema } } },
    ...problems(400, 401, 403, 404, 409, 422, 429, 503, 507),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const info = await c.get("controlPlane").forkDatabase(bearerOf(c), name, c.req.valid("json"));
  return c.json(publicDatabase(c, info), 201);
};

export default createFunctionApp().openapi(route, handler);
