import { createRoute, z } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  DatabaseInfoSchema,
  RestoreRequestSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import type { RestorePoint } from "../../backups/backup-service";
import { audited, authorize, type ControlPlaneApp } from "../context";

export const RestoreResultSchema = z
  .object({
    database: DatabaseInfoSchema,
    restoredTo: z.string().openapi({
      format: "date-time",
      description: "The instant the database now reflects (the last commit at or before it)",
    }),
    backupId: z.string().openapi({ description: "The backup restored from" }),
  })
  .openapi("RestoreResult");

export const route = createRoute({
  ...CONTROL_PLANE_API.restoreDatabase,
  summary: "Restore a database to a backup or to any instant within retention",
  description:
    "In place (its worker stops, the file is swapped, it starts again) or, with `as`, into a new database, leaving the source untouched.",
  security: bearerSecurity,
  request: {
    params: NameParams,
    body: { required: true, content: { "application/json": { schema: RestoreRequestSchema } } },
  },
  responses: {
    200: {
      description: "Restored",
      content: { "application/json": { schema: RestoreResultSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 422, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const { backupId, timestamp, as } = c.req.valid("json");
    // Into a new database: the key must also be allowed to create it.
    if (as !== undefined) authorize(c, "databases:create", as);
    const point: RestorePoint =
      backupId !== undefined ? { backupId } : { timestamp: Date.parse(timestamp as string) };
    const result = await audited(
      c,
      {
        action: "database.restore",
        permission: "backups:manage",
        database: name,
        detail: { backupId, timestamp, as },
      },
      () => c.get("backups").restore(name, point, as),
    );
    return c.json(result, 200);
  });
}
