import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/revoke-tokens"),
  summary: "Invalidate every token of one database",
  description:
    "Like `turso db tokens invalidate`: every token minted for this database so far stops working, over REST and libSQL (HTTP and WebSocket); other databases' tokens are untouched. The database's worker restarts with a new key, so open connections are closed. Tokens minted afterwards work.",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    204: { description: "Every earlier token of the database is invalid" },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  await c.get("controlPlane").revokeTokens(bearerOf(c), c.req.valid("param").name);
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);
