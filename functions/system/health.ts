import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

const Health = z.object({ status: z.literal("ok") }).openapi("Health");

export const route = createRoute({
  ...manifestRoute("system/health"),
  summary: "Liveness of the API",
  tags: ["System"],
  responses: { 200: { description: "Up", content: { "application/json": { schema: Health } } } },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = (c) =>
  c.json({ status: "ok" as const }, 200);

export default createFunctionApp().openapi(route, handler);
