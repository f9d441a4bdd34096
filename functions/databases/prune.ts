import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf, bearerSecurity, createFunctionApp, type FunctionsEnv } from "../lib/context";
import { DatabaseNameParam, problems } from "../lib/schemas";

export const route = createRoute({
  method: "delete",
  path: "/admin/databases/prune/{name}",
  summary: "Delete a database (alias of DELETE /admin/databases/{name})",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: { 204: { description: "Deleted" }, ...problems(401, 404, 503) },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  await c.get("controlPlane").deleteDatabase(bearerOf(c), c.req.valid("param").name);
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);
