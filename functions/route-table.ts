/**
 * Every public route and the entry (function) that serves it. Data only, so the router worker
 * that dispatches to the entries through service bindings stays small; ./entries.ts maps the
 * ids to the entry modules for hosts that run them in one process.
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
  { entry: "databases/delete", method: "DELETE", path: "/admin/databases/{name}" },
  { entry: "databases/tokens", method: "POST", path: "/admin/databases/{name}/tokens" },
  {
    entry: "databases/revoke-tokens",
    method: "POST",
    path: "/admin/databases/{name}/tokens/revoke",
  },
  { entry: "data/query", method: "POST", path: "/api/db/{name}/query" },
  { entry: "data/batch", method: "POST", path: "/api/db/{name}/batch" },
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
