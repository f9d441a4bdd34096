import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { DatabaseUsageSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { UsageWindowQuery } from "../lib/schemas";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/usage"),
  summary: "A database's usage by hour: statements, rows read and written, errors, storage",
  description:
    "Counted by the database's worker for every statement (REST, libSQL over HTTP and WebSocket), written every few seconds and on shutdown, and kept in the registry by hour: it survives restarts. Hours without use are left out.",
  tags: ["Usage"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }), query: UsageWindowQuery },
  responses: {
    200: {
      description: "Usage between `from` and `to`",
      content: { "application/json": { schema: DatabaseUsageSchema } },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const usage = await c.get("controlPlane").databaseUsage(bearerOf(c), name, c.req.valid("query"));
  return c.json(usage, 200);
};

export default createFunctionApp().openapi(route, handler);
