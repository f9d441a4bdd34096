import type { Access } from "../../core/access";
import type { AuthFailureThrottle } from "../../core/auth-throttle";
import { requireBearer } from "../../core/bearer";
import { ApiError } from "../../core/errors";
import { validateDatabaseName } from "../../core/names";
import { rateLimited } from "../../core/throttle-middleware";
import type { FunctionsContext } from "./context";
import type { ControlPlaneClient, Resolved } from "./control-plane-client";
import { type HranaClient, hranaClient } from "./hrana/client";
import { type WorkerTransport, workerTransport } from "./hrana/transport";
import { connectionFailure, toApiSqlError } from "./sql-errors";

interface CacheEntry {
  resolved: Resolved;
  until: number;
}

/**
 * Resolved workers per (database, caller token). The control plane is asked at most once per
 * RESOLVE_CACHE_MS per caller, never past the minted token's expiry, and never past the time the
 * control plane vouches for the worker staying up (`awakeForMs`: a worker with a short idle
 * timeout may stop while an address is cached; a resolve after that starts it again, where the
 * old address would meet the stopping worker). Module scope: it lives as long as the isolate
 * (Workers) or process (Node host).
 */
const cache = new Map<string, CacheEntry>();
const MAX_CACHE_ENTRIES = 10_000;

/**
 * The cached answer for (database, caller token), if it is still good; never asks anyone. A
 * host's fast lane takes only requests this knows: the first request of a caller goes the
 * full way, which fills the cache.
 */
export function cachedResolved(name: string, bearer: string): Resolved | undefined {
  const hit = cache.get(`${name}\u0000${bearer}`);
  return hit && hit.until > Date.now() ? hit.resolved : undefined;
}

/** resolve through the cache; `fresh` forces a new answer (the cached worker went away). */
export async function cachedResolve(
  controlPlane: ControlPlaneClient,
  ttl: number,
  name: string,
  bearer: string,
  fresh: boolean,
): Promise<Resolved> {
  const key = `${name}\u0000${bearer}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && !fresh && hit.until > now) return hit.resolved;
  const resolved = await controlPlane.resolve(bearer, name);
  const tokenLimit =
    resolved.expiresAt === null ? Number.POSITIVE_INFINITY : resolved.expiresAt * 1000 - 30_000;
  const awakeLimit =
    resolved.awakeForMs === null ? Number.POSITIVE_INFINITY : Date.now() + resolved.awakeForMs;
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(key, { resolved, until: Math.min(now + ttl, tokenLimit, awakeLimit) });
  return resolved;
}

/**
 * The WebSocket relays' one resolve policy (Node host and Workers alike): the credentials of
 * each hello, resolved afresh (a hello is rare, and a re-hello may carry new credentials), and
 * throttled like HTTP requests: a hello with a bad token counts as a failed authentication,
 * and a throttled client's hello is refused with RATE_LIMITED.
 */
export async function resolveHello(options: {
  controlPlane: ControlPlaneClient;
  cacheMs: number;
  name: string;
  jwt: string | null;
  throttle: AuthFailureThrottle;
  client: string;
}): Promise<Resolved> {
  const { throttle, client } = options;
  const wait = throttle.retryAfterSeconds(client);
  if (wait > 0) throw rateLimited(wait);
  try {
    if (!options.jwt) throw new ApiError("UNAUTHORIZED", "Send a token in the hello message");
    return await cachedResolve(
      options.controlPlane,
      options.cacheMs,
      options.name,
      options.jwt,
      true,
    );
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throttle.failed(client);
    throw err;
  }
}

function forget(name: string, bearer: string): void {
  cache.delete(`${name}\u0000${bearer}`);
}

/**
 * Everything database access needs, as plain values: who asks (their own token: admin or
 * database) and how to reach the control plane. From a request: callerOf(c).
 */
export interface DatabaseCaller {
  controlPlane: ControlPlaneClient;
  /** How long a resolved worker is reused (RESOLVE_CACHE_MS). */
  cacheMs: number;
  bearer: string;
  /** How requests reach workers (see ./hrana/transport.ts). */
  transport: WorkerTransport;
}

/** The caller of a function's request. */
export const callerOf = (c: FunctionsContext): DatabaseCaller => ({
  controlPlane: c.get("controlPlane"),
  cacheMs: c.get("config").RESOLVE_CACHE_MS,
  bearer: requireBearer(c),
  transport: workerTransport(c.env),
});

/** Where a database's worker is, with a token carrying the caller's access. */
export async function resolveDatabase(
  caller: DatabaseCaller,
  name: string,
  fresh = false,
): Promise<Resolved> {
  validateDatabaseName(name);
  return cachedResolve(caller.controlPlane, caller.cacheMs, name, caller.bearer, fresh);
}

export interface DatabaseHandle {
  client: HranaClient;
  access: Access;
}

/** Worker error codes meaning it no longer accepts the token resolve minted (revoke, re-create). */
const STALE_TOKEN_CODES = new Set(["AUTH_JWT_INVALID", "AUTH_JWT_EXPIRED"]);

const isStaleTokenError = (err: unknown): boolean =>
  STALE_TOKEN_CODES.has(String((err as { code?: unknown } | null)?.code ?? ""));

/**
 * Calls the database's worker through `send`. If the worker refused the connection (it was
 * restarted elsewhere, or stopped when idle), the database is resolved again, which starts it,
 * and `send` is retried once: the refused request never reached the worker. One whose
 * connection broke after it was sent is not retried (WORKER_UNAVAILABLE). Where the runtime
 * cannot tell a refused connection from a broken one, the retry happens only if the database
 * really moved to a new worker. Otherwise the error is WORKER_UNAVAILABLE and the cached
 * address is dropped, so the next request resolves afresh.
 *
 * If the worker rejects the cached worker token (its tokens were revoked, or the database was
 * re-created), the caller's own credential is checked again by a fresh resolve, and `send`
 * retried once with the new token: a revoked caller gets the control plane's 401, an admin
 * goes on working. `rejectedToken` tells such an answer when `send` returns rather than throws
 * (the proxy passes responses through).
 */
export async function callWorker<T>(
  caller: DatabaseCaller,
  name: string,
  send: (resolved: Resolved) => Promise<T>,
  rejectedToken: (result: T) => boolean = () => false,
): Promise<T> {
  const { bearer } = caller;
  let resolved = await resolveDatabase(caller, name);
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await send(resolved);
      if (attempt > 0 || !rejectedToken(result)) return result;
      forget(name, bearer);
      resolved = await resolveDatabase(caller, name, true);
    } catch (err) {
      if (attempt === 0 && isStaleTokenError(err)) {
        forget(name, bearer);
        resolved = await resolveDatabase(caller, name, true);
        continue;
      }
      const failure = connectionFailure(err);
      if (!failure) throw err;
      forget(name, bearer);
      // A request that reached the worker before its connection broke is never sent again: it
      // may have run (a write applied twice). The caller gets a retryable 503.
      if (attempt === 0 && failure !== "broken") {
        const fresh = await resolveDatabase(caller, name, true);
        if (failure === "refused" || fresh.url !== resolved.url) {
          resolved = fresh;
          continue;
        }
      }
      throw new ApiError(
        "WORKER_UNAVAILABLE",
        `The database worker could not be reached: ${(err as Error).message}`,
      );
    }
  }
}

/** Runs `work` with a client of the database at the caller's access; SQL errors become API errors. */
export async function withDatabase<T>(
  caller: DatabaseCaller,
  name: string,
  work: (db: DatabaseHandle) => Promise<T>,
): Promise<T> {
  try {
    return await callWorker(caller, name, (resolved) =>
      work({
        client: hranaClient(caller.transport, resolved.url, resolved.token),
        access: resolved.access,
      }),
    );
  } catch (err) {
    throw err instanceof ApiError ? err : toApiSqlError(err);
  }
}
