import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  UsageQuerySchema,
  UsageSummarySchema,
} from "../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../core/openapi";
import { scopeCovers } from "../../../core/permissions";
import { addUsage, zeroUsage } from "../usage-ledger";
import { authorize, type ControlPlaneApp, usageWindow } from "./context";

export const route = createRoute({
  ...CONTROL_PLANE_API.usage,
  summary: "Usage of every database in the credential's scope, with totals",
  security: bearerSecurity,
  request: { query: UsageQuerySchema },
  responses: {
    200: {
      description: "Usage between `from` and `to`",
      content: { "application/json": { schema: UsageSummarySchema } },
    },
    ...problems(400, 401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    const principal = authorize(c, "usage:read");
    const manager = c.get("manager");
    const ledger = c.get("usage");
    const { from, to } = usageWindow(c.req.valid("query"));
    const databases = manager.list().filter((db) => scopeCovers(principal.scope, db.name));
    for (const db of databases) ledger.fold(db.name, manager.usageFile(db.name));
    const byDatabase = ledger.totals(from, to);
    const totals = { ...zeroUsage(), storageBytes: 0 };
    const rows = databases.map((db) => {
      const usage = byDatabase.get(db.name) ?? zeroUsage();
      addUsage(totals, usage);
      totals.storageBytes += db.sizeBytes;
      return { database: db.name, ...usage, storageBytes: db.sizeBytes };
    });
    return c.json(
      {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        totals,
        databases: rows,
      },
      200,
    );
  });
}
