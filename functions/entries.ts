import type { RouteConfig } from "@hono/zod-openapi";
/**
 * Every entry (one route each), by its id in ./route-table.ts. Hosts that run all functions in
 * one process (the Node host, the single wrangler worker) dispatch to these; under Miniflare each
 * entry is its own worker.
 */
import * as auditLog from "./audit/list";
import * as createBackup from "./backups/create";
import * as deleteBackup from "./backups/delete";
import * as downloadBackup from "./backups/download";
import * as listBackups from "./backups/list";
import * as batch from "./data/batch";
import * as exportDatabase from "./data/export";
import * as query from "./data/query";
import * as createDatabase from "./databases/create";
import * as deleteDatabase from "./databases/delete";
import * as databaseEvents from "./databases/events";
import * as forkDatabase from "./databases/fork";
import * as getDatabase from "./databases/get";
import * as importDatabase from "./databases/import";
import * as listDatabases from "./databases/list";
import * as pruneDatabase from "./databases/prune";
import * as restoreDatabase from "./databases/restore";
import * as revokeTokens from "./databases/revoke-tokens";
import * as spawnDatabase from "./databases/spawn";
import * as createToken from "./databases/tokens";
import * as updateDatabase from "./databases/update";
import * as databaseUsage from "./databases/usage";
import * as createKey from "./keys/create";
import * as listKeys from "./keys/list";
import * as revokeKey from "./keys/revoke";
import * as proxy from "./libsql/proxy";
import * as deleteRows from "./rows/delete";
import * as insertRows from "./rows/insert";
import * as listRows from "./rows/list";
import * as updateRows from "./rows/update";
import * as consoleApp from "./system/console";
import * as docs from "./system/docs";
import * as health from "./system/health";
import * as openapi from "./system/openapi";
import * as whoami from "./system/whoami";
import * as createTable from "./tables/create";
import * as deleteTable from "./tables/delete";
import * as getTable from "./tables/get";
import * as listTables from "./tables/list";
import * as usageSummary from "./usage/summary";

export interface FetchEntry {
  fetch(request: Request, env?: unknown, ctx?: unknown): Response | Promise<Response>;
}

/** An entry module: its Hono app (default export) and its OpenAPI route. */
interface EntryModule {
  default: FetchEntry;
  route: RouteConfig;
}

/** Every entry module, by its id in the manifest (./route-table.ts). */
export const ENTRY_MODULES: Record<string, EntryModule> = {
  "system/console": consoleApp,
  "system/health": health,
  "system/openapi": openapi,
  "system/docs": docs,
  "databases/create": createDatabase,
  "databases/list": listDatabases,
  "databases/spawn": spawnDatabase,
  "databases/prune": pruneDatabase,
  "databases/get": getDatabase,
  "databases/delete": deleteDatabase,
  "databases/tokens": createToken,
  "databases/revoke-tokens": revokeTokens,
  "databases/update": updateDatabase,
  "databases/import": importDatabase,
  "databases/restore": restoreDatabase,
  "databases/fork": forkDatabase,
  "backups/create": createBackup,
  "backups/list": listBackups,
  "backups/delete": deleteBackup,
  "backups/download": downloadBackup,
  "databases/usage": databaseUsage,
  "usage/summary": usageSummary,
  "databases/events": databaseEvents,
  "keys/create": createKey,
  "keys/list": listKeys,
  "keys/revoke": revokeKey,
  "audit/list": auditLog,
  "system/whoami": whoami,
  "data/query": query,
  "data/batch": batch,
  "data/export": exportDatabase,
  "tables/list": listTables,
  "tables/create": createTable,
  "tables/get": getTable,
  "tables/delete": deleteTable,
  "rows/insert": insertRows,
  "rows/list": listRows,
  "rows/update": updateRows,
  "rows/delete": deleteRows,
  "libsql/proxy": proxy,
};

/** The fetch handler of every entry, by id. */
export const ENTRIES: Record<string, FetchEntry> = Object.fromEntries(
  Object.entries(ENTRY_MODULES).map(([id, module]) => [id, module.default]),
);

/** The OpenAPI definitions of every route (what /openapi.json documents), one per entry. */
export const ENTRY_ROUTES: RouteConfig[] = Object.values(ENTRY_MODULES).map((m) => m.route);
