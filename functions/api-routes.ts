/** The OpenAPI definitions of every route (what /openapi.json documents). */
import { route as batch } from "./data/batch";
import { route as query } from "./data/query";
import { route as createDatabase } from "./databases/create";
import { route as deleteDatabase } from "./databases/delete";
import { route as getDatabase } from "./databases/get";
import { route as listDatabases } from "./databases/list";
import { route as pruneDatabase } from "./databases/prune";
import { route as revokeTokens } from "./databases/revoke-tokens";
import { route as spawnDatabase } from "./databases/spawn";
import { route as createToken } from "./databases/tokens";
import { route as proxy } from "./libsql/proxy";
import { route as deleteRows } from "./rows/delete";
import { route as insertRows } from "./rows/insert";
import { route as listRows } from "./rows/list";
import { route as updateRows } from "./rows/update";
import { route as consoleRoute } from "./system/console";
import { route as docs } from "./system/docs";
import { route as health } from "./system/health";
import { route as createTable } from "./tables/create";
import { route as deleteTable } from "./tables/delete";
import { route as getTable } from "./tables/get";
import { route as listTables } from "./tables/list";

export const API_ROUTES = [
  health,
  docs,
  consoleRoute,
  createDatabase,
  listDatabases,
  spawnDatabase,
  getDatabase,
  deleteDatabase,
  pruneDatabase,
  createToken,
  revokeTokens,
  query,
  batch,
  listTables,
  createTable,
  getTable,
  deleteTable,
  insertRows,
  listRows,
  updateRows,
  deleteRows,
  proxy,
];
