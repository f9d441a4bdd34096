import { type Client, createClient } from "@libsql/client/web";
import { type FunctionsContext, requireBearer } from "./context";
import type { ControlPlaneClient, Resolved } from "./control-plane-client";
import { ApiError } from "./errors";
import { validateDatabaseName } from "./names";
import { connectionFailure, toApiSqlError } from "./sql-errors";

interface CacheEntry {
  resolved: Resolved;
  until: number;
}

/**
 * Resolved workers per (database, caller token). The control plane is asked at most once per
 * RESOLVE_CACHE_MS per caller, and never past the minted token's expiry. Module scope: it lives
 * as long as the isolate (Workers) or process (Node host).
 */
const cache = new Map<string, CacheEntry>();
const MAX_CACHE_ENTRIES = 10_000;

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
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(key, { resolved, until: Math.min(now + ttl, tokenLimit) });
  return resolved;
}

function forget(name: string, bearer: string): void {
  cache.delete(`${name}\u0000${bearer}`);
}

/** Where a database's worker is, with a token carrying the caller's access (for the proxy). */
export async function resolveDatabase(
  c: FunctionsContext,
  name: string,
  fresh = false,
): Promise<Resolved> {
  validateDatabaseName(name);
  return cachedResolve(
    c.get("controlPlane"),
    c.get("config").RESOLVE_CACHE_MS,
    name,
    requireBearer(c),
    fresh,
  );
}

export interface DatabaseHandle {
  client: Client;
  access: "read" | "write";
}

/**
 * Calls the database's worker through `send`. If the worker refused the connection (it was
 * restarted elsewhere, or stopped when idle), the database is resolved again, which starts it,
 * and `send` is retried once: the refused request never reached the worker. Where the runtime
 * cannot tell a refused connection from a broken one, the retry happens only if the database
 * really moved to a new worker. Otherwise the error is WORKER_UNAVAILABLE and the cached
 * address is dropped, so the next request resolves afresh.
 */
export async function callWorker<T>(
  c: FunctionsContext,
  name: string,
  send: (resolved: Resolved) => Promise<T>,
): Promise<T> {
  const bearer = requireBearer(c);
  let resolved = await resolveDatabase(c, name);
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(resolved);
    } catch (err) {
      const failure = connectionFailure(err);
      if (!failure) throw err;
      forget(name, bearer);
      if (attempt === 0) {
        const fresh = await resolveDatabase(c, name, true);
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

/** Runs `work` with a @libsql/client for the database and the caller's access; SQL errors become API errors. */
export async function withDatabase<T>(
  c: FunctionsContext,
  name: string,
  work: (db: DatabaseHandle) => Promise<T>,
): Promise<T> {
  try {
    return await callWorker(c, name, async (resolved) => {
      const client = createClient({
        url: resolved.url,
        authToken: resolved.token,
        intMode: "bigint",
      });
      try {
        return await work({ client, access: resolved.access });
      } finally {
        client.close();
      }
    });
  } catch (err) {
    throw err instanceof ApiError ? err : toApiSqlError(err);
  }
}
