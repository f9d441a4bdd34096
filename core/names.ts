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

/**
 * The database named by a URL path segment as it was sent (still percent-encoded). One rule for
 * every way a name arrives in a path (REST routes, /db/{name}/ over HTTP and WebSocket, in
 * every runtime): the segment is percent-decoded, as RFC 3986 makes `%70eer` and `peer` the
 * same and as Hono decodes route parameters, and must then be a valid name. Names are plain
 * ASCII, so this never makes two different databases look alike. A segment that does not
 * decode (`%E0%A4%A`, invalid UTF-8) is INVALID_NAME, never a URIError.
 */
export function databaseNameFromSegment(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new ApiError(
      "INVALID_NAME",
      `"${segment.slice(0, 80)}" is not a valid database name: it is not valid percent-encoded UTF-8`,
    );
  }
  return validateDatabaseName(name);
}

/**
 * A /db/{name}/... pathname (as sent, percent-encoded) split into the name's segment and the
 * rest, the path asked of the worker ("/" when there is none). Taken from the raw path, never
 * from a decoded name: `%70eer` decodes shorter than its segment, and slicing by the decoded
 * name cut the path in the wrong place.
 */
export function splitProxyPath(pathname: string): { segment: string; rest: string } {
  const match = /^\/db\/([^/]*)(\/.*)?$/.exec(pathname);
  return { segment: match?.[1] ?? "", rest: match?.[2] ?? "/" };
}
