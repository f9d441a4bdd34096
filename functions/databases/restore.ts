import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { RestoreRequestSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

const RestoreResultSchema = z
  .object({
    database: DatabaseSchema,
    restoredTo: z.string().openapi({
      format: "date-time",
      description: "The instant the database now reflects",
    }),
    backupId: z.string().openapi({ description: "The backup it was rebuilt from" }),
  })
  .openapi("RestoreResult");

export const route = createRoute({
  ...manifestRoute("databases/restore"),
  summary: "Restore a database to a backup, or to any instant within retention",
  description:
    "`{backupId}` restores a backup as it was taken; `{timestamp}` the database as it was at that instant (the last commit at or before it), from the newest backup before it and the changes archived since. In place, the database's worker stops, its file is swapped atomically and it starts again (open transactions and connections end); with `as`, a new database is created from it and the source is untouched. RESTORE_POINT_UNAVAILABLE (422) before the oldest backup; BACKUP_KEY_MISMATCH (422) when the backups were encrypted under another key. Needs backups:manage (and databases:create for `as`).",
  tags: ["Backups"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: RestoreRequestSchema } } },
  },
  responses: {
    200: {
      description: "Restored",
      content: { "application/json": { schema: RestoreResultSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 422, 429, 503, 507),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const result = await c
    .get("controlPlane")
    .restoreDatabase(bearerOf(c), name, c.req.valid("json"));
  return c.json({ ...result, database: publicDatabase(c, result.database) }, 200);
};

export default createFunctionApp().openapi(route, handler);
