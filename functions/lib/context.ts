import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { CLIENT_ADDRESS_HEADER } from "../../core/auth-throttle";
import { createApp } from "./app";
import { sharedThrottle, throttleFailedAuth } from "./auth-throttle";
import { ControlPlaneClient } from "./control-plane-client";
import { type FunctionsConfig, functionsConfig } from "./env";
import { ApiError } from "./errors";

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
  options: { hranaErrors?: boolean } = {},
): OpenAPIHono<FunctionsEnv> {
  const app = createApp<FunctionsEnv>(options);
  app.use(async (c, next) => {
    const config = functionsConfig(c.env);
    c.set("config", config);
    c.set(
      "controlPlane",
      new ControlPlaneClient(config.CONTROL_PLANE_URL.replace(/\/$/, ""), clientAddress(c)),
    );
    await next();
  });
  app.use((c, next) => {
    const config = c.get("config");
    const throttle = sharedThrottle({
      burst: config.AUTH_FAILURE_BURST,
      perMinute: config.AUTH_FAILURES_PER_MINUTE,
    });
    return throttleFailedAuth(throttle, clientAddress)(c, next);
  });
  app.use((c, next) =>
    bodyLimit({
      maxSize: c.get("config").MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          "PAYLOAD_TOO_LARGE",
          `The request body is larger than ${c.get("config").MAX_BODY_BYTES} bytes`,
        );
      },
    })(c, next),
  );
  return app;
}

/**
 * The client's address, as the host that dispatched the request set it (see dispatch); "unknown"
 * when no host did (every unknown client then shares one failed-auth budget).
 */
export function clientAddress(c: Context): string {
  return c.req.header(CLIENT_ADDRESS_HEADER) || "unknown";
}

/** The bearer token of the request, if any. */
export function bearerOf(c: Context): string | undefined {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}

export function requireBearer(c: Context): string {
  const token = bearerOf(c);
  if (!token) throw new ApiError("UNAUTHORIZED", "Send a token as `Authorization: Bearer <token>`");
  return token;
}

/** The public base URL (for URLs handed to users): configured, or the request's origin. */
export function publicBaseUrl(c: FunctionsContext): string {
  return (c.get("config").DBFORGE_PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/$/, "");
}

export const bearerSecurity = [{ bearerAuth: [] }];
