import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bearerOf } from "../../../core/bearer";
import { DomainError } from "../../../core/errors";
import type { Permission } from "../../../core/permissions";
import type { AccessControl, Principal } from "../access-control";
import type { ApiKeys } from "../api-keys";
import type { AuditAction, AuditLog } from "../audit-log";
import type { BackupService } from "../backups/backup-service";
import type { FileImporter } from "../files/file-importer";
import type { DatabaseManager } from "../manager";
import type { ControlPlaneMetrics } from "../metrics";
import type { UsageLedger } from "../usage-ledger";

/** What every control plane route can use (set by the app, see ../app.ts). */
export interface ControlPlaneEnv {
  Variables: {
    manager: DatabaseManager;
    files: FileImporter;
    backups: BackupService;
    access: AccessControl;
    keys: ApiKeys;
    audit: AuditLog;
    usage: UsageLedger;
    metrics: ControlPlaneMetrics;
    driver: string;
    /** The client's address (forwarded by a trusted functions host). */
    client: string;
    /** Who the request acts as, once authenticated (for the request log). */
    actor?: string;
    requestId: string;
  };
}

export type ControlPlaneApp = OpenAPIHono<ControlPlaneEnv>;
export type ControlPlaneContext = Context<ControlPlaneEnv>;

/** The request's bearer token (the same parsing as the functions'). */
export const bearer = bearerOf;

/** Who the request acts as (UNAUTHORIZED if nobody), recorded for the request log. */
export function principalOf(c: ControlPlaneContext): Principal {
  const principal = c.get("access").authenticate(bearerOf(c));
  c.set("actor", principal.actor);
  return principal;
}

/**
 * The request's principal, allowed `permission` (on `database`): authentication first (401
 * for a missing or bad credential), then role and scope (403 naming the permission), before
 * anything looks the database up, so a key cannot probe for names outside its scope.
 */
export function authorize(
  c: ControlPlaneContext,
  permission: Permission,
  database?: string,
): Principal {
  const principal = principalOf(c);
  c.get("access").authorize(principal, permission, database);
  return principal;
}

/**
 * Runs an admin action and appends its outcome to the audit log: "ok", or the code it failed
 * with (FORBIDDEN when the key may not do it). Unauthenticated requests are not recorded: they
 * have no actor, and the failed-authentication throttle answers floods of them.
 */
export async function audited<T>(
  c: ControlPlaneContext,
  spec: {
    action: AuditAction;
    permission: Permission;
    database?: string;
    detail?: Record<string, unknown>;
  },
  run: (principal: Principal) => T | Promise<T>,
): Promise<T> {
  const access = c.get("access");
  const principal = principalOf(c);
  const record = (outcome: string) => {
    try {
      c.get("audit").record({
        actor: principal.actor,
        action: spec.action,
        database: spec.database ?? null,
        client: c.get("client"),
        outcome,
        detail: spec.detail ?? null,
      });
    } catch (err) {
      // The action's own outcome stands; a registry that cannot take the entry is logged.
      console.error(
        JSON.stringify({ msg: "could not write the audit log", error: (err as Error).message }),
      );
    }
  };
  try {
    access.authorize(principal, spec.permission, spec.database);
  } catch (err) {
    record("FORBIDDEN");
    throw err;
  }
  try {
    const result = await run(principal);
    record("ok");
    return result;
  } catch (err) {
    record(err instanceof DomainError ? err.code : "INTERNAL_ERROR");
    throw err;
  }
}

/** Longest usage window one request may ask for (a year of hourly buckets). */
const MAX_USAGE_WINDOW_MS = 366 * 24 * 3_600_000;

/** A usage query's window: `to` defaults to now, `from` to a day before `to`. */
export function usageWindow(q: { from?: number; to?: number }): { from: number; to: number } {
  const to = q.to ?? Date.now();
  const from = q.from ?? to - 24 * 3_600_000;
  if (from > to) throw new DomainError("BAD_REQUEST", "`from` is after `to`");
  if (to - from > MAX_USAGE_WINDOW_MS)
    throw new DomainError("BAD_REQUEST", "Ask for at most 366 days of usage at once");
  return { from, to };
}
