import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, HealthSchema } from "../../../core/control-plane-api";
import type { ControlPlaneApp } from "./context";

export const route = createRoute({
  ...CONTROL_PLANE_API.health,
  summary: "Liveness",
  responses: {
    200: { description: "Up", content: { "application/json": { schema: HealthSchema } } },
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) =>
    c.json(
      { status: "ok" as const, driver: c.get("driver"), recovering: c.get("manager").recovering },
      200,
    ),
  );
}
