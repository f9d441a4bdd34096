import { ApiError } from "./errors";

/**
 * Database names are DNS labels (they become host names, container names and directories):
 * lowercase letters, digits and hyphens, 1-63 characters, no leading or trailing hyphen.
 */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names that would collide with routes, hosts or sqld's own namespace. */
const RESERVED = new Set([
  "admin",
  "api",
  "db",
  "default",
  "docs",
  "health",
  "localhost",
  "openapi",
  "www",
  "traefik",
]);

export function validateDatabaseName(name: string): string {
  if (!DNS_LABEL.test(name)) {
    throw new ApiError(
      "INVALID_NAME",
      `"${name.slice(0, 80)}" is not a valid database name: use 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
  if (RESERVED.has(name)) throw new ApiError("INVALID_NAME", `"${name}" is a reserved name`);
  return name;
}
