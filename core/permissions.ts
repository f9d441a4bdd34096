import { z } from "@hono/zod-openapi";

/**
 * Who may do what, written once for the control plane (which enforces it), the functions and
 * the console (which show a key only what it may do). A key has one role and a scope of
 * databases; a permission is checked against both, and a refusal names the permission missing.
 */
export const PERMISSIONS = [
  "keys:manage",
  "databases:create",
  "databases:delete",
  "databases:update",
  "databases:read",
  "tokens:manage",
  "backups:manage",
  "backups:read",
  "data:write",
  "data:read",
  "usage:read",
  "audit:read",
  "metrics:read",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ["owner", "admin", "developer", "viewer"] as const;

export type Role = (typeof ROLES)[number];

export const RoleSchema = z.enum(ROLES);

/**
 * - owner: everything, keys included (the bootstrap admin token is an owner key)
 * - admin: databases and their tokens, data, usage, audit and metrics; not keys
 * - developer: query, read and write the data of the databases in scope, see them, their usage
 *   and their backups
 * - viewer: read the data of the databases in scope, see them, their usage and their backups
 */
const GRANTS: Record<Role, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS.filter((p) => p !== "keys:manage"),
  developer: ["databases:read", "data:write", "data:read", "usage:read", "backups:read"],
  viewer: ["databases:read", "data:read", "usage:read", "backups:read"],
};

/** Permissions about the whole installation: a scoped key never has them. */
const GLOBAL: ReadonlySet<Permission> = new Set(["keys:manage", "audit:read", "metrics:read"]);

export const permissionsOf = (role: Role): readonly Permission[] => GRANTS[role];

/**
 * A key's databases: every one ("*"), or a list of names and prefixes ("app-*"). At most 100
 * entries, each a database name, optionally ending in one "*".
 */
export const ScopeSchema = z
  .union([
    z.literal("*"),
    z
      .array(
        z
          .string()
          .min(1)
          .max(201)
          .regex(/^(?:[a-z0-9][a-z0-9-]{0,62}\*?|\*)$/, "a database name, or a prefix ending in *"),
      )
      .min(1)
      .max(100),
  ])
  .openapi({
    description:
      'Every database ("*"), or a list of names and prefixes ending in "*" (e.g. "app-*")',
    example: ["app-*", "analytics"],
  });

export type Scope = z.infer<typeof ScopeSchema>;

export const isGlobalScope = (scope: Scope): boolean => scope === "*" || scope.includes("*");

/** Whether `scope` covers the database `name`. */
export function scopeCovers(scope: Scope, name: string): boolean {
  if (scope === "*") return true;
  return scope.some((entry) =>
    entry.endsWith("*") ? name.startsWith(entry.slice(0, -1)) : entry === name,
  );
}

/** Whether a key with `role` and `scope` may do `permission` (on `database`, if it is about one). */
export function allows(
  grant: { role: Role; scope: Scope },
  permission: Permission,
  database?: string,
): boolean {
  if (!GRANTS[grant.role].includes(permission)) return false;
  if (GLOBAL.has(permission)) return isGlobalScope(grant.scope);
  return database === undefined || scopeCovers(grant.scope, database);
}
