/**
 * Every entry (one route each), by its id in ./route-table.ts. Hosts that run all functions in
 * one process (the Node host, the single wrangler worker) dispatch to these; under Miniflare each
 * entry is its own worker.
 */
import batch from "./data/batch";
import query from "./data/query";
import createDatabase from "./databases/create";
import deleteDatabase from "./databases/delete";
import getDatabase from "./databases/get";
import listDatabases from "./databases/list";
import pruneDatabase from "./databases/prune";
import revokeTokens from "./databases/revoke-tokens";
import spawnDatabase from "./databases/spawn";
import createToken from "./databases/tokens";
import proxy from "./libsql/proxy";
import deleteRows from "./rows/delete";
import insertRows from "./rows/insert";
import listRows from "./rows/list";
import updateRows from "./rows/update";
import consoleApp from "./system/console";
import docs from "./system/docs";
import health from "./system/health";
import openapi from "./system/openapi";
import createTable from "./tables/create";
import deleteTable from "./tables/delete";
import getTable from "./tables/get";
import listTables from "./tables/list";

export interface FetchEntry {
  fetch(request: Request, env?: unknown, ctx?: unknown): Response | Promise<Response>;
}

export const ENTRIES: Record<string, FetchEntry> = {
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
  "data/query": query,
  "data/batch": batch,
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
