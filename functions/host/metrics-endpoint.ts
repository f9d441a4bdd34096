import { toApiError } from "../../core/app";
import { bearerFromHeader } from "../../core/bearer";
import { ApiError } from "../../core/errors";
import { prometheusText } from "../../core/prometheus";
import { problem } from "../dispatch";
import { ControlPlaneClient } from "../lib/control-plane-client";
import { metricsRoute } from "../system/metrics-route";
import type { HostObservability } from "./observability";

/** The Node host's Prometheus endpoint (outside the route manifest: Workers have no such host). */
export const METRICS_PATH = metricsRoute.path;

/** A credential's answer from the control plane is reused this long. */
const WHOAMI_CACHE_MS = 10_000;

/**
 * GET /metrics for a credential the control plane says may read metrics (the admin token, a key
 * with metrics:read, or DBFORGE_METRICS_TOKEN): the functions hold no credentials of their own.
 */
export function metricsEndpoint(
  observability: HostObservability,
  controlPlaneUrl: string,
): (request: Request) => Promise<Response> {
  const controlPlane = new ControlPlaneClient(controlPlaneUrl.replace(/\/$/, ""));
  const allowed = new Map<string, number>();
  return async (request) => {
    try {
      if (request.method !== "GET" && request.method !== "HEAD")
        throw new ApiError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on /metrics`);
      const bearer = bearerFromHeader(request.headers.get("authorization"));
      if (!bearer)
        throw new ApiError("UNAUTHORIZED", "Send a token as `Authorization: Bearer <token>`");
      if ((allowed.get(bearer) ?? 0) < Date.now()) {
        const who = await controlPlane.whoami(bearer);
        if (!who.permissions.includes("metrics:read")) {
          throw new ApiError("FORBIDDEN", "The credential lacks the permission metrics:read", {
            permission: "metrics:read",
          });
        }
        if (allowed.size > 1000) allowed.clear();
        allowed.set(bearer, Date.now() + WHOAMI_CACHE_MS);
      }
      const body = await prometheusText(observability.registry);
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "Content-Type": observability.registry.contentType },
      });
    } catch (err) {
      return problem(toApiError(err), METRICS_PATH);
    }
  };
}
