import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("databases/delete"),
  summary: "Delete a database: its worker stops and its files are removed",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 429, 503) },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  await c.get("controlPlane").deleteDatabase(bearerOf(c), c.req.valid("param").name);
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);
