import { createRoute, z } from "@hono/zod-openapi";
import { CONTROL_PLANE_API } from "../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../core/openapi";
import { prometheusText } from "../../../core/prometheus";
import { authorize, type ControlPlaneApp } from "./context";

export const route = createRoute({
  ...CONTROL_PLANE_API.metrics,
  summary: "Prometheus metrics (admin token, a key with metrics:read, or DBFORGE_METRICS_TOKEN)",
  security: bearerSecurity,
  responses: {
    200: {
      description: "Prometheus text exposition format",
      content: { "text/plain": { schema: z.string() } },
    },
    ...problems(401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    authorize(c, "metrics:read");
    const registry = c.get("metrics").registry;
    return c.text(await prometheusText(registry), 200, { "Content-Type": registry.contentType });
  });
}
