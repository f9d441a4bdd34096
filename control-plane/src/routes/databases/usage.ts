import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  DatabaseUsageSchema,
  UsageQuerySchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { addUsage, zeroUsage } from "../../usage-ledger";
import { authorize, type ControlPlaneApp, usageWindow } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.databaseUsage,
  summary: "A database's usage in hourly buckets: statements, rows read and written, errors",
  security: bearerSecurity,
  request: { params: NameParams, query: UsageQuerySchema },
  responses: {
    200: {
      description: "Usage between `from` and `to`",
      content: { "application/json": { schema: DatabaseUsageSchema } },
    },
    ...problems(400, 401, 403, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    const { name } = c.req.valid("param");
    authorize(c, "usage:read", name);
    const manager = c.get("manager");
    const info = manager.get(name);
    const ledger = c.get("usage");
    // What the worker wrote since the last fold counts too.
    ledger.fold(name, manager.usageFile(name));
    const { from, to } = usageWindow(c.req.valid("query"));
    const hours = ledger.hours(name, from, to);
    const totals = hours.reduce(addUsage, zeroUsage());
    return c.json(
      {
        database: name,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        totals,
        storageBytes: info.sizeBytes,
        quotaBytes: info.quotaBytes,
        hours: hours.map((h) => ({ ...h, hour: new Date(h.hour).toISOString() })),
      },
      200,
    );
  });
}
