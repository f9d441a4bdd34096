import { createRoute, z } from "@hono/zod-openapi";
import type { ControlPlaneApp } from "./context";

const Health = z.object({ status: z.literal("ok"), driver: z.string() });

export const route = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness",
  responses: { 200: { description: "Up", content: { "application/json": { schema: Health } } } },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => c.json({ status: "ok" as const, driver: c.get("driver") }, 200));
}
