import { type FunctionsContext, publicBaseUrl } from "./context";
import type { DatabaseInfo } from "./control-plane-client";

/** The libSQL URL of a database for @libsql/client: this API's /db/{name}/ proxy. */
export function libsqlUrl(c: FunctionsContext, name: string): string {
  return `${publicBaseUrl(c)}/db/${name}/`;
}

/** A database as users see it: the worker's internal address replaced by the public URL. */
export function publicDatabase(c: FunctionsContext, info: DatabaseInfo) {
  return {
    name: info.name,
    status: info.status,
    createdAt: info.createdAt,
    lastActiveAt: info.lastActiveAt,
    sizeBytes: info.sizeBytes,
    url: libsqlUrl(c, info.name),
    restarts: info.restarts,
    lastError: info.lastError,
    memoryMb: info.memoryMb,
    quotaBytes: info.quotaBytes,
  };
}
