import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { createApp } from "../../core/app";
import { AuthFailureThrottle, CLIENT_ADDRESS_HEADER } from "../../core/auth-throttle";
import { CONTROL_PLANE_API } from "../../core/control-plane-api";
import { throttleFailedAuth } from "../../core/throttle-middleware";
import type { DatabaseManager } from "./manager";
import type { ControlPlaneApp, ControlPlaneEnv } from "./routes/context";
import * as createDatabase from "./routes/databases/create";
import * as deleteDatabase from "./routes/databases/delete";
import * as getDatabase from "./routes/databases/get";
import * as listDatabases from "./routes/databases/list";
import * as resolveDatabase from "./routes/databases/resolve";
import * as revokeTokens from "./routes/databases/revoke-tokens";
import * as createToken from "./routes/databases/tokens";
import * as health from "./routes/health";

const ROUTES = [
  health,
  createDatabase,
  listDatabases,
  getDatabase,
  deleteDatabase,
  resolveDatabase,
  createToken,
  revokeTokens,
];

/** The control plane's HTTP API (internal: the functions and operators call it). */
export function buildControlPlaneApp(deps: {
  manager: DatabaseManager;
  adminToken: string;
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
  app.use(throttleFailedAuth(new AuthFailureThrottle(deps.authThrottle), clientOf));
  app.use(async (c, next) => {
    c.set("manager", deps.manager);
    c.set("adminToken", deps.adminToken);
    c.set("driver", deps.driver);
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
