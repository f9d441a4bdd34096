import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { ApiKeySchema, KeyIdParams } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("keys/revoke"),
  summary: "Revoke an API key",
  description:
    "The control plane refuses the key from now on. The functions reuse a resolved database connection for up to RESOLVE_CACHE_MS (30 s by default) per credential, so data requests with a revoked key can succeed for that long at most; admin routes refuse it at once.",
  tags: ["Keys"],
  security: bearerSecurity,
  request: { params: KeyIdParams },
  responses: {
    200: {
      description: "The revoked key",
      content: { "application/json": { schema: ApiKeySchema } },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").revokeKey(bearerOf(c), c.req.valid("param").id), 200);

export default createFunctionApp().openapi(route, handler);
