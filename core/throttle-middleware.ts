import type { MiddlewareHandler } from "hono";
import { AuthFailureThrottle, type ThrottleOptions } from "./auth-throttle";
import { ApiError } from "./errors";

/**
 * Middleware throttling failed authentication per client (see core/auth-throttle): a client
 * that keeps presenting bad credentials gets 429 RATE_LIMITED with Retry-After, for every
 * request, until its budget refills. A response counts as failed authentication when it is
 * 401: a missing, malformed, forged, expired or revoked token, on any route.
 */
export function throttleFailedAuth(
  throttle: AuthFailureThrottle,
  clientOf: (c: Parameters<MiddlewareHandler>[0]) => string,
): MiddlewareHandler {
  return async (c, next) => {
    const client = clientOf(c);
    const wait = throttle.retryAfterSeconds(client);
    if (wait > 0) throw rateLimited(wait);
    await next();
    if (c.res.status === 401) throttle.failed(client);
  };
}

export function rateLimited(retryAfterSeconds: number): ApiError {
  return new ApiError(
    "RATE_LIMITED",
    `Too many failed authentication attempts from this client; try again in ${retryAfterSeconds} s`,
    { retryAfter: retryAfterSeconds },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

/** One throttle per set of options and isolate/process, shared by every app built with them. */
const throttles = new Map<string, AuthFailureThrottle>();

export function sharedThrottle(options: ThrottleOptions): AuthFailureThrottle {
  const key = `${options.burst}/${options.perMinute}`;
  let throttle = throttles.get(key);
  if (!throttle) {
    throttle = new AuthFailureThrottle(options);
    throttles.set(key, throttle);
  }
  return throttle;
}
