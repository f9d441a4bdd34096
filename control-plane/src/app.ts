import { createApp } from "../../functions/lib/app";
import type { DatabaseManager } from "./manager";
import type { ControlPlaneApp, ControlPlaneEnv } from "./routes/context";
import * as createDatabase from "./routes/databases/create";
import * as deleteDatabase from "./routes/databases/delete";
import * as getDatabase from "./routes/databases/get";
import * as listDatabases from "./routes/databases/list";
import * as resolveDatabase from "./routes/databases/resolve";
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
];

/** The control plane's HTTP API (internal: the functions and operators call it). */
export function buildControlPlaneApp(deps: {
  manager: DatabaseManager;
  adminToken: string;
  driver: string;
}): ControlPlaneApp {
  const app = createApp<ControlPlaneEnv>();
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
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "DB-Forge control plane", version: "0.1.0" },
  });
  return app;
}
