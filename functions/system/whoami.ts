import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { WhoAmISchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("system/whoami"),
  summary: "The credential's role, scope of databases and permissions",
  tags: ["Keys"],
  security: bearerSecurity,
  responses: {
    200: { description: "Who you are", content: { "application/json": { schema: WhoAmISchema } } },
    ...problems(401, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").whoami(bearerOf(c)), 200);

export default createFunctionApp().openapi(route, handler);
