import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createApp, isChunked } from "../../core/app";
import { type AuthFailureThrottle, CLIENT_ADDRESS_HEADER } from "../../core/auth-throttle";
import { ApiError } from "../../core/errors";
import { sharedThrottle, throttleFailedAuth } from "../../core/throttle-middleware";
import { handedClientAddress } from "./client-address";
import { ControlPlaneClient } from "./control-plane-client";
import { type FunctionsConfig, functionsConfig } from "./env";
import { rateLimit } from "./rate-limit";

/** Hono environment of every function: bindings in, parsed config and clients out. */
export interface FunctionsEnv {
  Bindings: Record<string, unknown>;
  Variables: {
    config: FunctionsConfig;
    controlPlane: ControlPlaneClient;
  };
}

export type FunctionsContext = Context<FunctionsEnv>;

/**
 * The app of one function entry: the shared factory plus the functions' configuration.
 * `hranaErrors`: for routes read by libSQL clients, errors also carry `message`, as JSON.
 */
export function createFunctionApp(
  options: {
    hranaErrors?: boolean;
    /** The route's own body limit (an import), instead of MAX_BODY_BYTES. */
    maxBodyBytes?: (config: FunctionsConfig) => number;
  } = {},
): OpenAPIHono<FunctionsEnv> {
  const app = createApp<FunctionsEnv>(options);
  app.use(async (c, next) => {
    const config = functionsConfig(c.env);
    c.set("config", config);
    c.set("controlPlane", controlPlaneFor(config, clientAddress(c)));
    await next();
  });
  app.use((c, next) =>
    throttleFailedAuth(failedAuthThrottle(c.get("config")), clientAddress)(c, next),
  );
  app.use(rateLimit((c) => c.get("config")));
  app.use((c, next) => {
    const config = c.get("config");
    const max = options.maxBodyBytes?.(config) ?? config.MAX_BODY_BYTES;
    const tooLarge = () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than ${max} bytes`);
    };
    // A declared length is checked on the header; only a chunked body is read up front to count
    // it (Hono's bodyLimit touches the body of every request, which costs the Node adapter a
    // full Request).
    if (!isChunked(c.req.raw.headers)) {
      return Number(c.req.header("content-length") ?? 0) > max ? tooLarge() : next();
    }
    return bodyLimit({ maxSize: max, onError: tooLarge })(c, next);
  });
  return app;
}

/** The control plane's client for requests of the client at `clientAddress`. */
export function controlPlaneFor(
  config: FunctionsConfig,
  clientAddress: string,
): ControlPlaneClient {
  return new ControlPlaneClient(config.CONTROL_PLANE_URL.replace(/\/$/, ""), clientAddress);
}

/** The failed-auth throttle of these settings (one per process or isolate). */
export function failedAuthThrottle(config: FunctionsConfig): AuthFailureThrottle {
  return sharedThrottle({
    burst: config.AUTH_FAILURE_BURST,
    perMinute: config.AUTH_FAILURES_PER_MINUTE,
  });
}

/**
 * The client's address, as the host that dispatched the request handed it (see dispatch);
 * "unknown" when no host did (every unknown client then shares one failed-auth budget).
 */
export function clientAddress(c: Context): string {
  const handed = handedClientAddress(c.req.raw);
  if (handed !== undefined) return handed || "unknown";
  return c.req.header(CLIENT_ADDRESS_HEADER) || "unknown";
}

/** The public base URL (for URLs handed to users): configured, or the request's origin. */
export function publicBaseUrl(c: FunctionsContext): string {
  return (c.get("config").DBFORGE_PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/$/, "");
}
