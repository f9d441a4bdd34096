import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { Logger } from "pino";
import { createApp } from "../../core/app";
import { AuthFailureThrottle, CLIENT_ADDRESS_HEADER } from "../../core/auth-throttle";
import { CONTROL_PLANE_API } from "../../core/control-plane-api";
import { ERROR_CODE_HEADER } from "../../core/errors";
import { throttleFailedAuth } from "../../core/throttle-middleware";
import type { AccessControl } from "./access-control";
import type { ApiKeys } from "./api-keys";
import type { AuditLog } from "./audit-log";
import type { BackupService } from "./backups/backup-service";
import type { FileImporter } from "./files/file-importer";
import type { DatabaseManager } from "./manager";
import type { ControlPlaneMetrics } from "./metrics";
import * as audit from "./routes/audit";
import * as createBackup from "./routes/backups/create";
import * as deleteBackup from "./routes/backups/delete";
import * as downloadBackup from "./routes/backups/download";
import * as listBackups from "./routes/backups/list";
import type { ControlPlaneApp, ControlPlaneEnv } from "./routes/context";
import * as createDatabase from "./routes/databases/create";
import * as deleteDatabase from "./routes/databases/delete";
import * as forkDatabase from "./routes/databases/fork";
import * as getDatabase from "./routes/databases/get";
import * as importDatabaseFile from "./routes/databases/import-file";
import * as listDatabases from "./routes/databases/list";
import * as resolveDatabase from "./routes/databases/resolve";
import * as restoreDatabase from "./routes/databases/restore";
import * as revokeTokens from "./routes/databases/revoke-tokens";
import * as createToken from "./routes/databases/tokens";
import * as updateDatabase from "./routes/databases/update";
import * as databaseUsage from "./routes/databases/usage";
import * as health from "./routes/health";
import * as createKey from "./routes/keys/create";
import * as listKeys from "./routes/keys/list";
import * as revokeKey from "./routes/keys/revoke";
import * as metrics from "./routes/metrics";
import * as usage from "./routes/usage";
import * as whoami from "./routes/whoami";
import type { UsageLedger } from "./usage-ledger";

const ROUTES = [
  health,
  createDatabase,
  listDatabases,
  getDatabase,
  updateDatabase,
  deleteDatabase,
  importDatabaseFile,
  createBackup,
  listBackups,
  deleteBackup,
  downloadBackup,
  restoreDatabase,
  forkDatabase,
  databaseUsage,
  resolveDatabase,
  createToken,
  revokeTokens,
  usage,
  createKey,
  listKeys,
  revokeKey,
  audit,
  whoami,
  metrics,
];

/** The control plane's HTTP API (internal: the functions and operators call it). */
export function buildControlPlaneApp(deps: {
  manager: DatabaseManager;
  files: FileImporter;
  backups: BackupService;
  access: AccessControl;
  keys: ApiKeys;
  audit: AuditLog;
  usage: UsageLedger;
  metrics: ControlPlaneMetrics;
  /** One JSON line per request (pino). */
  log: Logger;
  driver: string;
  authThrottle: { burst: number; perMinute: number };
  trustedProxies: string[];
}): ControlPlaneApp {
  const app = createApp<ControlPlaneEnv>();
  const trusted = new Set(deps.trustedProxies);
  const clientOf = (c: Context): string => {
    const peer = peerAddress(c);
    const forwarded = c.req.header(CLIENT_ADDRESS_HEADER);
    return forwarded && (isLoopback(peer) || trusted.has(peer)) ? forwarded : peer;
  };
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    // The route's pattern, not the path: one series per route whatever the names in it.
    const route = c.req.routePath || "unmatched";
    const status = String(c.res.status);
    deps.metrics.requestDuration.observe(
      { method: c.req.method, route, status },
      (performance.now() - started) / 1000,
    );
    const code = c.res.headers.get(ERROR_CODE_HEADER) ?? "";
    deps.metrics.responses.inc({ route, status, code });
    const level = c.res.status >= 500 ? "error" : "info";
    if (!deps.log.isLevelEnabled(level)) return;
    const database = c.req.param("name");
    deps.log[level](
      {
        reqId: c.get("requestId"),
        method: c.req.method,
        route,
        status: c.res.status,
        ...(code ? { code } : {}),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(database ? { database } : {}),
        ...(c.get("actor") ? { keyId: c.get("actor") } : {}),
        client: c.get("client"),
      },
      "request",
    );
  });
  app.use(throttleFailedAuth(new AuthFailureThrottle(deps.authThrottle), clientOf));
  app.use(async (c, next) => {
    c.set("manager", deps.manager);
    c.set("files", deps.files);
    c.set("backups", deps.backups);
    c.set("access", deps.access);
    c.set("keys", deps.keys);
    c.set("audit", deps.audit);
    c.set("usage", deps.usage);
    c.set("metrics", deps.metrics);
    c.set("driver", deps.driver);
    c.set("client", clientOf(c));
    await next();
  });
  for (const route of ROUTES) route.register(app);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
  });
  app.doc31(CONTROL_PLANE_API.openapi.path, {
    openapi: "3.1.0",
    info: { title: "DB-Forge control plane", version: "0.1.0" },
  });
  return app;
}

function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // Not served by @hono/node-server (in-process tests calling app.fetch).
    return "unknown";
  }
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
