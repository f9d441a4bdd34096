import type { Context, MiddlewareHandler } from "hono";
import { bearerOf } from "../../core/bearer";
import { ApiError } from "../../core/errors";
import { TokenBuckets } from "../../core/token-bucket";
import type { FunctionsConfig } from "./env";

/**
 * Request rate limits: a token bucket per credential (the bearer token, whatever route it is
 * used on) and one per database (its data routes: REST and the /db/{name}/ proxy, every
 * credential together). A request takes a token from each bucket that applies; one that finds
 * a bucket empty gets 429 RATE_LIMITED with Retry-After, and every limited response carries the
 * IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and RateLimit,
 * plus the older RateLimit-Limit/-Remaining/-Reset trio many clients read).
 *
 * The buckets live in memory: per process on the Node host (one bucket per credential for the
 * whole host), per isolate on Workers (each isolate, and under Miniflare each entry, counts on
 * its own, so the effective limit grows with the isolates serving a client). A shared store
 * (a Durable Object, or Cloudflare's rate limiting binding) would make it global; see README.
 * On a relayed WebSocket every request message counts (see ./websocket/open.ts).
 */
export interface Limit {
  policy: string;
  buckets: TokenBuckets;
  key: string;
}

/** The database a request's path is about, for the per-database bucket (data routes only). */
const DATA_PATH = /^\/(?:api\/)?db\/([^/]+)/;

const limiters = new Map<string, TokenBuckets>();

function sharedBuckets(rate: number, burst: number): TokenBuckets {
  const id = `${rate}/${burst}`;
  let buckets = limiters.get(id);
  if (!buckets) {
    buckets = new TokenBuckets(burst, rate / 1000, 50_000);
    limiters.set(id, buckets);
  }
  return buckets;
}

function limitsOf(
  config: FunctionsConfig,
  bearer: string | undefined,
  database: string | undefined,
): Limit[] {
  const limits: Limit[] = [];
  if (bearer && config.RATE_LIMIT_PER_CREDENTIAL > 0) {
    limits.push({
      policy: "credential",
      buckets: sharedBuckets(config.RATE_LIMIT_PER_CREDENTIAL, config.RATE_LIMIT_CREDENTIAL_BURST),
      key: bearer,
    });
  }
  if (database && config.RATE_LIMIT_PER_DATABASE > 0) {
    limits.push({
      policy: "database",
      buckets: sharedBuckets(config.RATE_LIMIT_PER_DATABASE, config.RATE_LIMIT_DATABASE_BURST),
      key: database,
    });
  }
  return limits;
}

/**
 * Takes a token from every bucket that applies to one request, or none when one is empty: the
 * refusal then says which bucket and how long to wait.
 */
export function admit(
  config: FunctionsConfig,
  bearer: string | undefined,
  database: string | undefined,
  now = Date.now(),
): { limits: Limit[]; refused?: { policy: string; wait: number } } {
  const limits = limitsOf(config, bearer, database);
  // Checked before any is taken, so a refused request costs no bucket a token.
  const empty = limits.find((l) => l.buckets.tokens(l.key, now) < 1);
  if (empty)
    return {
      limits,
      refused: { policy: empty.policy, wait: empty.buckets.waitSeconds(empty.key, now) },
    };
  for (const l of limits) l.buckets.take(l.key, now);
  return { limits };
}

export function rateLimit(configOf: (c: Context) => FunctionsConfig): MiddlewareHandler {
  return async (c, next) => {
    const config = configOf(c);
    if (config.RATE_LIMIT_PER_CREDENTIAL <= 0 && config.RATE_LIMIT_PER_DATABASE <= 0) return next();
    const database = DATA_PATH.exec(new URL(c.req.url).pathname)?.[1];
    const now = Date.now();
    const { limits, refused } = admit(config, bearerOf(c), database, now);
    if (limits.length === 0) return next();
    if (refused) {
      throw new ApiError(
        "RATE_LIMITED",
        `Too many requests for this ${refused.policy}; try again in ${refused.wait} s`,
        { retryAfter: refused.wait, policy: refused.policy },
        { "Retry-After": String(refused.wait), ...rateLimitHeaders(limits, now) },
      );
    }
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(limits, now)))
      c.header(name, value);
  };
}

/** The headers for `limits`; the trio describes the tightest one. */
export function rateLimitHeaders(limits: Limit[], now: number): Record<string, string> {
  const windowOf = (l: Limit) =>
    Math.max(1, Math.round(l.buckets.capacity / l.buckets.perMs / 1000));
  const state = limits.map((l) => ({
    l,
    remaining: Math.max(0, Math.floor(l.buckets.tokens(l.key, now))),
    reset: l.buckets.fullInSeconds(l.key, now),
  }));
  const tightest = state.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  return {
    "RateLimit-Policy": state
      .map((s) => `"${s.l.policy}";q=${s.l.buckets.capacity};w=${windowOf(s.l)}`)
      .join(", "),
    RateLimit: state.map((s) => `"${s.l.policy}";r=${s.remaining};t=${s.reset}`).join(", "),
    "RateLimit-Limit": String(tightest.l.buckets.capacity),
    "RateLimit-Remaining": String(tightest.remaining),
    "RateLimit-Reset": String(tightest.reset),
  };
}
