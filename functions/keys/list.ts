import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { KeyListSchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("keys/list"),
  summary: "List API keys (never their secrets), revoked ones included",
  tags: ["Keys"],
  security: bearerSecurity,
  responses: {
    200: { description: "Every key", content: { "application/json": { schema: KeyListSchema } } },
    ...problems(401, 403, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").listKeys(bearerOf(c)), 200);

export default createFunctionApp().openapi(route, handler);
