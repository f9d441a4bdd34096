import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, problems } from "../../core/openapi";

/**
 * GET /metrics, served by the Node host itself (functions/host/metrics-endpoint.ts), not by an
 * entry: its counters are the host's process, which Workers do not have. Documented with the
 * entries' routes.
 */
export const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics of the Node host",
  description:
    "Request duration histograms per route and responses by status and error code, in the Prometheus text format. For the admin token, a key with metrics:read, or the control plane's DBFORGE_METRICS_TOKEN. Per-database, worker and storage metrics are on the control plane's /metrics. Served by the Node host only (not on Workers).",
  tags: ["System"],
  security: bearerSecurity,
  responses: {
    200: {
      description: "Prometheus text exposition format 0.0.4",
      content: { "text/plain": { schema: z.string() } },
    },
    ...problems(401, 403, 503),
  },
});

/** Routes the Node host serves itself, beside the entries. */
export const HOST_ROUTES = [metricsRoute];
