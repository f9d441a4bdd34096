import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { UsageSummarySchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { UsageWindowQuery } from "../lib/schemas";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("usage/summary"),
  summary: "Usage of every database the credential may see, and the totals",
  tags: ["Usage"],
  security: bearerSecurity,
  request: { query: UsageWindowQuery },
  responses: {
    200: {
      description: "Usage between `from` and `to`",
      content: { "application/json": { schema: UsageSummarySchema } },
    },
    ...problems(400, 401, 403, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").usage(bearerOf(c), c.req.valid("query")), 200);

export default createFunctionApp().openapi(route, handler);
