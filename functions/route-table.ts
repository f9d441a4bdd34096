/**
 * The route manifest: every public route and the entry (function) that serves it, written once.
 * Route files take their method and path from here (manifestRoute), hosts dispatch by it
 * (matchRoute), Miniflare deploys a worker per entry of it, ./entries.ts maps its ids to the
 * entry modules, and the OpenAPI document lists those modules' routes; a test checks that all
 * of them agree. Data only, so the router worker stays small.
 */
export interface RouteSpec {
  /** The entry's id: its file path under functions/, e.g. "data/query". */
  entry: string;
  method: "GET" | "POST" | "PATCH" | "DELETE" | "ALL";
  /** OpenAPI-style path; `{name}` is one segment, a trailing `*` anything below. */
  path: string;
}

export const ROUTE_TABLE: RouteSpec[] = [
  { entry: "system/console", method: "GET", path: "/" },
  { entry: "system/console", method: "GET", path: "/assets/*" },
  { entry: "system/console", method: "GET", path: "/favicon.svg" },
  { entry: "system/health", method: "GET", path: "/health" },
  { entry: "system/openapi", method: "GET", path: "/openapi.json" },
  { entry: "system/docs", method: "GET", path: "/docs" },
  { entry: "databases/create", method: "POST", path: "/admin/databases" },
  { entry: "databases/list", method: "GET", path: "/admin/databases" },
  { entry: "databases/spawn", method: "POST", path: "/admin/databases/spawn/{name}" },
  { entry: "databases/prune", method: "DELETE", path: "/admin/databases/prune/{name}" },
  { entry: "databases/get", method: "GET", path: "/admin/databases/{name}" },
  { entry: "databases/update", method: "PATCH", path: "/admin/databases/{name}" },
  { entry: "databases/import", method: "POST", path: "/admin/databases/{name}/import" },
  { entry: "databases/usage", method: "GET", path: "/admin/databases/{name}/usage" },
  { entry: "databases/restore", method: "POST", path: "/admin/databases/{name}/restore" },
  { entry: "databases/fork", method: "POST", path: "/admin/databases/{name}/fork" },
  { entry: "backups/create", method: "POST", path: "/admin/databases/{name}/backups" },
  { entry: "backups/list", method: "GET", path: "/admin/databases/{name}/backups" },
  { entry: "backups/delete", method: "DELETE", path: "/admin/databases/{name}/backups/{id}" },
  {
    entry: "backups/download",
    method: "GET",
    path: "/admin/databases/{name}/backups/{id}/file",
  },
  { entry: "databases/delete", method: "DELETE", path: "/admin/databases/{name}" },
  { entry: "databases/tokens", method: "POST", path: "/admin/databases/{name}/tokens" },
  {
    entry: "databases/revoke-tokens",
    method: "POST",
    path: "/admin/databases/{name}/tokens/revoke",
  },
  { entry: "usage/summary", method: "GET", path: "/admin/usage" },
  { entry: "databases/events", method: "GET", path: "/admin/events" },
  { entry: "keys/create", method: "POST", path: "/admin/keys" },
  { entry: "keys/list", method: "GET", path: "/admin/keys" },
  { entry: "keys/revoke", method: "DELETE", path: "/admin/keys/{id}" },
  { entry: "audit/list", method: "GET", path: "/admin/audit" },
  { entry: "system/whoami", method: "GET", path: "/admin/whoami" },
  { entry: "data/query", method: "POST", path: "/api/db/{name}/query" },
  { entry: "data/batch", method: "POST", path: "/api/db/{name}/batch" },
  { entry: "data/export", method: "GET", path: "/api/db/{name}/export" },
  { entry: "tables/list", method: "GET", path: "/api/db/{name}/tables" },
  { entry: "tables/create", method: "POST", path: "/api/db/{name}/tables" },
  { entry: "tables/get", method: "GET", path: "/api/db/{name}/tables/{table}" },
  { entry: "tables/delete", method: "DELETE", path: "/api/db/{name}/tables/{table}" },
  { entry: "rows/insert", method: "POST", path: "/api/db/{name}/tables/{table}/rows" },
  { entry: "rows/list", method: "GET", path: "/api/db/{name}/tables/{table}/rows" },
  { entry: "rows/update", method: "PATCH", path: "/api/db/{name}/tables/{table}/rows" },
  { entry: "rows/delete", method: "DELETE", path: "/api/db/{name}/tables/{table}/rows" },
  { entry: "libsql/proxy", method: "ALL", path: "/db/{name}/*" },
];

/**
 * The method and path of an entry's (first) route, for its `createRoute`: OpenAPI paths with
 * `{param}`, as here.
 */
export function manifestRoute(entry: string): {
  method: "get" | "post" | "patch" | "delete";
  path: string;
} {
  const spec = manifestSpec(entry);
  if (spec.method === "ALL") throw new Error(`${entry} serves every method: use manifestPath`);
  return {
    method: spec.method.toLowerCase() as "get" | "post" | "patch" | "delete",
    path: spec.path,
  };
}

/** The path of an entry's (first) route. */
export const manifestPath = (entry: string): string => manifestSpec(entry).path;

function manifestSpec(entry: string): RouteSpec {
  const spec = ROUTE_TABLE.find((r) => r.entry === entry);
  if (!spec) throw new Error(`no route for entry ${entry} in the manifest`);
  return spec;
}

/** Worker-binding name of an entry: "data/query" -> "DATA_QUERY". */
export const bindingOf = (entry: string): string => entry.replace(/[/-]/g, "_").toUpperCase();

const compiled = ROUTE_TABLE.map((spec) => ({
  spec,
  pattern: new RegExp(
    `^${spec.path
      .replace(/[.]/g, "\\.")
      .replace(/\{[a-z]+\}/g, "[^/]+")
      .replace(/\/\*$/, "(?:/.*)?")}$`,
  ),
}));

export type RouteMatch = { spec: RouteSpec } | { methodNotAllowed: true } | undefined;

/** The route serving `method` `pathname`, or a 405 when only the method is wrong. */
export function matchRoute(method: string, pathname: string): RouteMatch {
  let pathMatched = false;
  for (const { spec, pattern } of compiled) {
    if (!pattern.test(pathname)) continue;
    if (
      spec.method === "ALL" ||
      spec.method === method ||
      (spec.method === "GET" && method === "HEAD")
    )
      return { spec };
    pathMatched = true;
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
