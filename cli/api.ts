import { createDbForgeClient, type DbForgeClient } from "../functions/client";
import type { CliConfig } from "./config";

/** Failures reported to the user (exit status 1), with the API's problem code when there is one. */
export { DbForgeApiError as CliError, unwrap } from "../functions/client";

export function apiClient(config: CliConfig): DbForgeClient {
  return createDbForgeClient({
    baseUrl: config.url,
    ...(config.token ? { token: config.token } : {}),
  });
}
