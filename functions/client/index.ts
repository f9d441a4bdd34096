/**
 * The typed DB-Forge API client: openapi-fetch over the types generated from /openapi.json.
 *
 *   const api = createDbForgeClient({ baseUrl: "http://127.0.0.1:8787", token });
 *   const { data, error } = await api.POST("/api/db/{name}/query", { params: { path: { name } }, body: { sql } });
 *
 * `error` is the problem document (with its `code`) when the API answers with one.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths };
export type Problem = components["schemas"]["Problem"];

export function createDbForgeClient(options: {
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
}) {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ""),
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export type DbForgeClient = ReturnType<typeof createDbForgeClient>;
