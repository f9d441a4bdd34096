import { createDbForgeClient, type DbForgeClient, type Problem } from "../functions/client";
import type { CliConfig } from "./config";

/** A failure to report to the user (exit status 1), with the API's problem code when there is one. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function apiClient(config: CliConfig): DbForgeClient {
  return createDbForgeClient({
    baseUrl: config.url,
    ...(config.token ? { token: config.token } : {}),
  });
}

/** The data of an API call, or a CliError carrying the problem document's code and detail. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw new CliError(`cannot reach the DB-Forge API: ${(err as Error).message}`);
  }
  if (result.error !== undefined) {
    const problem = result.error as Partial<Problem>;
    throw new CliError(problem.detail ?? `HTTP ${result.response.status}`, problem.code);
  }
  return result.data as T;
}
