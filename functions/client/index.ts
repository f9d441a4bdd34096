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

/** A failed API call: the problem document's stable `code` and its detail. */
export class DbForgeApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "DbForgeApiError";
  }
}

/**
 * The data of a call, or a DbForgeApiError with the problem's code and detail (also when the
 * API cannot be reached at all).
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw new DbForgeApiError(`cannot reach the DB-Forge API: ${(err as Error).message}`);
  }
  if (result.error !== undefined) {
    const problem = result.error as Partial<Problem>;
    throw new DbForgeApiError(
      problem.detail ?? `HTTP ${result.response.status}`,
      problem.code,
      result.response.status,
    );
  }
  return result.data as T;
}
